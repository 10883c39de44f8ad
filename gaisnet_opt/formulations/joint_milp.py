"""The joint model as a Pyomo MILP solved by HiGHS (appsi_highs): one row of Pyomo per row of `formulate`."""

from __future__ import annotations

import math

import pyomo.environ as pyo
from pyomo.contrib.appsi.base import TerminationCondition
from pyomo.contrib.appsi.solvers import Highs
from pyomo.core.expr.numeric_expr import LinearExpression

from gaisnet_opt.formulations.joint_model import ExactRun, JointModel, SolverOptions

PRESOLVE = "off"
"""HiGHS's presolve spends seconds probing this model's many implications and gains little (measured:
20 clients, 3 clusters: 2.8 s off vs 6.9 s on for latency, 11 s vs 17 s for energy)."""


def build_joint_milp(jm: JointModel) -> pyo.ConcreteModel:
    """The Pyomo model: variables x[i] (binary or bounded continuous), one ConstraintList per rule group."""
    model = pyo.ConcreteModel(name="joint")
    idx = range(len(jm.binary))
    model.x = pyo.Var(idx, within=lambda _, i: pyo.Binary if jm.binary[i] else pyo.NonNegativeReals,
                      bounds=lambda _, i: (0.0, jm.upper[i]))
    x = model.x

    def expr(terms):
        return LinearExpression(constant=0.0, linear_coefs=[c for _, c in terms], linear_vars=[x[v] for v, _ in terms])

    for group, rows in jm.groups.items():
        block = pyo.ConstraintList()
        model.add_component(group.replace("-", "_"), block)
        for row in rows:
            if row.terms:  # an empty row is either trivially true or caught by `empty_row_broken` before
                block.add((row.lo, expr(row.terms), row.hi))
    model.obj = pyo.Objective(expr=expr(jm.goal) if jm.goal else 0.0,
                              sense=pyo.maximize if jm.maximize else pyo.minimize)
    return model


def solve_joint_milp(jm: JointModel, opts: SolverOptions) -> ExactRun:
    """Solve with HiGHS under `opts`; the incumbent (if any) and HiGHS's dual bound."""
    model = build_joint_milp(jm)
    solver = Highs()
    solver.highs_options = {"threads": opts.threads, "random_seed": opts.seed, "mip_rel_gap": opts.rel_gap,
                            "output_flag": opts.log_file is not None, "presolve": PRESOLVE}
    solver.config.load_solution = False
    solver.config.stream_solver = False
    if opts.log_file is not None:
        solver.config.logfile = opts.log_file
    if opts.time_limit is not None:
        solver.config.time_limit = opts.time_limit
    if opts.hint is not None:
        for i, v in enumerate(opts.hint):
            model.x[i].set_value(v, skip_validation=True)
        solver.config.warmstart = True
    res = solver.solve(model)
    tc = res.termination_condition
    bound = res.best_objective_bound
    bound = bound if bound is not None and math.isfinite(bound) else None
    if tc in (TerminationCondition.infeasible, TerminationCondition.infeasibleOrUnbounded):
        return ExactRun("infeasible", None, None)
    if res.best_feasible_objective is None:
        status = "timeout" if tc == TerminationCondition.maxTimeLimit else "error"
        return ExactRun(status, None, bound, detail=str(tc))
    res.solution_loader.load_vars()
    values = [pyo.value(model.x[i]) or 0.0 for i in range(len(jm.binary))]
    return ExactRun("optimal" if tc == TerminationCondition.optimal else "feasible", values, bound, detail=str(tc))
