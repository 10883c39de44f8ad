"""Arc elimination: drop every arc through which no chain can meet the deadline or beat a known plan.

An arc whose every completion misses the deadline, or costs more than the
objective of a feasible plan (the warm start), lies on no optimal plan, so
the exact models lose nothing without it (the classic bounding test of
branch and bound: Land and Doig, "An automatic method of solving discrete
programming problems", Econometrica 28(3), 1960). The completions' costs
are lower bounds from `arc_bounds`; for energy, the joules every other
cluster must spend at least (`_others`) are added.
"""

from __future__ import annotations

import math
from collections import defaultdict

from gaisnet_opt.bounds.arc_bounds import arc_bounds
from gaisnet_opt.budget import Budget
from gaisnet_opt.instances.joint_table import JHop, JointTable, JSeg, reachable_arcs
from gaisnet_opt.result import Objective

SLACK = 1e-9
"""Relative slack on each comparison: an optimal plan's arcs survive summation order."""


def pruned(t: JointTable, objective: Objective, upper: float | None, deadline_s: float | None,
           min_clusters: int, budget: Budget | None = None) -> JointTable:
    """The table without arcs every chain through which misses the deadline or costs more than `upper`.

    `upper` is the objective value of a feasible plan (latency, energy or
    weighted; None for coverage), so an optimal plan keeps all its arcs:
    bounds are lower bounds (additive parts along the cheapest path through
    the arc, one member's delivery and upload for the maxima; for energy, the
    other clusters' cheapest chains are added: every request's and the
    cheapest `min_clusters` fine-tuning ones). `budget` is checked as it goes (`OutOfTime`).
    """
    budget = budget or Budget(None)
    th = arc_bounds(t, budget)
    slack = lambda v: v * (1 + SLACK) + 1e-12
    others = _others(t, th.start_j, min_clusters)
    kind = objective.kind
    wt = {"latency": 1.0, "weighted": objective.alpha}.get(kind, 0.0)
    we = {"energy": 1.0, "weighted": objective.beta}.get(kind, 0.0)

    def keep(start: int, secs: float, joules: float) -> bool:
        if deadline_s is not None and secs > slack(deadline_s):
            return False
        if upper is None or kind == "coverage":
            return math.isfinite(secs)
        return wt * secs + we * (joules + (others[start] if we else 0.0)) <= slack(upper)

    segs: defaultdict[int, list[JSeg]] = defaultdict(list)
    hops: defaultdict[int, list[JHop]] = defaultdict(list)
    for i, sg in enumerate(t.segs):
        budget.tick()
        if keep(sg.start, th.seg_s[i], th.seg_j[i]):
            segs[sg.start].append(sg)
    for i, hp in enumerate(t.hops):
        budget.tick()
        if keep(hp.start, th.hop_s[i], th.hop_j[i]):
            hops[hp.start].append(hp)
    kept_segs: list[JSeg] = []
    kept_hops: list[JHop] = []
    for s, st in enumerate(t.starts):
        budget.check()
        a, b = reachable_arcs(segs[s], hops[s], st.node, t.n_units)
        kept_segs += a
        kept_hops += b
    return JointTable(t.scenario, t.starts, kept_segs, kept_hops, t.cache)


def _others(t: JointTable, cheapest: list[float], min_clusters: int) -> list[float]:
    """Per start, the joules the rest of any plan spends at least: every other start point's request, the cheapest
    other fine-tuning clusters (a start point's cheapest over its servers)."""
    best: dict[str, float] = {}
    for s, st in enumerate(t.starts):
        best[st.node] = min(best.get(st.node, math.inf), cheapest[s])
    required = {st.node for st in t.starts if st.required}
    finetune = sorted((best[node], node) for node in {st.node for st in t.starts if st.kind == "finetune"})
    out = []
    for st in t.starts:
        fixed = sum(best[r] for r in required if r != st.node)
        need = min_clusters - (st.kind == "finetune")
        picks = [c for c, node in finetune if node != st.node][: max(need, 0)]
        out.append(fixed + sum(picks))
    return out
