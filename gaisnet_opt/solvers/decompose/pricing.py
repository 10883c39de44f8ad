"""Column generation's pricing: each start point's least reduced cost under the master's duals, and the
clusters below zero (or within a gap, for the reduced-cost enumeration).

A start's clusters are priced by the exact chain search (`bounds.chain_search`)
with the node duals as penalties. Its estimate is the relaxation sweep
(`bounds.completion.to_head`) over figures whose every segment carries its
node's penalty, and no requester after the start (the search bars them):
still a lower bound on the rest of any chain, now with its penalties, so the
search stays exact and heads for the clusters the duals favour (with the
unpenalised estimate it expands every cheap chain through a dear node first). The sweep also bounds every start of its search key at
once, so starts it proves non-negative are not searched. Starts are visited
key by key: each key's figures and sweep are built once a round.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from gaisnet_opt.bounds.chain_search import Search
from gaisnet_opt.bounds.completion import to_head
from gaisnet_opt.bounds.link_graph import Figures
from gaisnet_opt.bounds.start_bounds import Start, StartBounds
from gaisnet_opt.budget import Budget
from gaisnet_opt.cost import HopArrays
from gaisnet_opt.plan import ClusterKind
from gaisnet_opt.solvers.decompose.master import Column, Prices

EPS = 1e-9
"""Reduced costs within this of zero count as zero."""

Key = tuple[ClusterKind, int, bool]


@dataclass
class Priced:
    """A round's columns and, per start, a lower bound on its least reduced cost (a start left out has none)."""

    least: dict[Start, float] = field(default_factory=dict)
    columns: list[Column] = field(default_factory=list)
    capped: int = 0
    """Starts whose search stopped at `cap` columns or `pops` expansions (an enumeration then is not complete)."""
    complete: bool = True
    """Every start was priced (False: partial pricing stopped the round)."""


@dataclass
class Pricer:
    """Pricing searches over one scenario's start points (`sb`'s graph), `budget` checked inside each."""

    sb: StartBounds
    budget: Budget | None = None
    _hops: dict[ClusterKind, HopArrays] = field(default_factory=dict)
    _lat: dict[Key, np.ndarray] = field(default_factory=dict)
    _finetune: Figures | None = None
    _cursor: tuple[Key, Start] = (("finetune", -1, False), ("finetune", ""))
    """The last start priced (partial pricing resumes after it)."""

    def __post_init__(self) -> None:
        self.barred = np.array([v.request is not None for v in self.sb.scenario.nodes])

    def cheap(self, start: Start, prices: Prices) -> float:
        """A lower bound on `start`'s least reduced cost with no search: the unpenalised sweep's bound (kept by
        `sb`) plus the start's own penalty, less its credit (the other penalties only add)."""
        own = prices.penalty[self.sb.graph.index[start[1]]] - prices.credit(*start)
        return self.sb.relaxed(start, "energy") + own

    def price(self, starts: list[Start], prices: Prices, within: dict[Start, float] | None = None, cap: int = 3,
              pops: int = 2000, enough: int | None = None, until: Budget | None = None) -> Priced:
        """Each start's least reduced cost and its columns below zero (at most `cap`, most negative first);
        with `within`, every column whose reduced cost is at most the start's figure instead. With `enough`,
        the round stops once it has that many columns and the next one resumes after the last start priced
        (partial pricing); a start left out keeps its cheap bound. With `until`, the round stops when it expires
        (the starts left keep their cheap bound)."""
        out = Priced()
        todo = []
        for s in starts:
            out.least[s] = self.cheap(s, prices)
            if out.least[s] <= (within[s] if within is not None else -EPS):
                todo.append(s)
        todo.sort(key=lambda s: (self.sb.key(s), s))
        at = next((i for i, s in enumerate(todo) if (self.sb.key(s), s) > self._cursor), 0) if enough else 0
        built: tuple[Key, Search, Figures] | None = None
        for s in todo[at:] + todo[:at]:
            if (enough is not None and len(out.columns) >= enough) or (until is not None and until.expired()):
                out.complete = False
                break
            self._check()
            key = self.sb.key(s)
            if built is None or built[0] != key:
                built = (key, *self._search(key, prices.penalty))
            _, search, sweep = built
            top = within[s] if within is not None else -EPS
            least, found, capped = self._price(search, s, prices, top, cap, pops)
            if capped and not found and s[0] == "inference":  # the result's way home, left out, misled it
                least, found, capped = self._price(self._home(search, sweep, s), s, prices, top, cap, pops)
            out.least[s] = least
            out.columns += found
            out.capped += capped
            self._cursor = (key, s)
        return out

    def _price(self, search: Search, start: Start, prices: Prices, top: float, cap: int,
               pops: int) -> tuple[float, list[Column], bool]:
        """`start`'s least reduced cost (a lower bound where the search was cut), its columns at most `top`,
        and whether the search stopped at `cap` or `pops`."""
        credit = prices.credit(*start)
        v = self.sb.graph.index[start[1]]
        low = float(search.estimates(np.array([v]))[0]) + prices.penalty[v] - credit
        if low > top:
            return low, [], False
        found = search.chains(v, limit=credit + max(top, 0.0), cap=cap, penalty=prices.penalty, pops=pops)
        cut = math.isfinite(search.last_floor)
        if found:  # the first chain off the heap is the start's optimum
            least = found[0].value - credit
        elif cut:  # every chain is at least the heap's least estimate
            least = max(low, search.last_floor - credit)
        else:  # exhausted within the limit: nothing at or below it
            least = max(top, 0.0)
        keep = [Column(start[0], start[1], c, c.energy_j) for c in found if c.value - credit <= top]
        return least, keep, cut or len(found) >= cap

    def _search(self, key: Key, penalty: np.ndarray) -> tuple[Search, Figures]:
        """A search for `key`'s starts whose estimate carries `penalty`, and the figures it was swept over."""
        g, sb = self.sb.graph, self.sb
        kind, samples, cached = key
        if kind == "finetune":  # one key for every source: its figures (and their hops node by node) are kept
            self._finetune = self._finetune or g.figures(kind, samples, cached, hops=False)
            fig = self._finetune
        else:
            fig = g.figures(kind, samples, cached, hops=False)
        sweep = replace(fig, hops=self._scaled(kind, samples))
        lat = None
        if sb.deadline_s is not None:
            if key not in self._lat:
                self._lat[key] = to_head(g, sweep, "latency")
            lat = self._lat[key]
        toll = np.where(self.barred, math.inf, penalty)  # no chain takes in a requester after its start
        sweep = replace(sweep, seg=replace(sweep.seg, compute_j=sweep.seg.compute_j + toll[:, None, None]))
        h = to_head(g, sweep, "energy")
        return Search(g, fig, "energy", h, lat, sb.deadline_s, self.barred, budget=self.budget), sweep

    def _home(self, search: Search, sweep: Figures, start: Start) -> Search:
        """`search` with an estimate for one request's clusters only: the last member's segment carries the
        result's way home to the start (none without a link back), shaded by 1e-12 for rounding."""
        home = np.full(len(self.sb.graph.ids), math.inf)
        for a, (_, joules) in search.returns(self.sb.graph.index[start[1]]).items():
            home[a] = joules * (1 - 1e-12)
        last = sweep.seg.compute_j.copy()
        last[:, :, -1] += home[:, None]
        h = to_head(self.sb.graph, replace(sweep, seg=replace(sweep.seg, compute_j=last)), "energy")
        return replace(search, h=h)

    def _scaled(self, kind: ClusterKind, samples: int) -> HopArrays:
        """Hop figures for `samples` samples, a lower bound: one sample's, scaled (hop seconds and joules are
        proportional to the samples), shaded by 1e-12 so rounding keeps them below; the seconds only under a
        deadline (the energy sweep reads joules)."""
        if kind not in self._hops:
            self._hops[kind] = self.sb.graph.figures(kind, 1, False).hops  # type: ignore[assignment]
        one = self._hops[kind]
        scale = samples * (1 - 1e-12)
        secs = one.iter_s * scale if self.sb.deadline_s is not None else one.iter_s  # read by the latency sweep only
        return replace(one, iter_s=secs, energy_j=one.energy_j * scale)

    def _check(self) -> None:
        if self.budget is not None:
            self.budget.check()
