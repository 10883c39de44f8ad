"""CP-SAT as every model here runs it: without presolve, and an INFEASIBLE from several workers re-checked by one.

OR-Tools 9.15.6755's presolve returned wrong answers on our joint models: a
false INFEASIBLE (google/or-tools#5274) and wrong OPTIMAL values, at probing
level 0 and at the default settings alike (the cases, found by hypothesis,
are in tests/data/cpsat_presolve_*.json and tests/formulations/test_cpsat_run.py). Without
presolve the same models solve correctly and no slower (generated scenarios,
latency objective: 20 clients 1.9 s against 4.1 s, 50 clients 7.8 s against
16.3 s, 100 clients 15.2 s against 18.0 s). Without presolve, ten or more
workers can return a false INFEASIBLE at the root (google/or-tools#5295), so
an infeasibility found by several workers is re-checked once by one worker,
in the time left; that run's answer is the one reported.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

WORKERS_RECHECK = "several workers said INFEASIBLE; re-solved by one (or-tools#5295)"


def new_solver(threads: int, seed: int, time_limit_s: float | None) -> cp_model.CpSolver:
    """A CP-SAT solver with `threads` workers, `seed`, the time limit (None: none) and presolve off."""
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.num_workers = threads
    p.random_seed = seed
    p.cp_model_presolve = False
    if time_limit_s is not None:
        p.max_time_in_seconds = time_limit_s
    return solver


def solve_rechecked(solver: cp_model.CpSolver, model: cp_model.CpModel) -> tuple[cp_model.CpSolverStatus, str]:
    """Solve `model`; an INFEASIBLE from several workers is solved again by one. The status code and a note ('' if none)."""
    code = solver.solve(model)
    p = solver.parameters
    if code != cp_model.INFEASIBLE or p.num_workers == 1:
        return code, ""
    p.max_time_in_seconds = max(0.01, p.max_time_in_seconds - solver.wall_time)  # the default is +inf
    p.num_workers = 1
    return solver.solve(model), WORKERS_RECHECK
