"""The relaxation floor: lower bounds on any plan's round latency and energy, valid for the whole problem.

Every request is served and at least `min_clusters` distinct data sources
start clusters, each no cheaper than its start point's cheapest cluster, and
at most the edge servers' slots of them use one. Only disjointness between
clusters is relaxed, so a plan that meets the floor is optimal for the whole
problem (docs/model.md §7.1); stated as rows it also lifts the models' LP
bound. Each start's figure is the chain search's (`StartBounds.lower`),
exact unless it runs past `start_bounds.FLOOR_POPS` expansions (many
identical devices tie), then the least estimate left on its heap, a bound
on every chain it did not reach; exact, it is never below the previous
Pareto-sweep relaxation. A request's latency search runs only while its
sweep bound exceeds the largest exact value so far (below, it cannot raise
the bottleneck), a source's only while it can be among the `min_clusters`
cheapest; the others keep the sweep's bound, still a bound.
"""

from __future__ import annotations

import math

from gaisnet_opt.bounds.start_bounds import Start, StartBounds
from gaisnet_opt.budget import Budget
from gaisnet_opt.plan import ClusterKind
from gaisnet_opt.result import Objective
from gaisnet_opt.scenario import Scenario

REQUEST_SEARCHES = 10
"""Up to this many requests, each request's energy bound is its exact search; beyond, the sweep's bound."""

StartBound = tuple[ClusterKind, float, float]
"""A start point's kind and its latency bounds with and without an edge server in the chain."""


def floors(scenario: Scenario, min_clusters: int, budget: Budget | None = None,
           starts: StartBounds | None = None) -> tuple[float, float]:
    """Lower bounds on any plan's round latency and energy.

    Latency: the smallest z such that every request and `min_clusters`
    sources have a cluster within z, those needing an edge server no more
    than the slots (`_bottleneck`). Energy: the requests' plus the
    `min_clusters` cheapest sources' bounds (the search has its own arrays,
    so no split-table cache is taken); `budget` is checked per start point and inside its search;
    `starts` reuses the searches a caller already has; when they sweep no energy estimates (`StartBounds.energy`
    False) the energy floor is 0, which any plan meets.
    """
    sb = starts if starts is not None else StartBounds(scenario, budget=budget)
    bounds: list[StartBound] = []
    energy = 0.0
    bounds += [("inference", w, wo) for w, wo in _requests(sb, budget)]
    for r in sb.requests if sb.energy else ():
        _check(budget)
        start: Start = ("inference", r)
        energy += sb.lower(start, "energy").value if len(sb.requests) <= REQUEST_SEARCHES else sb.relaxed(start, "energy")
    if min_clusters:
        bounds += [("finetune", w, wo) for w, wo in _sources(sb, "latency", min_clusters, budget)]
    if min_clusters and sb.energy:
        joules = sorted(w for w, _ in _sources(sb, "energy", min_clusters, budget))
        energy += sum(joules[:min_clusters]) if len(joules) >= min_clusters else math.inf
    slots = sum(e.slots for e in scenario.edges)
    return _bottleneck(bounds, min_clusters, slots), energy


def _check(budget: Budget | None) -> None:
    if budget is not None:
        budget.check()


def _both(sb: StartBounds, start: Start, objective: str) -> tuple[float, float]:
    """The latency bound with an edge server allowed in the chain and without (searched only if the cheapest
    chain found uses one); the energy bound twice (slots do not enter the energy floor). A search cut at
    `StartBounds.floor_pops` gives its heap's least estimate for both: the cheapest chain without an edge server
    is no cheaper than the cheapest with one allowed, and that is no cheaper than the estimate."""
    low = sb.lower(start, objective)
    if low.chain is None or objective == "energy" or not sb.uses_edge(low.chain):
        return low.value, low.value
    return low.value, max(low.value, sb.lower(start, objective, edges=False).value)


def _requests(sb: StartBounds, budget: Budget | None) -> list[tuple[float, float]]:
    """Each request's latency `_both`, searched in decreasing order of the sweep's bound while that bound
    exceeds the largest exact value so far; the sweep's bound (twice) for the rest, which cannot raise the
    bottleneck's z above that value (it only leaves more slots)."""
    top, out = 0.0, []
    low = sb.relax_all([("inference", r) for r in sb.requests], "latency")
    for r in sorted(sb.requests, key=lambda r: (-low[("inference", r)], r)):
        lo = low[("inference", r)]
        if lo <= top:
            out.append((lo, lo))
            continue
        _check(budget)
        out.append(_both(sb, ("inference", r), "latency"))
        top = max(top, out[-1][0])
    return out


def _sources(sb: StartBounds, objective: str, k: int, budget: Budget | None) -> list[tuple[float, float]]:
    """Each source's `_both`: searched in increasing order of the sweep's bound until the k smallest exact
    values without an edge server are no larger than the next source's sweep bound; the sweep's bound (twice)
    for the rest, which changes neither floor (k sources already fit within anything they could claim)."""
    exact: list[float] = []
    out: list[tuple[float, float]] = []
    for s in sorted(sb.sources, key=lambda s: (sb.relaxed(("finetune", s), objective), s)):
        lo = sb.relaxed(("finetune", s), objective)
        if len(exact) >= k and sorted(exact)[k - 1] <= lo:
            out.append((lo, lo))
            continue
        _check(budget)
        out.append(_both(sb, ("finetune", s), objective))
        exact.append(out[-1][1])
    return out


def _bottleneck(bounds: list[StartBound], k: int, slots: int) -> float:
    """The least z at which every request and k sources fit within z, edge-server users within the slots."""
    requests = [(w, wo) for kind, w, wo in bounds if kind == "inference"]
    sources = [(w, wo) for kind, w, wo in bounds if kind == "finetune"]
    for z in sorted({b for _, w, wo in bounds for b in (w, wo)} | {0.0}):
        if any(w > z for w, _ in requests):
            continue
        left = slots - sum(wo > z for _, wo in requests)
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
