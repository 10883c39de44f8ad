"""A `LinearModel` as a Pyomo MILP solved by HiGHS: one Pyomo row per row, one ConstraintList per rule group."""

from __future__ import annotations

from dataclasses import replace

import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from gaisnet_opt.formulations.highs import run_highs
from gaisnet_opt.formulations.rows import ExactRun, LinearModel, SolverOptions, Terms


def build_milp(lm: LinearModel, name: str = "model", opts: SolverOptions | None = None) -> pyo.ConcreteModel:
    """The Pyomo model: variables x[i] (binary or bounded continuous), one ConstraintList per rule group
    (`opts`' budget checked per row)."""
    tick = opts.tick if opts is not None else lambda: None
    model = pyo.ConcreteModel(name=name)
    idx = range(len(lm.binary))
    model.x = pyo.Var(idx, within=lambda _, i: pyo.Binary if lm.binary[i] else pyo.NonNegativeReals,
                      bounds=lambda _, i: (0.0, lm.upper[i]))
    x = model.x

    def expr(terms: Terms, constant: float = 0.0) -> LinearExpression:
        return LinearExpression(constant=constant, linear_coefs=[c for _, c in terms],
                                linear_vars=[x[v] for v, _ in terms])

    for group, rows in lm.groups.items():
        block = pyo.ConstraintList()
        model.add_component(group.replace("-", "_"), block)
        for row in rows:
            tick()
            if row.terms:  # an empty row is either trivially true or caught by `empty_row_broken` before
                block.add((row.lo, expr(row.terms), row.hi))
    goal = expr(lm.goal, lm.goal_constant) if lm.goal else lm.goal_constant
    model.obj = pyo.Objective(expr=goal, sense=pyo.maximize if lm.maximize else pyo.minimize)
    return model


def solve_milp(lm: LinearModel, opts: SolverOptions, name: str = "model") -> ExactRun:
    """Solve with HiGHS under `opts`; the incumbent (if any) and HiGHS's dual bound."""
    if (broken := lm.empty_row_broken()) is not None:  # build_milp leaves empty rows out
        return ExactRun("infeasible", None, None, detail=f"a {broken} row has no variable left")
    model = build_milp(lm, name, opts)
    if opts.hint is not None:
        for i, v in enumerate(opts.hint):
            model.x[i].set_value(v, skip_validation=True)
    run = run_highs(model, replace(opts, time_limit_s=opts.seconds(), budget=None), warmstart=opts.hint is not None)
    if run.objective is None:
        return ExactRun(run.status, None, run.bound, detail=run.detail)
    values = [pyo.value(model.x[i]) or 0.0 for i in range(len(lm.binary))]
    return ExactRun(run.status, values, run.bound, detail=run.detail)
