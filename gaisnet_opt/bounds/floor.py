"""The relaxation floor: lower bounds on any plan's round latency and energy, valid for the whole problem.

Every request is served and at least `min_clusters` distinct data sources
start clusters, each no cheaper than its cheapest chain (`cheapest_chain`,
with or without an edge server), and at most the edge servers' slots of them
use one. The floor holds whatever candidate limit restricts the exact
models, so a plan that meets it is optimal for the whole problem
(docs/model.md §7.1); stated as rows it also lifts the models' LP bound.
"""

from __future__ import annotations

import math

from gaisnet_opt.bounds.cheapest_chain import ToHead, cheapest_chain, to_head
from gaisnet_opt.budget import Budget
from gaisnet_opt.instances.candidates import adjacency, server_choices
from gaisnet_opt.instances.split_table import TableCache
from gaisnet_opt.plan import ClusterKind
from gaisnet_opt.result import Objective
from gaisnet_opt.scenario import Scenario

REQUEST_FLOORS = 10
"""Requests whose cheapest chain `floors` computes (each needs its own sweep: its result returns to it)."""

StartBound = tuple[ClusterKind, tuple[float, float], tuple[float, float]]
"""A start point's kind and its (seconds, joules) bounds with and without an edge server in the chain."""


def floors(scenario: Scenario, cache: TableCache, min_clusters: int,
           budget: Budget | None = None) -> tuple[float, float]:
    """Lower bounds on any plan's round latency and energy.

    Latency: the smallest z such that every request and `min_clusters`
    sources have a chain within z, those needing an edge server no more than
    the slots (`_bottleneck`). Energy: the requests' plus the `min_clusters`
    cheapest sources' bounds. Requests count only when there are at most
    `REQUEST_FLOORS` of them (else they are left out: still a bound). Each
    start point's bounds are the least over the servers it may be served by
    (`server_choices`). `budget` is checked per start point and sweep node (`OutOfTime`).
    """
    adj = adjacency(scenario)
    slots = sum(e.slots for e in scenario.edges)
    starts: list[tuple[ClusterKind, str]] = []
    if len(scenario.requesters) <= REQUEST_FLOORS:
        starts += [("inference", r.id) for r in scenario.requesters]
    if min_clusters:
        starts += [("finetune", d.id) for d in scenario.data_sources if d.request is None]
    sweeps: dict[tuple[int, str | None, bool], ToHead] = {}
    bounds: list[StartBound] = []
    for kind, start in starts:
        if budget is not None:
            budget.check()
        ret = start if kind == "inference" else None  # fine-tuning clusters on one server share table and sweeps
        both = [(math.inf, math.inf), (math.inf, math.inf)]  # with and without an edge server in the chain
        for server in server_choices(scenario, kind, start, cache):
            table = cache.for_start(kind, start, server)
            for i, edges in enumerate((True, False)):
                key = (id(table), ret, edges)
                if key not in sweeps:
                    sweeps[key] = to_head(scenario, table, adj, ret, edges, budget)
                secs, joules = cheapest_chain(table, start, sweeps[key])
                both[i] = (min(both[i][0], secs), min(both[i][1], joules))
        bounds.append((kind, both[0], both[1]))
    latency = _bottleneck(bounds, min_clusters, slots)
    fine_j = sorted(w[1] for kind, w, _ in bounds if kind == "finetune")
    energy = sum(w[1] for kind, w, _ in bounds if kind == "inference") + sum(fine_j[:min_clusters])
    return latency, energy


def _bottleneck(bounds: list[StartBound], k: int, slots: int) -> float:
    """The least z at which every request and k sources fit within z, edge-server users within the slots."""
    for z in sorted({b[0] for _, w, wo in bounds for b in (w, wo)} | {0.0}):
        requests = [(w[0], wo[0]) for kind, w, wo in bounds if kind == "inference"]
        if any(w > z for w, _ in requests):
            continue
        left = slots - sum(wo > z for _, wo in requests)
        sources = [(w[0], wo[0]) for kind, w, wo in bounds if kind == "finetune"]
        alone = sum(wo <= z for _, wo in sources)
        served = sum(w <= z < wo for w, wo in sources)
        if left >= 0 and alone + min(served, left) >= k:
            return z
    return math.inf


def floor_value(objective: Objective, low: tuple[float, float]) -> float | None:
    """The objective's lower bound from the latency and energy floors (None for coverage or no finite floor)."""
    match objective.kind:
        case "latency":
            value = low[0]
        case "energy":
            value = low[1]
        case "weighted":
            value = objective.alpha * low[0] + objective.beta * low[1]
        case _:
            return None
    return value if math.isfinite(value) else None
