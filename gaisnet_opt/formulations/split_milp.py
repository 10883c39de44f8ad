"""The split as a MILP in Pyomo, solved by HiGHS (appsi_highs).

A unit flow from the start point's first segment to the end point's last:
x[s] = 1 when segment s (member, first, last) is used, w[h] = 1 when hop h
(sender, receiver, last unit sent) is. The maxima the latency objective
contains are auxiliary variables bounded below by each member's delivery and
upload time (a member uses at most one segment, so one row per member is
exact); the bottleneck objective bounds each member's stage and outgoing hop.
Coefficients are the `SplitInstance`'s, read from the cost-model table.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pyomo.environ as pyo
from pyomo.contrib.appsi.base import TerminationCondition
from pyomo.contrib.appsi.solvers import Highs

from gaisnet_opt.result import Status
from gaisnet_opt.solvers.split_table import Seg, SplitInstance

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


@dataclass(frozen=True)
class ExactOutcome:
    """What an exact model returns: status, the chosen segments (if any), its objective and proven bound."""

    status: Status
    segs: list[Seg] | None
    objective: float | None
    bound: float | None


def build_split_milp(inst: SplitInstance) -> pyo.ConcreteModel:
    """The Pyomo model of `inst`: flow conservation, max rows, objective."""
    model = pyo.ConcreteModel(name="split")
    n, k = inst.n_units, inst.n_members
    model.S = pyo.Set(initialize=range(len(inst.segs)))
    model.H = pyo.Set(initialize=range(len(inst.hops)))
    model.x = pyo.Var(model.S, domain=pyo.Binary)
    model.w = pyo.Var(model.H, domain=pyo.Binary)
    model.dl = pyo.Var(domain=pyo.NonNegativeReals)
    model.ul = pyo.Var(domain=pyo.NonNegativeReals)
    model.z = pyo.Var(domain=pyo.NonNegativeReals)

    ends_at, starts_at, of_member = defaultdict(list), defaultdict(list), defaultdict(list)
    for i, s in enumerate(inst.segs):
        starts_at[(s.m, s.first)].append(i)
        ends_at[(s.m, s.last)].append(i)
        of_member[s.m].append(i)
    sends, receives, sent_by = defaultdict(list), defaultdict(list), defaultdict(list)
    for i, h in enumerate(inst.hops):
        sends[(h.a, h.u)].append(i)
        receives[(h.b, h.u + 1)].append(i)
        sent_by[h.a].append(i)
    x, w = model.x, model.w

    model.begin = pyo.Constraint(expr=sum(x[i] for i in starts_at.get((0, 0), ())) == 1)
    model.finish = pyo.Constraint(expr=sum(x[i] for i in ends_at.get((k - 1, n - 1), ())) == 1)
    # a member ending at u hands on to exactly one later member; one starting at j > 0 received from one
    model.hand_on = pyo.ConstraintList()
    for (m, u), segs in ends_at.items():
        if u < n - 1:
            model.hand_on.add(sum(x[i] for i in segs) == sum(w[i] for i in sends.get((m, u), ())))
    for (m, u), hops in sends.items():
        if (m, u) not in ends_at:
            model.hand_on.add(sum(w[i] for i in hops) == 0)
    model.take_over = pyo.ConstraintList()
    for (m, j), hops in receives.items():
        model.take_over.add(sum(w[i] for i in hops) == sum(x[i] for i in starts_at.get((m, j), ())))
    for (m, j), segs in starts_at.items():
        if j > 0 and (m, j) not in receives:
            model.take_over.add(sum(x[i] for i in segs) == 0)

    model.max_rows = pyo.ConstraintList()
    for m, segs in of_member.items():
        if inst.weights.form == "bottleneck":
            ret = inst.return_stage if m == k - 1 else 0.0
            model.max_rows.add(
                model.z >= sum(inst.segs[i].stage * x[i] for i in segs) + sum(inst.hops[i].stage * w[i] for i in sent_by.get(m, ())) + ret
            )
        else:
            model.max_rows.add(model.dl >= sum(inst.segs[i].dl * x[i] for i in segs))
            model.max_rows.add(model.ul >= sum(inst.segs[i].ul * x[i] for i in segs))

    if inst.weights.form == "bottleneck":
        model.obj = pyo.Objective(expr=model.z, sense=pyo.minimize)
    else:
        model.obj = pyo.Objective(
            expr=sum(inst.segs[i].cost * x[i] for i in model.S) + sum(inst.hops[i].cost * w[i] for i in model.H)
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
