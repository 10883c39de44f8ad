"""HiGHS as the Pyomo model here runs it (appsi_highs): options, warm start, status and bound in one place.

The schedule's MILP (`gaisnet_opt.schedule.milp`) solves through
`run_highs`; the joint and split rows go to HiGHS directly (`milp.py`, which
reads options, statuses and the bound the same way). The time limit is read
after appsi has handed the model over, so a call's budget covers that too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pyomo.environ as pyo
from pyomo.contrib.appsi.base import TerminationCondition
from pyomo.contrib.appsi.solvers import Highs

from gaisnet_opt.formulations.rows import SolverOptions
from gaisnet_opt.result import Status


@dataclass(frozen=True)
class HighsRun:
    """HiGHS's verdict: status, incumbent objective and dual bound (None: none), and its termination condition.

    With an incumbent, its values are loaded into the model's variables.
    """

    status: Status
    objective: float | None
    bound: float | None
    detail: str


_UPDATE_CHECKS = ("check_for_new_or_removed_constraints", "check_for_new_or_removed_vars",
                  "check_for_new_or_removed_params", "check_for_new_objective", "update_constraints", "update_vars",
                  "update_params", "update_named_expressions", "update_objective")
"""appsi's scans for model changes before each solve, all off: each model here is solved once, as built."""


def run_highs(model: pyo.ConcreteModel, opts: SolverOptions, warmstart: bool = False) -> HighsRun:
    """Solve `model` under `opts`; `warmstart`: the variables' current values are a starting incumbent."""
    solver = Highs()
    options: dict[str, object] = {"threads": opts.threads, "random_seed": opts.seed, "mip_rel_gap": opts.rel_gap,
                                  "mip_abs_gap": 0.0, "output_flag": opts.log_file is not None,
                                  "presolve": "on" if opts.presolve else "off"}
    if opts.feasibility_tolerance is not None:
        for name in ("mip_feasibility_tolerance", "primal_feasibility_tolerance", "dual_feasibility_tolerance"):
            options[name] = opts.feasibility_tolerance
    solver.highs_options = options
    solver.config.load_solution = False
    solver.config.stream_solver = False
    if opts.log_file is not None:
        solver.config.logfile = opts.log_file
    solver.config.warmstart = warmstart
    solver.set_instance(model)  # Pyomo → HiGHS: seconds on a large model, so the limit is read after it
    for check in _UPDATE_CHECKS:
        setattr(solver.update_config, check, False)  # the model is final: `solve` must not scan it again
    limit = opts.seconds()  # the call's budget (OutOfTime if spent), else time_limit_s
    if limit is not None:
        solver.config.time_limit = limit
    res = solver.solve(model)
    tc = res.termination_condition
    bound = res.best_objective_bound
    bound = float(bound) if bound is not None and math.isfinite(bound) else None
    if tc in (TerminationCondition.infeasible, TerminationCondition.infeasibleOrUnbounded):
        return HighsRun("infeasible", None, None, tc.name)
    if res.best_feasible_objective is None:
        return HighsRun("timeout" if tc == TerminationCondition.maxTimeLimit else "error", None, bound, tc.name)
    res.solution_loader.load_vars()
    status: Status = "optimal" if tc == TerminationCondition.optimal else "feasible"
    return HighsRun(status, float(res.best_feasible_objective), bound, tc.name)
