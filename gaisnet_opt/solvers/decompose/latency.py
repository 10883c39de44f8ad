"""The latency objective (the slowest cluster) by a threshold search over packings (docs/model.md §7.4).

A plan of round latency v packs one cluster per request and enough
fine-tuning clusters, each within v. Each offered start's minimal clusters
(`minimal`: none holding another's members) are listed once, up to a level
(the incumbent's value, or 5 % above the floor if lower); those within a
threshold z are a prefix. At z the master, as a feasibility MILP, packs them:

- a packing is a plan within z (checked and priced by the caller's `price`);
- no packing proves that no plan is below P(z), the least of the next listed
  value above z, the listings' cuts, the level and the first source not
  offered: such a plan would pack listed clusters within z. A start whose
  listing is cut short below z stands in by its own node alone (every cluster
  from it holds that node), a relaxation, so no packing still proves it.

z is bisected over the listed values between the bound and the incumbent.
Where only stand-ins pack, their starts are listed deeper and z tried again;
with no plan within the level, the level gallops up (5, 10, 20 % ...).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field

from gaisnet_opt.bounds.chain_search import Chain
from gaisnet_opt.bounds.start_bounds import Start, StartBounds
from gaisnet_opt.budget import Budget, OutOfTime
from gaisnet_opt.result import relative_gap
from gaisnet_opt.solvers.decompose.energy import Outcome, chosen_columns
from gaisnet_opt.solvers.decompose.master import Column, Master
from gaisnet_opt.solvers.decompose.minimal import ROUNDING, Listing, minimal_chains
from gaisnet_opt.solvers.decompose.trace import Trace

CAP = 50
"""Minimal clusters listed per start at most (past it the start stands in by its own node)."""
POPS = 1000
"""Partial chains one listing may expand (past it, likewise)."""
SPARE_SOURCES = 20
"""Sources beyond the service's minimum offered to the packing (those with the fastest clusters)."""
GROW = 0.05
"""The first level's share above the floor (at most the incumbent); it doubles each time the level rises."""

DEEPER = 4
DEEPEN_ROUNDS = 2
"""A start that stood in at an open threshold is listed again with `DEEPER` times the clusters and expansions,
at most `DEEPEN_ROUNDS` times."""

Price = Callable[[list[Column]], float | None]
"""A packing's round latency by the checker and the cost model (None: the checker rejects its plan)."""
Deepen = Callable[[list[Start]], bool]
"""List these starts deeper (False: none of them may go deeper)."""


@dataclass
class _Search:
    """The threshold search's state: bound, incumbent (value, columns: None for the caller's), counts, record."""

    bound: float
    value: float
    trace: Trace
    best: list[Column] | None = None
    counts: dict[str, int] = field(default_factory=lambda: {"packed": 0, "proven": 0, "open": 0})

    def closed(self, rel_gap: float) -> bool:
        gap = relative_gap(self.value, self.bound) if math.isfinite(self.value) else None
        return gap is not None and gap <= rel_gap

    def proven(self, bound: float) -> None:
        if bound > self.bound:
            self.bound = bound
            self.trace.lower(bound)


def solve_latency(sb: StartBounds, master: Master, starts: list[Start], floor: float, incumbent: float,
                  price: Price, budget: Budget, seed: int, rel_gap: float, trace: Trace) -> Outcome:
    """Bisect the threshold between `floor` and `incumbent` (a plan's value, infinite: none) until the gap
    closes (see the module docstring); every better packing and higher bound goes to `trace`."""
    state = _Search(floor, incumbent, trace)
    offered, first_out = _offered(sb, master, starts)
    notes: list[str] = []
    level, grow, cut_short = min(incumbent, floor * (1 + GROW)), GROW, -1  # -1: no listing finished
    sizes: list[int] = []
    depth: dict[Start, int] = {}

    def listing(s: Start) -> Listing:
        more = DEEPER ** depth.get(s, 0)
        return minimal_chains(sb.search(s, "latency"), sb.graph.index[s[1]], level, CAP * more, POPS * more, budget)

    def deepen(short: list[Start]) -> bool:
        short = [s for s in short if depth.get(s, 0) < DEEPEN_ROUNDS]
        with budget.phase("listing"):
            for s in short:
                depth[s] = depth.get(s, 0) + 1
                listings[s] = listing(s)
        return bool(short)

    try:
        while math.isfinite(state.bound) and not state.closed(rel_gap):
            with budget.phase("listing"):
                listings = {s: listing(s) for s in sorted(offered, key=lambda s: (sb.key(s), s))}  # searches built once
            cut_short = sum(math.isfinite(x.cut) for x in listings.values())
            with budget.phase("packing"):
                _bisect(listings, master, level, first_out, state, price, deepen, budget, seed, rel_gap)
            if state.closed(rel_gap) or state.value <= level or math.isinf(level):
                break  # a plan within the level: what lies above it is slower
            if state.bound < level and math.isinf(state.value):
                break  # open below the level and nothing to aim at: listing higher proves no more
            now = [len(x.chains) for x in listings.values()]
            stalled, sizes = now == sizes, now
            grow *= 2  # galloping: the optimum may lie far above the floor
            level = min(state.value, max(level, state.bound) * (1 + grow))
            if stalled and not cut_short and math.isinf(state.value):
                level = math.inf  # complete listings that grew no more: list all (a failed packing proves infeasibility)
    except OutOfTime:
        notes.append("threshold search stopped by the time limit")
    c = state.counts
    if cut_short >= 0:
        notes.append(f"threshold search: bound {state.bound:.6g}, {c['packed']} packed, {c['proven']} proven, "
                     f"{c['open']} open thresholds; {cut_short} of {len(offered)} listings cut short")
    elif state.closed(rel_gap):
        notes.append("threshold search not needed: the incumbent meets the floor")
    return Outcome(state.best, state.value, state.bound, notes)


def _offered(sb: StartBounds, master: Master, starts: list[Start]) -> tuple[list[Start], float]:
    """The requests and the sources with the fastest clusters; the least sweep bound of a source left out
    (no plan below it uses one)."""
    requests = [s for s in starts if s[0] == "inference"]
    ranked = sorted((s for s in starts if s[0] == "finetune"), key=lambda s: (sb.relaxed(s, "latency"), s))
    keep = master.lo + SPARE_SOURCES if master.lo else 0
    first_out = sb.relaxed(ranked[keep], "latency") if keep < len(ranked) and master.lo else math.inf
    return requests + ranked[:keep], first_out


def _bisect(listings: dict[Start, Listing], master: Master, level: float, first_out: float, state: _Search,
            price: Price, deepen: Deepen, budget: Budget, seed: int, rel_gap: float) -> None:
    """Bisect z over the listed values in [bound, incumbent): a packing lowers the incumbent, a proof raises
    the bound; where only stand-ins pack, their starts are listed deeper and z tried again, and past
    `DEEPEN_ROUNDS` the threshold is open (nothing proven) and the search moves up."""
    listed = {c.value for x in listings.values() for c in x.chains if c.value <= level}
    values = sorted(listed | ({state.bound, level} - {math.inf}))  # a proof at the bound reaches the next value
    lo, hi = bisect_left(values, state.bound), bisect_left(values, state.value)
    while lo < hi and not state.closed(rel_gap):
        mid = (lo + hi) // 2
        z = values[mid]
        relaxed = _pack(listings, master, z, True, budget, seed)
        if relaxed is NONE and z < first_out:
            state.counts["proven"] += 1
            state.proven(_proof(listings, z, level, first_out))
            lo = max(mid + 1, bisect_left(values, state.bound))
            continue
        packed = relaxed if relaxed is not NONE else None
        if packed is None or any(_stands_in(c) for c in packed):  # stand-ins packed, or the MILP ran out of time
            packed = _pack(listings, master, z, False, budget, seed)
            if packed is None or packed is NONE:
                if relaxed and deepen([(c.kind, c.start) for c in relaxed if _stands_in(c)]):
                    continue  # the same threshold again, with those starts listed deeper
                state.counts["open"] += 1
                lo = mid + 1
                continue
        state.counts["packed"] += 1
        value = price(packed)
        if value is not None and value < state.value:
            state.value, state.best = value, packed
            state.trace.plan(value)
        hi = bisect_left(values, max((c.chain.value for c in packed), default=0.0))


NONE: list[Column] = []
"""`_pack`'s answer when the MILP proves that nothing packs (compared by identity)."""


def _pack(listings: dict[Start, Listing], master: Master, z: float, relax: bool, budget: Budget,
          seed: int) -> list[Column] | None:
    """The chosen columns of a packing of the listed clusters within z (`relax`: a start listed incompletely
    at z stands in by its node); `NONE` when the MILP proves there is none, None when it ran out of time."""
    columns: list[Column] = []
    for (kind, node), x in listings.items():
        budget.check()
        if relax and not x.complete(z):
            columns.append(Column(kind, node, Chain(math.inf, math.inf, 0.0, None, ((x.start, 0, 0),)), 0.0))
            continue
        within = bisect_right([c.value for c in x.chains], z * (1 + ROUNDING))  # a tie rounded up still counts
        columns += [Column(kind, node, c, 0.0) for c in x.chains[:within]]
    seconds = budget.solver_seconds()
    solved = master.solve(columns, True, math.inf if seconds is None else seconds, seed)
    budget.check()
    if solved.status != "optimal":
        return None
    chosen = chosen_columns(columns, solved)
    return NONE if chosen is None else chosen


def _stands_in(column: Column) -> bool:
    """A stand-in column (its start's node alone, infinite latency): it proves, it plans nothing."""
    return math.isinf(column.chain.latency_s)


def _proof(listings: dict[Start, Listing], z: float, level: float, first_out: float) -> float:
    """P(z) when nothing within z packs: no plan is faster (see the module docstring)."""
    if z >= first_out:
        return -math.inf
    p = min(level, first_out)
    for x in listings.values():
        if x.complete(z):
            above = [c.value for c in x.chains if c.value > z * (1 + ROUNDING)]
            p = min(p, x.cut, *above[:1])
    return p
