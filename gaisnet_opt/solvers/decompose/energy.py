"""The energy objective (a sum over clusters) by column generation, price-and-branch and reduced-cost
enumeration (docs/model.md §7.4).

The pool starts with the clusters of a local-search plan, which is also the
first incumbent and the MILP's start, so the master's plan is never worse.
The LP over the pool gives duals; each start point's pricing is the exact
chain search with the node duals as penalties (`pricing`). At any duals π,
Σ rows' π × bound + Σ_starts min(0, least reduced cost) is a lower bound on
every plan (the Lagrangian function: each start opens at most one cluster,
by its request's row or its own node's), so every round proves one,
converged or not, partial pricing too (a start not priced counts with a
bound on its least reduced cost). Once no
column prices out, the MILP over the pool gives a plan; if it is above the
bound, every column whose reduced cost is within the gap is added (no better
plan can use any other, Baldacci, Christofides and Mingozzi, Math. Prog. 115,
2008) and the MILP solved again: with no start capped, its optimum is the
problem's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from gaisnet_opt.bounds.chain_search import Chain
from gaisnet_opt.bounds.start_bounds import Start, StartBounds
from gaisnet_opt.budget import Budget, OutOfTime
from gaisnet_opt.checker import check
from gaisnet_opt.cost import cluster_cost
from gaisnet_opt.plan import Plan
from gaisnet_opt.result import Objective
from gaisnet_opt.solvers.decompose.incumbent import heuristic_plan
from gaisnet_opt.solvers.decompose.master import Column, Master, Prices, Solved
from gaisnet_opt.solvers.decompose.pricing import Pricer
from gaisnet_opt.solvers.decompose.trace import Trace

LOCAL_SHARE = 0.05
LOCAL_S = 3.0
LOCAL_PER_NODE_S = 0.005
"""The first plan (constructive heuristics and local search): this share of the budget, at most these seconds
and these per node (a small instance's column generation does better sooner)."""
MILP_SHARE = 0.15
"""Share of the budget column generation leaves for the MILPs over the pool."""
SPARE_S = 0.5
"""Seconds left at the end for the caller's own fallback heuristic, besides as long as the first plan took
(`decompose` runs the constructive heuristics again when the gap is open, and they cannot stop midway)."""
SPARE_FROM_S = 10.0
"""Budgets below which nothing is kept for the fallback (`decompose` skips it when too little is left): a cell's
second or two is worth more to column generation than to a second local search."""
PRICE_POPS = 500
"""Partial chains one pricing search may expand; past it the heap's least estimate bounds the reduced cost."""
ENOUGH = 50
"""Columns after which a pricing round stops (at least a quarter of the starts' count): the LP re-solves
sooner and later rounds resume where this one stopped (partial pricing)."""
ENUM_CAP = 200
"""Columns per start the enumeration adds at most; past it the MILP proves nothing beyond its own columns."""
ENUM_POPS = 20000
"""Partial chains an enumerating search may expand (an enumeration cut short proves nothing)."""


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
    """The best integer solution's columns (None: none), their value, a lower bound, notes, and the duals that
    gave the bound (None: no LP solved)."""

    chosen: list[Column] | None
    value: float
    bound: float
    notes: list[str]
    prices: Prices | None = None


@dataclass
class _Best:
    """The incumbent and the best Lagrangian bound so far, with the duals that gave it."""

    trace: Trace
    chosen: list[Column] | None = None
    value: float = math.inf
    bound: float = -math.inf
    prices: Prices | None = None
    least: dict[Start, float] = field(default_factory=dict)

    def plan(self, chosen: list[Column] | None) -> None:
        value = sum(c.cost for c in chosen) if chosen is not None else math.inf
        if value < self.value:
            self.chosen, self.value = chosen, value
            self.trace.plan(value)

    def lower(self, bound: float) -> None:
        if bound > self.bound:
            self.bound = bound
            self.trace.lower(bound)


def chosen_columns(columns: list[Column], solved: Solved) -> list[Column] | None:
    """The columns an integer solution picks (None: it needs an artificial, so no plan)."""
    if solved.artificial or not math.isfinite(solved.value):
        return None
    return [c for c, x in zip(columns, solved.x, strict=True) if x > 0.5]


def solve_energy(sb: StartBounds, master: Master, starts: list[Start], budget: Budget, seed: int,
                 trace: Trace, lp_gap: float = 0.0) -> Outcome:
    """A local-search plan, column generation, price-and-branch, then enumeration within the gap (see the
    module docstring); each better plan and higher bound goes to `trace`. With `lp_gap`, column generation
    stops once the Lagrangian bound is within that share of the LP's value (a cell: its last rounds gain
    little, the time goes to the cells after it), and no enumeration follows."""
    best = _Best(trace)
    pool = ColumnPool()
    notes: list[str] = []
    with budget.phase("heuristic"):
        t0 = budget.elapsed()
        seconds = min(LOCAL_S, LOCAL_SHARE * budget.left(), LOCAL_PER_NODE_S * len(sb.graph.ids))
        plan = heuristic_plan(sb.scenario, Objective(kind="energy", deadline_s=sb.deadline_s), seconds, seed)
        spare = SPARE_S + budget.elapsed() - t0 if budget.limit_s is None or budget.limit_s >= SPARE_FROM_S else 0.0
    first = _columns(sb, plan) if plan is not None else None
    if first is not None:
        for c in first:
            pool.add(c)
        best.plan(first)
    pricer = Pricer(sb, _until(budget, spare + MILP_SHARE * budget.left()))
    converged = False
    try:
        with budget.phase("column generation"):
            rounds, how = _generate(master, pool, pricer, starts, seed, best, lp_gap)
        converged = how == "converged"
        notes.append(f"column generation {how} in {rounds} rounds, "
                     f"{len(pool.columns)} columns")
    except OutOfTime:
        notes.append(f"column generation stopped by its share of the time limit ({len(pool.columns)} columns)")
    with budget.phase("price-and-branch"):
        best.plan(_milp(master, pool, best, budget, spare, seed))
    if converged and best.chosen is not None and best.prices is not None and best.value > best.bound * (1 + 1e-9):
        _close(master, pool, pricer, starts, best, budget, spare, seed, notes)
    notes.append(f"Lagrangian bound {best.bound:.6g}")
    return Outcome(best.chosen, best.value, best.bound, notes, best.prices)


def _generate(master: Master, pool: ColumnPool, pricer: Pricer, starts: list[Start], seed: int,
              best: _Best, lp_gap: float) -> tuple[int, str]:
    """Price until no column has a negative reduced cost, or the bound is within `lp_gap` of the LP's value
    (each round's Lagrangian bound to `best`); the rounds, and how it ended: converged, within the gap, or
    lost its LP (HiGHS gave no duals)."""
    assert pricer.budget is not None
    lp = master.lp(pool.columns, seed)
    rounds = 0
    while True:
        pricer.budget.check()
        solved = lp.solve(_seconds(pricer.budget))
        if solved.prices is None:
            return rounds, "lost its LP"
        rounds += 1
        priced = pricer.price(starts, solved.prices, pops=PRICE_POPS, enough=max(ENOUGH, len(starts) // 4))
        bound = master.bound_of(solved.prices) + sum(min(0.0, priced.least[s]) for s in starts)
        if bound > best.bound:
            best.prices, best.least = solved.prices, priced.least
            best.lower(bound)
        new = [c for c in priced.columns if pool.add(c)]
        if not new and priced.complete:
            return rounds, "converged"
        if lp_gap > 0 and solved.value - best.bound <= lp_gap * abs(solved.value):
            return rounds, f"came within {lp_gap:.2%} of its LP"
        lp.add(new)


def _close(master: Master, pool: ColumnPool, pricer: Pricer, starts: list[Start], best: _Best, budget: Budget,
           spare: float, seed: int, notes: list[str]) -> None:
    """Add every column whose reduced cost at the best bound's duals is within the gap, then the MILP; with
    the enumeration complete and the MILP optimal, its plan is proven optimal."""
    assert best.prices is not None
    gap = best.value - best.bound
    within = {s: gap + min(0.0, best.least.get(s, 0.0)) for s in starts}  # the other starts' shares stay
    try:
        with budget.phase("enumeration"):
            pricer.budget = _until(budget, spare + MILP_SHARE * budget.left())
            priced = pricer.price(starts, best.prices, within, cap=ENUM_CAP, pops=ENUM_POPS)
    except OutOfTime:
        notes.append("enumeration within the gap stopped by the time limit")
        return
    for c in priced.columns:
        pool.add(c)
    with budget.phase("price-and-branch"):
        solved = master.solve(pool.columns, True, _seconds(_until(budget, spare)), seed, start=best.chosen)
    best.plan(chosen_columns(pool.columns, solved))
    if priced.capped:
        notes.append(f"enumeration capped for {priced.capped} starts: the MILP proves nothing beyond its columns")
    elif solved.status == "optimal":
        best.lower(best.value)
        notes.append("enumeration within the gap was complete: the MILP over it is optimal")
    else:
        best.lower(min(best.value, solved.bound))
        notes.append("enumeration within the gap was complete; the MILP over it hit its time limit")


def _milp(master: Master, pool: ColumnPool, best: _Best, budget: Budget, spare: float,
          seed: int) -> list[Column] | None:
    """The MILP over the pool, from the incumbent, within the budget less `spare`."""
    solved = master.solve(pool.columns, True, _seconds(_until(budget, spare)), seed, start=best.chosen)
    return chosen_columns(pool.columns, solved)


def _columns(sb: StartBounds, plan: Plan) -> list[Column] | None:
    """`plan`'s clusters as columns priced by the cost model (None: the checker rejects the plan)."""
    if check(sb.scenario, plan, sb.deadline_s):
        return None
    out = []
    for cluster in plan.clusters:
        cost = cluster_cost(sb.scenario, cluster)
        members = tuple((sb.graph.index[m.node], m.first, m.last) for m in cluster.members)
        chain = Chain(cost.energy_j, cost.latency_s, cost.energy_j, cost.server, members)
        out.append(Column(cluster.kind, cluster.start, chain, cost.energy_j))
    return out


def _until(budget: Budget, spare: float) -> Budget:
    """A budget on the same clock that ends `spare` seconds before `budget` does."""
    if budget.limit_s is None:
        return Budget(None, budget.clock)
    return Budget(max(0.0, budget.left() - spare), budget.clock)


def _seconds(budget: Budget) -> float:
    """Seconds a HiGHS call may take within `budget` (its reserve kept back); infinite without a limit."""
    left = budget.solver_seconds()
    return math.inf if left is None else left
