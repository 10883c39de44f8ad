"""Table IV (§V.E) and EcoGen's Table 3: 1 to 6 fine-tuning clusters, first and end accuracy.

    /work/venv/bin/python benchmarks/paper/table4_clusters.py [--quick] [--out DIR]
"""

from paper_run import main

if __name__ == "__main__":
    main("table4_clusters")
