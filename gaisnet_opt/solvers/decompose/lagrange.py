"""The whole problem's Lagrangian bound at duals put together from the cells' (docs/model.md §7.4).

L(π) is a lower bound on every plan at any duals with node penalties ≥ 0
(`Master.bound_of` plus each start's least reduced cost below zero), so the
cells' best duals, each node's and request's from its own cell, give a bound
for the whole problem once every start is priced over the whole graph
(chains across cell borders included). The cells' fine-tuning rows are the
coupling step's split of one row, so the whole problem's single count dual μ
is chosen here: with a_s a lower bound on source s's least penalised cost,
its terms are μ·lo (μ·hi below zero) + Σ_s min(0, a_s − μ), concave in μ and
at its largest at one of the a_s (the lo cheapest sources' sum where they
are ≥ 0): the sources are priced at the cells' largest μ, cheapest first
until the lo cheapest are known, and the best μ below it taken.
"""

from __future__ import annotations

import math
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from gaisnet_opt.bounds.link_graph import LinkGraph
from gaisnet_opt.bounds.start_bounds import Start, StartBounds
from gaisnet_opt.budget import Budget
from gaisnet_opt.solvers.decompose.master import Master, Prices
from gaisnet_opt.solvers.decompose.pricing import Pricer

POPS = 100
"""Partial chains one start's search may expand (past it the heap's least estimate bounds its reduced cost): at
10,000 clients, seed 8001, K = 10, 500 / 150 / 60 gave 19221.4 / 19213.9 / 19191.1 in 10.7 / 6.9 / 4.8 s on 2
processes, load 1.2."""
SOURCE_BATCH = 20
"""Sources searched in the first batch at least (`_source_costs`; each next batch twice the last)."""


@dataclass(frozen=True)
class Duals:
    """One cell's best duals by node and request id (plain data, so it crosses processes): penalties > 0 only,
    and the fine-tuning row's dual (None: the cell has no fine-tuning)."""

    penalty: dict[str, float]
    request: dict[str, float]
    count: float | None

    @classmethod
    def of(cls, prices: Prices, graph: LinkGraph, finetunes: bool) -> Duals:
        penalty = {graph.ids[v]: float(p) for v, p in enumerate(prices.penalty) if p > 0}
        return cls(penalty, dict(prices.request), prices.count if finetunes else None)


def whole_bound(sb: StartBounds, duals: list[Duals], lo: int, hi: int, budget: Budget,
                workers: int = 1) -> tuple[float, bool]:
    """L at the cells' duals over the whole problem `sb` is built for, priced by `workers` processes, and
    whether every start was searched (False: the budget ran out, and the starts left keep the sweep's bound,
    still a bound). A request no cell priced takes its sweep bound as its dual (its reduced cost is then ≥ 0
    without a search)."""
    g = sb.graph
    penalty = np.zeros(len(g.ids))
    request: dict[str, float] = {}
    for d in duals:
        for node, p in d.penalty.items():
            penalty[g.index[node]] = p
        request.update(d.request)
    request = {r: request[r] if r in request else sb.relaxed(("inference", r), "energy") for r in sb.requests}
    counts = [d.count for d in duals if d.count is not None]
    top = max(0.0, *counts) if counts else 0.0
    prices = Prices(penalty, request, top)
    requests: list[Start] = [("inference", r) for r in sb.requests]
    least, complete = _price_all(sb, prices, sorted(requests, key=lambda s: (sb.key(s), s)), budget, workers)
    sources, done = _source_costs(sb, prices, lo, budget)
    bound = Master(g, sb.requests, lo, hi).bound_of(replace(prices, count=0.0))
    bound += sum(min(0.0, least[r]) for r in requests)
    return bound + count_term(sources, lo, hi, top), complete and done


def _source_costs(sb: StartBounds, prices: Prices, lo: int, budget: Budget) -> tuple[list[float], bool]:
    """A lower bound a_s on each source's least penalised cost, and whether the search below ended by its rule
    (False: the budget ran out). Searched cheapest-first by the sweep's bound, in batches, until lo exact values
    are no larger than the next sweep bound: the sources not searched then have a_s ≥ that lo-th smallest value,
    so they add nothing to the count terms at any μ up to it, where the concave maximum lies (and keep the
    sweep's bound, still a bound, for μ below zero)."""
    pricer = Pricer(sb, home=False)
    starts: list[Start] = [("finetune", s) for s in sb.sources]
    a = {s: pricer.cheap(s, prices) + prices.count for s in starts}
    order = sorted(starts, key=lambda s: (a[s], s))
    k, at, batch = max(lo, 1), 0, max(2 * lo, SOURCE_BATCH)
    while at < len(order):
        searched = sorted(a[s] for s in order[:at])
        if at >= k and searched[k - 1] <= a[order[at]]:
            return list(a.values()), True
        if budget.expired():
            return list(a.values()), False
        priced = pricer.price(order[at:at + batch], prices, cap=1, pops=POPS, until=budget)
        a.update({s: v + prices.count for s, v in priced.least.items()})
        if not priced.complete:  # the budget ran out inside the batch: the rest keep their sweep bound
            return list(a.values()), False
        at, batch = at + batch, 2 * batch
    return list(a.values()), True


_SHARED: tuple[StartBounds, Prices, Budget] | None = None
"""What `_price_part` reads in a forked worker (inherited, not pickled: the whole problem's figures)."""


def _price_part(starts: list[Start]) -> tuple[dict[Start, float], bool]:
    assert _SHARED is not None
    sb, prices, budget = _SHARED
    priced = Pricer(sb, home=False).price(starts, prices, cap=1, pops=POPS, until=budget)
    return priced.least, priced.complete


def _price_all(sb: StartBounds, prices: Prices, starts: list[Start], budget: Budget,
               workers: int) -> tuple[dict[Start, float], bool]:
    """Every start's least reduced cost (a lower bound), by `workers` forked processes that each price an equal
    run of the starts in key order (a key's figures and sweeps are built in one process, or two at a border)."""
    global _SHARED
    _SHARED = (sb, prices, budget)
    try:
        if workers <= 1 or len(starts) < 2 * workers:
            parts = [_price_part(starts)]
        else:
            size = -(-len(starts) // workers)
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
                parts = list(pool.map(_price_part, [starts[i:i + size] for i in range(0, len(starts), size)]))
    finally:
        _SHARED = None
    return {s: v for least, _ in parts for s, v in least.items()}, all(done for _, done in parts)


def count_term(least: list[float], lo: int, hi: int, top: float) -> float:
    """max over μ ≤ `top` of μ·lo (μ·hi when μ < 0) + Σ_s min(0, a_s − μ), `least` the a_s (lower bounds,
    exact below `top`); the function is concave and piecewise linear, so a breakpoint or 0 attains it."""
    if not least:
        return 0.0 if lo == 0 else -math.inf
    a = np.array(least)

    def at(mu: float) -> float:
        return mu * (lo if mu >= 0 else hi) + float(np.minimum(0.0, a - mu).sum())

    return max(at(mu) for mu in {0.0, top, *(float(x) for x in a[a <= top])})
