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
key by key. Requests are not swept per sample count: the penalised sweeps run
once a round at the ends of each sample band (`bounds.start_bounds.band`) and
are interpolated, as the unpenalised estimates are (`Band`, docs/model.md §7.3
and §7.4): the penalties do not depend on the samples, so each chain's
penalised cost is still affine in them and the interpolation a lower bound.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from gaisnet_opt.bounds.chain_search import Search
from gaisnet_opt.bounds.completion import to_head
from gaisnet_opt.bounds.link_graph import Figures
from gaisnet_opt.bounds.start_bounds import Band, Start, StartBounds, band
from gaisnet_opt.budget import Budget
from gaisnet_opt.cost import HopArrays
from gaisnet_opt.plan import ClusterKind
from gaisnet_opt.solvers.decompose.master import Column, Prices

EPS = 1e-9
"""Reduced costs within this of zero count as zero."""

Key = tuple[ClusterKind, int, bool]
KEPT_BYTES = 128 * 2**20
"""Bytes of segment figures kept across rounds (a key's at 10,000 clients are about 33 MB, at 2,000 about 7 MB, a
cell's under 1 MB); the out-link hops its searches computed are kept only while the key is priced."""


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
class _Round:
    """What one round's penalties are swept into: per (cached, samples) a band end's memory mask and penalised
    energy sweep, per (cached, band's lower end) its band, and the fine-tuning search."""

    penalty: np.ndarray
    ends: dict[tuple[bool, int], list[tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)
    bands: dict[tuple[bool, int], tuple[Band, np.ndarray]] = field(default_factory=dict)
    """Per (cached, band's lower end a): the band and a's memory mask, which both its ends are swept over."""
    finetune: Search | None = None


@dataclass
class Pricer:
    """Pricing searches over one scenario's start points (`sb`'s graph), `budget` checked inside each; `home`:
    a request whose search is cut without a column is searched again with its own sweep (the way home in it), and
    by that sweep first in later rounds (`_homed`)."""

    sb: StartBounds
    budget: Budget | None = None
    home: bool = True
    _hops: dict[ClusterKind, HopArrays] = field(default_factory=dict)
    _lat: dict[tuple[bool, int], list[tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)
    """Latency sweeps at band ends, with the mask each was swept over (no penalties in them: kept across rounds)."""
    _finetune_lat: np.ndarray | None = None
    _figs: OrderedDict[Key, Figures] = field(default_factory=OrderedDict)
    _finetune: Figures | None = None
    _round: _Round | None = None
    _cursor: tuple[Key, Start] = (("finetune", -1, False), ("finetune", ""))
    """The last start priced (partial pricing resumes after it)."""
    _homed: set[Start] = field(default_factory=set)
    """Requests whose search was cut without a column: searched with their own sweep from then on (its way home
    misled the band's estimate once; the duals change little from round to round, and the cut search took 35-60 %
    of a 10,000-client cell's pricing)."""

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
        built: tuple[Key, Search] | None = None
        for s in todo[at:] + todo[:at]:
            if (enough is not None and len(out.columns) >= enough) or (until is not None and until.expired()):
                out.complete = False
                break
            self._check()
            key = self.sb.key(s)
            if built is None or built[0] != key:
                built = (key, self._search(key, prices.penalty))
            search = built[1]
            top = within[s] if within is not None else -EPS
            homed = self.home and s in self._homed
            least, found, capped = self._price(self._home(search, key, prices.penalty, s) if homed else search, s,
                                               prices, top, cap, pops)
            if self.home and not homed and capped and not found and s[0] == "inference":  # the way home misled it
                self._homed.add(s)
                least, found, capped = self._price(self._home(search, key, prices.penalty, s), s, prices, top,
                                                   cap, pops)
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

    def _search(self, key: Key, penalty: np.ndarray) -> Search:
        """A search for `key`'s starts whose estimate carries `penalty`: fine-tuning's swept over its own figures,
        a request's interpolated in its sample band (`estimate`)."""
        g, sb = self.sb.graph, self.sb
        kind, samples, cached = key
        rnd = self._penalised(penalty)
        if kind == "finetune":  # one key for every source: its figures (and their hops node by node) are kept
            if rnd.finetune is None:
                self._finetune = self._finetune or g.figures(kind, samples, cached, hops=False)
                sweep = self._tolled(replace(self._finetune, hops=self._scaled(kind, samples), out={}), penalty)
                if sb.deadline_s is not None and self._finetune_lat is None:
                    self._finetune_lat = to_head(g, sweep, "latency")
                rnd.finetune = Search(g, self._finetune, "energy", to_head(g, sweep, "energy"), self._finetune_lat,
                                      sb.deadline_s, self.barred)
            rnd.finetune.budget = self.budget  # the caller may have set another since
            return rnd.finetune
        h, lat = self.estimate(key, penalty)
        fig = self._figures(key)
        for other in self._figs.values():  # the keys priced before: their out-link hops are not read again soon
            if other is not fig:
                other.out.clear()
        return Search(g, fig, "energy", h, lat, sb.deadline_s, self.barred, budget=self.budget)

    def estimate(self, key: Key, penalty: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """A request key's penalised energy estimate `h[v, l]` (and its latency one under a deadline): the sweeps
        at its sample band's ends a <= s < b, both over a's memory mask (memory fits at a, hence at every s >= a),
        interpolated and shaded (`Band.estimate`).

        A relaxed chain's penalised energy at s is s·(compute and hops per sample) + (server links) + (its nodes'
        penalties): affine in s, so the argument of docs/model.md §7.3 holds with the penalties in."""
        kind, samples, cached = key
        rnd = self._penalised(penalty)
        a, b = band(samples, self.sb.scenario.training.batch_size)
        if (cached, a) not in rnd.bands:
            fits = self._figures((kind, a, cached)).seg.fits
            low = {"energy": self._end(key, a, fits, rnd), **self._latency(key, a, fits)}
            rnd.bands[(cached, a)] = (Band(a, b, low, None, {}), fits)
        out, fits = rnd.bands[(cached, a)]
        if samples > a and out.high is None:
            out.high = {"energy": self._end(key, b, fits, rnd), **self._latency(key, b, fits)}
        lat = out.estimate(samples, "latency") if self.sb.deadline_s is not None else None
        return out.estimate(samples, "energy"), lat

    def _end(self, key: Key, samples: int, fits: np.ndarray, rnd: _Round) -> np.ndarray:
        """The penalised energy sweep at one band end `samples` over the memory mask `fits`, shared by the band
        below and the band above when their masks agree."""
        return self._swept(rnd.ends.setdefault((key[2], samples), []), fits,
                           lambda: self._tolled(self._end_figures(key, samples, fits), rnd.penalty), "energy")

    def _latency(self, key: Key, samples: int, fits: np.ndarray) -> dict[str, np.ndarray]:
        """The latency sweep at a band end over `fits` (under a deadline only; no penalties in it, so kept across
        rounds)."""
        if self.sb.deadline_s is None:
            return {}
        return {"latency": self._swept(self._lat.setdefault((key[2], samples), []), fits,
                                       lambda: self._end_figures(key, samples, fits), "latency")}

    def _swept(self, kept: list[tuple[np.ndarray, np.ndarray]], fits: np.ndarray, figures: Callable[[], Figures],
               objective: str) -> np.ndarray:
        """The sweep in `kept` made over the memory mask `fits`, else a new one of `figures()` added to it."""
        for mask, h in kept:
            if np.array_equal(mask, fits):
                return h
        fig = figures()
        self._check()
        kept.append((fits, to_head(self.sb.graph, fig, objective)))
        return kept[-1][1]

    def _end_figures(self, key: Key, samples: int, fits: np.ndarray) -> Figures:
        """Figures at a band end over the memory mask `fits`, its hops the one-sample hops scaled (`_scaled`)."""
        kind, _, cached = key
        fig = self._figures((kind, samples, cached))
        return replace(fig, seg=replace(fig.seg, fits=fits), hops=self._scaled(kind, samples), out={})

    def _figures(self, key: Key) -> Figures:
        """The cost model's segment figures of `key` (hops node by node, as the search asks), the latest kept."""
        if key in self._figs:
            self._figs.move_to_end(key)
            return self._figs[key]
        kind, samples, cached = key
        fig = self.sb.graph.figures(kind, samples, cached, hops=False)
        self._figs[key] = fig
        size = fig.seg.iter_s.nbytes + fig.seg.compute_j.nbytes + fig.seg.fits.nbytes
        while len(self._figs) > max(2, KEPT_BYTES // max(size, 1)):
            self._figs.popitem(last=False)
        return fig

    def _tolled(self, fig: Figures, penalty: np.ndarray) -> Figures:
        """`fig` with every segment carrying its node's penalty, and no requester after the start (infinite)."""
        toll = np.where(self.barred, math.inf, penalty)
        return replace(fig, seg=replace(fig.seg, compute_j=fig.seg.compute_j + toll[:, None, None]))

    def _penalised(self, penalty: np.ndarray) -> _Round:
        """The sweeps of this round's `penalty` (a new round when it is another array or holds other values)."""
        rnd = self._round
        if rnd is None or not (rnd.penalty is penalty or np.array_equal(rnd.penalty, penalty)):
            rnd = self._round = _Round(penalty.copy())
        return rnd

    def _home(self, search: Search, key: Key, penalty: np.ndarray, start: Start) -> Search:
        """`search` with an estimate for one request's clusters only: its own sweep (at its samples, penalised)
        in which the last member's segment carries the result's way home to the start (none without a link
        back), shaded by 1e-12 for rounding."""
        kind, samples, _ = key
        sweep = self._tolled(replace(search.fig, hops=self._scaled(kind, samples), out={}), penalty)
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
            self._hops[kind] = self.sb.graph.hops(kind, 1)
        one = self._hops[kind]
        scale = samples * (1 - 1e-12)
        secs = one.iter_s * scale if self.sb.deadline_s is not None else one.iter_s  # read by the latency sweep only
        return replace(one, iter_s=secs, energy_j=one.energy_j * scale)

    def _check(self) -> None:
        if self.budget is not None:
            self.budget.check()
