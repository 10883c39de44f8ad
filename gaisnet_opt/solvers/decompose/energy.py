"""The energy objective (a sum over clusters) by column generation, price-and-branch and reduced-cost
enumeration.

The LP over the columns so far gives duals; each start point's pricing is
the exact chain search with the node duals as penalties (`chain_search`),
skipped where its unpenalised optimum already proves a non-negative reduced
cost. At any iteration LP + Σ_starts min(0, least reduced cost) is a lower
bound (each start opens at most one cluster: its own node's row). Once no
column prices out, the MILP over the columns gives a plan; if it is above
the LP bound, every column whose reduced cost is within the gap is added
(no better plan can use any other, Baldacci, Christofides and Mingozzi,
Math. Prog. 115, 2008) and the MILP solved again: with no start capped, its
optimum is the problem's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from gaisnet_opt.bounds.chain_search import Chain
from gaisnet_opt.bounds.start_bounds import Start, StartBounds
from gaisnet_opt.budget import Budget, OutOfTime
from gaisnet_opt.plan import ClusterKind
from gaisnet_opt.solvers.decompose.master import Column, Master, Prices, Solved
from gaisnet_opt.solvers.decompose.trace import Trace

EPS = 1e-9
ENUM_CAP = 200
"""Columns per start the enumeration adds at most; past it the MILP proves nothing beyond its own columns."""
PRICE_POPS = 400
"""Partial chains one pricing search may expand; past it the heap's least estimate bounds the reduced cost."""
RESERVE = 0.35
"""Share of the budget kept for price-and-branch: column generation stops when only this much is left."""
SEED_POPS = 300
ENUM_POPS = 20000
"""Partial chains a seeding or enumerating search may expand (an enumeration cut short proves nothing)."""
SEED_COLUMNS = 4
"""Cheapest clusters per start the pool begins with, so the first MILP already packs a plan."""
SEED_SOURCES = 5
"""Sources beyond the service's minimum whose cheapest cluster starts the pool (pricing adds the rest)."""
PRICE_CAP = 3
"""Columns per start one pricing round adds at most (the most negative reduced costs)."""


@dataclass
class ColumnPool:
    """Columns so far, without repeats."""

    columns: list[Column] = field(default_factory=list)
    keys: set[tuple] = field(default_factory=set)

    def add(self, column: Column) -> bool:
        if column.key in self.keys:
            return False
        self.keys.add(column.key)
        self.columns.append(column)
        return True


@dataclass
class Outcome:
    """The best integer solution's columns (None: none), a lower bound, whether it is proven optimal, notes."""

    chosen: list[Column] | None
    value: float
    bound: float
    notes: list[str]


def _column(kind: ClusterKind, start: str, chain: Chain, objective: str) -> Column:
    """A column priced by `objective` (energy: its joules; latency: 0, feasibility only)."""
    return Column(kind, start, chain, chain.energy_j if objective == "energy" else 0.0)


def chosen_columns(columns: list[Column], solved: Solved) -> list[Column] | None:
    """The columns an integer solution picks (None: it needs an artificial, so no plan)."""
    if solved.artificial or not math.isfinite(solved.value):
        return None
    return [c for c, x in zip(columns, solved.x, strict=True) if x > 0.5]


def solve_energy(sb: StartBounds, master: Master, starts: list[Start], budget: Budget, seed: int,
                 trace: Trace) -> Outcome:
    """Column generation, then price-and-branch, then enumeration within the gap (see the module docstring);
    the final plan and bound go to `trace`."""
    pool = ColumnPool()
    notes: list[str] = []
    sources = sorted((s for s in starts if s[0] == "finetune"), key=lambda s: (sb.relaxed(s, "energy"), s))
    for s in [x for x in starts if x[0] == "inference"] + sources[: master.lo + SEED_SOURCES]:
        if sb.best(s, "energy") is not None:
            search = sb.search(s, "energy")
            for edges in (True, False):  # without edge servers too: their slots are few
                for chain in search.chains(sb.graph.index[s[1]], cap=SEED_COLUMNS, edges=edges, pops=SEED_POPS):
                    pool.add(_column(s[0], s[1], chain, "energy"))
    with budget.phase("price-and-branch"):
        first = master.solve(pool.columns, True, budget.left() * 0.2 if math.isfinite(budget.left()) else 60.0, seed)
    incumbent = chosen_columns(pool.columns, first)
    bound, prices = -math.inf, None
    try:
        with budget.phase("column generation"):
            bound, prices, rounds = _generate(sb, master, pool, starts, budget, seed)
        notes.append(f"column generation: {rounds} rounds, {len(pool.columns)} columns, LP bound {bound:.6g}")
    except OutOfTime:
        notes.append("column generation stopped by the time limit")
    with budget.phase("price-and-branch"):
        mip = master.solve(pool.columns, True, budget.left() * 0.5 if math.isfinite(budget.left()) else 60.0, seed)
    chosen = chosen_columns(pool.columns, mip)
    if chosen is None or (incumbent is not None and sum(c.cost for c in incumbent) < sum(c.cost for c in chosen)):
        chosen = incumbent
    value = sum(c.cost for c in chosen) if chosen is not None else math.inf
    if chosen is not None and prices is not None and value > bound * (1 + 1e-9) and not budget.expired():
        try:
            with budget.phase("enumeration"):
                capped = _enumerate(sb, pool, starts, prices, value - bound, budget)
        except OutOfTime:
            capped = -1
        with budget.phase("price-and-branch"):
            mip = master.solve(pool.columns, True, budget.left() * 0.8 if math.isfinite(budget.left()) else 60.0, seed)
        better = chosen_columns(pool.columns, mip)
        if better is not None and sum(c.cost for c in better) <= value:
            chosen, value = better, sum(c.cost for c in better)
        if capped == 0 and mip.status == "optimal" and better is not None:
            bound = max(bound, min(value, mip.bound))
            notes.append("enumeration within the gap was complete: the MILP over it is optimal")
        else:
            notes.append("enumeration within the gap stopped by the time limit" if capped < 0
                         else f"enumeration capped at {ENUM_CAP} columns for {capped} starts" if capped
                         else "the MILP over the enumerated columns hit its time limit")
    trace.plan(value)
    trace.lower(bound)
    return Outcome(chosen, value, bound, notes)


def _generate(sb: StartBounds, master: Master, pool: ColumnPool, starts: list[Start], budget: Budget,
              seed: int) -> tuple[float, Prices | None, int]:
    """Price until no column has a negative reduced cost; the last LP's bound, prices and the rounds."""
    bound, prices, rounds = -math.inf, None, 0
    stop = budget.left() * RESERVE if math.isfinite(budget.left()) else 0.0
    while True:
        if budget.left() <= stop:
            return bound, prices, rounds
        rounds += 1
        lp = master.solve(pool.columns, False, budget.left(), seed)
        if lp.prices is None:
            return bound, None, rounds
        prices = lp.prices
        least, added = 0.0, 0
        for s in starts:
            if budget.left() <= stop:
                return bound, prices, rounds
            rc, new = _price(sb, s, prices)
            least += min(0.0, rc)
            added += sum(pool.add(c) for c in new)
        bound = max(bound, lp.value + least)  # least is 0 once every start prices out exactly
        if not added:
            return bound, prices, rounds


def _price(sb: StartBounds, start: Start, prices: Prices) -> tuple[float, list[Column]]:
    """The least reduced cost of `start`'s clusters and those below zero (at most `PRICE_CAP`)."""
    floor = _least(sb, start, prices)
    credit = prices.credit(*start)
    if floor >= -EPS:  # penalties only add: the unpenalised optimum already bounds the reduced cost
        return floor, []
    search = sb.search(start, "energy")
    found = search.chains(sb.graph.index[start[1]], cap=PRICE_CAP, penalty=prices.penalty, pops=PRICE_POPS)
    if not found:
        return search.last_floor - credit, []
    rc = min(found[0].value, search.last_floor) - credit
    return rc, [_column(start[0], start[1], c, "energy") for c in found if c.value - credit < -EPS]


def _least(sb: StartBounds, start: Start, prices: Prices) -> float:
    """A lower bound on `start`'s least reduced cost without a penalised search: the sweep's bound, else
    (when that is negative) the exact unpenalised optimum, plus the start's own penalty, less its credit."""
    own = prices.penalty[sb.graph.index[start[1]]] - prices.credit(*start)
    low = sb.relaxed(start, "energy") + own
    return low if low >= -EPS else sb.value(start, "energy") + own


def _enumerate(sb: StartBounds, pool: ColumnPool, starts: list[Start], prices: Prices, gap: float,
               budget: Budget) -> int:
    """Add every column whose reduced cost is within `gap`; the number of starts where `ENUM_CAP` cut it."""
    capped = 0
    for s in starts:
        budget.check()
        credit = prices.credit(*s)
        if _least(sb, s, prices) > gap:
            continue
        search = sb.search(s, "energy")
        found = search.chains(sb.graph.index[s[1]], limit=gap + credit, cap=ENUM_CAP, penalty=prices.penalty,
                              pops=ENUM_POPS)
        capped += len(found) >= ENUM_CAP or math.isfinite(search.last_floor)
        for c in found:
            pool.add(_column(s[0], s[1], c, "energy"))
    return capped
