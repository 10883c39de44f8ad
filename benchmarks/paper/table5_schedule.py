"""Table V / Fig. 8 (§V.F): MLCP against MSIP and RS with profits from the measured accuracy gains.

    /work/venv/bin/python benchmarks/paper/table5_schedule.py [--quick] [--out DIR]
"""

from paper_run import main

if __name__ == "__main__":
    main("table5_schedule")
