"""Fig. 6 (§V.A-B): fine-tuning from the pre-trained backbone against training from scratch.

    /work/venv/bin/python benchmarks/paper/fig6_pretraining.py [--quick] [--out DIR]
"""

from paper_run import main

if __name__ == "__main__":
    main("fig6_pretraining")
