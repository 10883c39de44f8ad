"""Optimization models (Pyomo MILP for HiGHS, OR-Tools CP-SAT), one function building each."""
