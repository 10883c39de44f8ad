"""Each start point's cheapest cluster, exact or relaxed, computed on demand and kept.

The floor and the decomposition both read start points through this: the
requests (each its own inference cluster) and the data sources that raised
no request. One `Search` serves every start of one (kind, samples, cached),
so the fine-tuning sources share one and requests share one per sample
count. `relaxed` is the sweep's bound (no search), computed for a whole group
of starts at once; `search` is the exact chain search under the exact
models' edge-server rule (docs/model.md §7.1), with no other requester in the
chain: every request is served by its own cluster and a client joins at most
one, so no plan has one there. `lower` is what the floor reads: that search
with dominance between partial chains, capped at `floor_pops` expansions, a
lower bound either way and the optimum when it ends in time.

A request's estimate is not swept at its own sample count: requests bring
dozens of them and each sweep crosses every link of the city. Sweeps run at
the ends a ≤ s < b of the sample band holding s (`band`) and are
interpolated, which stays a lower bound (`Band`, docs/model.md §7.3).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field, replace

import numpy as np

from gaisnet_opt.bounds.chain_search import Chain, Search
from gaisnet_opt.bounds.completion import to_head
from gaisnet_opt.bounds.link_graph import Figures, LinkGraph
from gaisnet_opt.budget import Budget
from gaisnet_opt.cost import HopArrays, batch_samples
from gaisnet_opt.plan import ClusterKind
from gaisnet_opt.scenario import Scenario

Start = tuple[ClusterKind, str]
"""A cluster's kind and its start point."""
KEEP = 8
"""Searches kept alive at once (a request's own figures are about 30 MB at 10,000 clients)."""
SearchKey = tuple[ClusterKind, int, bool, str]
"""(kind, samples, cached, objective): what a search's figures and estimate depend on."""
OBJECTIVES = ("latency", "energy")
SHADE = 1e-9
"""Relative shading of interpolated estimates: rounding (sums of a few dozen terms, 1e-15 relative) stays below."""
FLOOR_POPS = 2000
"""Expansions each of `lower`'s searches may take (docs/model.md §7.3). Measured with dominance, uncapped: at most
1,476 per search on the floors of compare_bench's instances but one, and 201 on joint_bench's and scale_bench's
at 500 and 2,000 clients, so none of those floors moves. The one left, compare_bench's dense/homogeneous/
aggregator regime at 15 clients, seed 2 (identical phones), has a search of 7,508 (182,240 without dominance,
15 s): cut here, that floor takes 2,315 expansions in all, its latency the same, its energy 0.025 % lower."""


@dataclass(frozen=True)
class Lower:
    """A lower bound on every cluster from one start point (infinite: none fits) and whether it is the optimum;
    `chain` is that optimum (None when none fits or the search was cut)."""

    value: float
    exact: bool
    chain: Chain | None


def band(samples: int, batch: int) -> tuple[int, int]:
    """The sample band [a, b) holding `samples`: powers of two below the batch size B, then B times powers of two.

    Both ends of a band lie in one block of B samples, or are multiples of B, so
    the passes ⌈s/B⌉ a cluster makes are at least their interpolation between
    the ends (docs/model.md §7.3)."""
    if samples < batch:
        a = 1 << (samples.bit_length() - 1)
        return a, min(2 * a, batch)
    a = batch << ((samples // batch).bit_length() - 1)
    return a, 2 * a


@dataclass
class Band:
    """The sweeps at both ends of one sample band of requests (`kind` inference, `cached`), over the path set of
    its lower end a (memory fits at a, so at every s >= a): `low[objective]` at a, `high[objective]` at b.

    A relaxed chain's latency is ⌈s/B⌉·(overheads) + s·(the rest) and its
    energy s·(compute and hops) + (server links), non-negative coefficients;
    on [a, b] each chain's cost is at least the straight line between its costs
    at a and b, so the least over chains (concave) is at least the straight
    line between the sweeps' values. `high` is None when only s = a is asked."""

    a: int
    b: int
    low: dict[str, np.ndarray]
    high: dict[str, np.ndarray] | None
    relaxed: dict[str, dict[str, float]]
    """Per objective, each start's bound (its first members interpolated likewise)."""

    def weights(self, samples: int) -> tuple[float, float]:
        w = (samples - self.a) / (self.b - self.a)
        return 1.0 - w, w

    def estimate(self, samples: int, objective: str) -> np.ndarray:
        """The estimate `h[v, l]` for `samples` in the band: the ends' sweeps interpolated, shaded by `SHADE`."""
        lo, hi = self.weights(samples)
        if hi == 0.0 or self.high is None:
            return self.low[objective] * (1 - SHADE)
        with np.errstate(invalid="ignore"):
            return (lo * self.low[objective] + hi * self.high[objective]) * (1 - SHADE)


@dataclass
class StartBounds:
    """Start points of `scenario` and their cheapest clusters; `deadline_s` drops clusters that miss it."""

    scenario: Scenario
    deadline_s: float | None = None
    budget: Budget | None = None
    energy: bool = True
    """Whether energy estimates are swept too (a latency-only caller saves half the sweeps; latency's are always
    swept, the deadline reads them)."""
    graph: LinkGraph = field(init=False)
    _searches: OrderedDict[SearchKey, Search] = field(default_factory=OrderedDict)
    _unit_hops: HopArrays | None = None
    _bands: dict[tuple[bool, int], Band] = field(default_factory=dict)
    _ends: dict[tuple[bool, int], tuple[np.ndarray, dict[str, np.ndarray]]] = field(default_factory=dict)
    _relaxed: dict[tuple[Start, str], float] = field(default_factory=dict)
    _finetune_fig: Figures | None = None
    _finetune_h: dict[str, np.ndarray] | None = None
    floor_pops: int | None = FLOOR_POPS
    """Expansions each of `lower`'s searches may take (None: no cap, the search is exact)."""
    expanded: int = 0
    """Expansions `lower`'s searches took so far."""
    _lower: dict[tuple[Start, str, bool], Lower] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.graph = LinkGraph.of(self.scenario)
        self.requests: list[str] = [r.id for r in self.scenario.requesters]
        self.sources: list[str] = []
        """Data sources that raised no request (a requester's own cluster is its inference one)."""
        if self.scenario.finetune is not None:
            self.sources = [d.id for d in self.scenario.data_sources if d.request is None]
        self._barred = np.array([v.request is not None for v in self.scenario.nodes])

    def search(self, start: Start, objective: str) -> Search:
        """The search for clusters like `start`'s (the last `KEEP` are kept: a request's figures are its own)."""
        kind, samples, cached = self.key(start)
        key = (kind, samples, cached, objective)
        if key in self._searches:
            self._searches.move_to_end(key)
            return self._searches[key]
        twin = next((s.fig for k, s in self._searches.items() if k[:3] == key[:3]), None)
        self._check()  # each step of building a search sweeps every node: checked in between
        if kind == "finetune":
            fig = self._finetune()
            if self._finetune_h is None:
                self._finetune_h = self._sweeps(fig)
            h = self._finetune_h
        else:
            fig = twin or self.graph.figures(kind, samples, cached, hops=False)
            b = self._band(cached, samples)
            h = {o: b.estimate(samples, o) for o in self.objectives}
        self._check()
        lat = h["latency"] if self.deadline_s is not None else None
        self._searches[key] = Search(self.graph, fig, objective, h[objective], lat, self.deadline_s, self._barred,
                                     budget=self.budget)
        if len(self._searches) > KEEP:
            self._searches.popitem(last=False)
        return self._searches[key]

    @property
    def objectives(self) -> tuple[str, ...]:
        return OBJECTIVES if self.energy else ("latency",)

    def trim(self) -> None:
        """Drop the figures kept for reuse (rebuilt when asked again); the sweeps and bounds stay."""
        self._searches.clear()
        self._unit_hops = None
        self._finetune_fig = None

    def _check(self) -> None:
        if self.budget is not None:
            self.budget.check()

    def _finetune(self) -> Figures:
        if self._finetune_fig is None:
            self._finetune_fig = self.graph.figures("finetune", self.scenario.training.batch_size, False)
        return self._finetune_fig

    def _sweeps(self, fig: Figures) -> dict[str, np.ndarray]:
        """The objectives' sweeps over `fig` (a search needs the latency one too, under a deadline)."""
        out = {}
        for o in self.objectives:
            out[o] = to_head(self.graph, fig, o)
            self._check()
        return out

    def _end_sweeps(self, cached: bool, samples: int, fig: Figures) -> dict[str, np.ndarray]:
        """`_sweeps` of a band's end, shared by the band below and the band above when their memory masks agree."""
        kept = self._ends.get((cached, samples))
        if kept is not None and np.array_equal(kept[0], fig.seg.fits):
            return kept[1]
        out = self._sweeps(fig)
        self._ends[(cached, samples)] = (fig.seg.fits, out)
        return out

    def _band_figures(self, cached: bool, samples: int, fits: np.ndarray | None) -> Figures:
        """Inference figures at `samples` with hops from the one-sample hops scaled (proportional to the samples,
        shaded by 1e-12 so rounding keeps them below) and, given `fits`, that memory mask instead of its own."""
        if self._unit_hops is None:
            self._unit_hops = self.graph.figures("inference", 1, False).hops
        unit = self._unit_hops
        assert unit is not None
        fig = self.graph.figures("inference", samples, cached, hops=False)
        scale = samples * (1 - 1e-12)
        seg = fig.seg if fits is None else replace(fig.seg, fits=fits)
        return replace(fig, seg=seg, hops=replace(unit, iter_s=unit.iter_s * scale, energy_j=unit.energy_j * scale))

    def _band(self, cached: bool, samples: int) -> Band:
        """The band holding `samples` for requests of `cached`, its sweeps and its requests' bounds (built once)."""
        a, b = band(samples, self.scenario.training.batch_size)
        if (cached, a) in self._bands:
            return self._bands[(cached, a)]
        group = [r for r in self.requests if self.key(("inference", r))[2] == cached
                 and band(self._samples(r), self.scenario.training.batch_size)[0] == a]
        self._check()
        low_fig = self._band_figures(cached, a, None)
        low = self._end_sweeps(cached, a, low_fig)
        ends = [(low_fig, low)]
        high = None
        if any(self._samples(r) > a for r in group):
            high_fig = self._band_figures(cached, b, low_fig.seg.fits)
            high = self._end_sweeps(cached, b, high_fig)
            ends.append((high_fig, high))
        out = Band(a, b, low, high, {})
        starts = np.array([self.graph.index[r] for r in group], dtype=np.int64)
        for o in self.objectives:
            self._check()
            at = [Search(self.graph, fig, o, h[o], h["latency"], self.deadline_s).first_values(starts) for fig, h in ends]
            latency = at[0][1]  # the deadline is held to the lower end's latency bound (below s's)
            out.relaxed[o] = {}
            for i, r in enumerate(group):
                lo, hi = out.weights(self._samples(r))
                with np.errstate(invalid="ignore"):
                    value = at[0][0][i] if hi == 0.0 else lo * at[0][0][i] + hi * at[1][0][i]
                if self.deadline_s is not None:
                    value = np.where(latency[i] > self.deadline_s, math.inf, value)
                out.relaxed[o][r] = float(np.min(value, initial=math.inf)) * (1 - SHADE)
        self._bands[(cached, a)] = out
        return out

    def _samples(self, node: str) -> int:
        return batch_samples(self.scenario, "inference", node)

    def key(self, start: Start) -> tuple[ClusterKind, int, bool]:
        """What `start`'s search depends on besides the objective: kind, samples, cached."""
        kind, node = start
        request = self.scenario.node[node].request
        return kind, batch_samples(self.scenario, kind, node), kind == "inference" and request is not None and request.cached

    def relaxed(self, start: Start, objective: str) -> float:
        """The sweep's lower bound on any cluster from `start` (no search): a request's from its band, a source's
        from the fine-tuning search, computed for all of them at once."""
        if (start, objective) not in self._relaxed:
            kind, samples, cached = self.key(start)
            if kind == "inference":
                b = self._band(cached, samples)
                self._relaxed.update({(("inference", r), o): v for o, vs in b.relaxed.items() for r, v in vs.items()})
            else:
                search = self.search(start, objective)
                values = search.estimates(np.array([self.graph.index[s] for s in self.sources], dtype=np.int64))
                self._relaxed.update({(("finetune", s), objective): float(v) for s, v in zip(self.sources, values,
                                                                                              strict=True)})
        return self._relaxed[(start, objective)]

    def relax_all(self, starts: list[Start], objective: str) -> dict[Start, float]:
        """`relaxed` for many starts."""
        return {s: self.relaxed(s, objective) for s in starts}

    def lower(self, start: Start, objective: str, edges: bool = True) -> Lower:
        """A lower bound on any cluster from `start` (`edges`: may an edge server join it) by the search capped
        at `floor_pops` expansions, with dominance between partial chains (`Search.dominated`, exact): the
        optimum when the search ends within the cap, else the least estimate left on its heap
        (`Search.last_floor`), no more than any chain it did not reach (docs/model.md §7.3)."""
        key = (start, objective, edges)
        if key not in self._lower:
            search = self.search(start, objective)
            found = search.chains(self.graph.index[start[1]], edges=edges, pops=self.floor_pops, dominance=True)
            self.expanded += search.last_pops
            if found:
                self._lower[key] = Lower(found[0].value, True, found[0])
            else:  # infinite: the heap ran dry, no cluster fits
                self._lower[key] = Lower(search.last_floor, math.isinf(search.last_floor), None)
        return self._lower[key]

    def uses_edge(self, chain: Chain) -> bool:
        return any(self.graph.is_edge[v] for v, _, _ in chain.members)
