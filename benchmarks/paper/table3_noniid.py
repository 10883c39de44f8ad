"""Table III (§V.D): 1 to 5 classes per client (non-IID), first and end accuracy.

    /work/venv/bin/python benchmarks/paper/table3_noniid.py [--quick] [--out DIR]
"""

from paper_run import main

if __name__ == "__main__":
    main("table3_noniid")
