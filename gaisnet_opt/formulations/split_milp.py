"""The split as a MILP in Pyomo, solved by HiGHS (appsi_highs).

A unit flow from the start point's first segment to the end point's last:
x[s] = 1 when segment s (member, first, last) is used, w[h] = 1 when hop h
(sender, receiver, last unit sent) is. The maxima the latency objective
contains are auxiliary variables bounded below by each member's delivery and
upload time (a member uses at most one segment, so one row per member is
exact); the bottleneck objective bounds each member's stage and outgoing hop.
A latency deadline is one more row over the raw seconds, its maxima modelled
the same way. Coefficients are the `SplitInstance`'s, read from the cost-model table.
"""

from __future__ import annotations

import pyomo.environ as pyo
from pyomo.contrib.appsi.base import TerminationCondition
from pyomo.contrib.appsi.solvers import Highs

from gaisnet_opt.result import Status
from gaisnet_opt.solvers.split_table import ExactOutcome, SplitInstance

HIGHS_OPTIONS = {
    "mip_rel_gap": 0.0,
    "mip_abs_gap": 0.0,
    "mip_feasibility_tolerance": 1e-9,
    "primal_feasibility_tolerance": 1e-9,
    "dual_feasibility_tolerance": 1e-9,
    "threads": 1,
    "random_seed": 0,
}
"""Exactness over speed: DP and MILP must agree to 1e-9 relative; one thread and a seed for determinism."""


def build_split_milp(inst: SplitInstance) -> pyo.ConcreteModel:
    """The Pyomo model of `inst`: flow rows, max rows, objective."""
    model = pyo.ConcreteModel(name="split")
    rows, segs, hops = inst.rows, inst.segs, inst.hops
    model.S = pyo.Set(initialize=range(len(segs)))
    model.H = pyo.Set(initialize=range(len(hops)))
    x = model.x = pyo.Var(model.S, domain=pyo.Binary)
    w = model.w = pyo.Var(model.H, domain=pyo.Binary)
    model.dl = pyo.Var(domain=pyo.NonNegativeReals)
    model.ul = pyo.Var(domain=pyo.NonNegativeReals)
    model.z = pyo.Var(domain=pyo.NonNegativeReals)

    model.begin = pyo.Constraint(expr=sum(x[i] for i in rows.begin) == 1)
    model.finish = pyo.Constraint(expr=sum(x[i] for i in rows.finish) == 1)
    model.balance = pyo.ConstraintList()
    for seg_ids, hop_ids in rows.balance:
        model.balance.add(sum(x[i] for i in seg_ids) == sum(w[i] for i in hop_ids))

    model.max_rows = pyo.ConstraintList()
    for m, seg_ids, sent in rows.members:
        if inst.weights.form == "bottleneck":
            ret = inst.return_s if m == inst.n_members - 1 else 0.0
            model.max_rows.add(model.z >= sum(segs[i].stage * x[i] for i in seg_ids) + sum(hops[i].stage * w[i] for i in sent) + ret)
        else:
            model.max_rows.add(model.dl >= sum(segs[i].dl * x[i] for i in seg_ids))
            model.max_rows.add(model.ul >= sum(segs[i].ul * x[i] for i in seg_ids))

    if inst.latency_cap is not None:  # the cluster's latency in raw seconds, its maxima as for the objective
        model.dl_s = pyo.Var(domain=pyo.NonNegativeReals)
        model.ul_s = pyo.Var(domain=pyo.NonNegativeReals)
        for _, seg_ids, _ in rows.members:
            model.max_rows.add(model.dl_s >= sum(segs[i].dl_s * x[i] for i in seg_ids))
            model.max_rows.add(model.ul_s >= sum(segs[i].ul_s * x[i] for i in seg_ids))
        model.deadline = pyo.Constraint(
            expr=model.dl_s + model.ul_s + sum(s.time * x[i] for i, s in enumerate(segs))
            + sum(h.time * w[i] for i, h in enumerate(hops)) + inst.return_s <= inst.latency_cap
        )

    if inst.weights.form == "bottleneck":
        model.obj = pyo.Objective(expr=model.z, sense=pyo.minimize)
    else:
        model.obj = pyo.Objective(
            expr=sum(s.cost * x[i] for i, s in enumerate(segs)) + sum(h.cost * w[i] for i, h in enumerate(hops))
            + model.dl + model.ul + inst.constant,
            sense=pyo.minimize,
        )
    return model


def solve_split_milp(inst: SplitInstance, time_limit: float | None = None) -> ExactOutcome:
    """Build and solve with HiGHS; the segments of the incumbent, HiGHS's objective and dual bound."""
    model = build_split_milp(inst)
    solver = Highs()
    solver.highs_options = dict(HIGHS_OPTIONS)
    solver.config.load_solution = False
    solver.config.stream_solver = False
    if time_limit is not None:
        solver.config.time_limit = time_limit
    res = solver.solve(model)
    tc = res.termination_condition
    if tc in (TerminationCondition.infeasible, TerminationCondition.infeasibleOrUnbounded):
        return ExactOutcome("infeasible", None, None, None)
    if res.best_feasible_objective is None:
        status: Status = "timeout" if tc == TerminationCondition.maxTimeLimit else "error"
        return ExactOutcome(status, None, None, res.best_objective_bound)
    res.solution_loader.load_vars()
    segs = [inst.segs[i] for i in model.S if pyo.value(model.x[i]) > 0.5]
    status = "optimal" if tc == TerminationCondition.optimal else "feasible"
    return ExactOutcome(status, segs, res.best_feasible_objective, res.best_objective_bound)
