"""Fig. 7 (§V.C): VPT (frozen backbone, prompts) against full fine-tuning, accuracy and time per epoch.

    /work/venv/bin/python benchmarks/paper/fig7_peft_vs_full.py [--quick] [--out DIR]
"""

from paper_run import main

if __name__ == "__main__":
    main("fig7_peft_vs_full")
