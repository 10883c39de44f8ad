"""Run CP-SAT so that an INFEASIBLE answer is one its presolve cannot have made up.

OR-Tools 9.15.6755's presolve can declare a feasible model infeasible
(google/or-tools#5274, fixed after that release; we hit it on a 27-variable
joint model with `cp_model_probing_level = 0`: presolve reports "linear: never
in domain"). An infeasibility claim is therefore re-checked once with presolve
off, in the time that is left; that run's answer is the one reported.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

PRESOLVE_RECHECK = "presolve said INFEASIBLE; re-solved without presolve (or-tools#5274)"


def solve_rechecked(solver: cp_model.CpSolver, model: cp_model.CpModel) -> tuple[int, str]:
    """Solve `model`; on INFEASIBLE solve again without presolve. Returns the status code and a note ('' if none)."""
    code = solver.solve(model)
    if code != cp_model.INFEASIBLE or not solver.parameters.cp_model_presolve:
        return code, ""
    p = solver.parameters
    p.max_time_in_seconds = max(0.01, p.max_time_in_seconds - solver.wall_time)  # the default is +inf
    p.cp_model_presolve = False
    return solver.solve(model), PRESOLVE_RECHECK
