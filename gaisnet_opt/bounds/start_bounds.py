"""Each start point's cheapest cluster, exact or relaxed, computed on demand and kept.

The floor and the decomposition both read start points through this: the
requests (each its own inference cluster) and the data sources that raised
no request. One `Search` serves every start of one (kind, samples, cached),
so the fine-tuning sources share one and requests share one per sample
count. `relaxed` is the sweep's bound (no search); `best` is the search's
exact optimum under the exact models' edge-server rule (docs/model.md §7.1),
with no other requester in the chain: every request is served by its own
cluster and a client joins at most one, so no plan has one there.
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
"""Searches kept alive at once (a request's own figures are a few MB at 2,000 clients)."""
SearchKey = tuple[ClusterKind, int, bool, str]
"""(kind, samples, cached, objective): what a search's figures and estimate depend on."""


@dataclass
class StartBounds:
    """Start points of `scenario` and their cheapest clusters; `deadline_s` drops clusters that miss it."""

    scenario: Scenario
    deadline_s: float | None = None
    budget: Budget | None = None
    graph: LinkGraph = field(init=False)
    _searches: OrderedDict[SearchKey, Search] = field(default_factory=OrderedDict)
    _hops: dict[int, HopArrays] = field(default_factory=dict)
    _relaxed: dict[tuple[Start, str], float] = field(default_factory=dict)
    _estimates: dict[tuple[ClusterKind, int, bool], dict[str, np.ndarray]] = field(default_factory=dict)
    _finetune_fig: Figures | None = None
    _best: dict[tuple[Start, str, bool], Chain | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.graph = LinkGraph.of(self.scenario)

    @property
    def requests(self) -> list[str]:
        return [r.id for r in self.scenario.requesters]

    @property
    def sources(self) -> list[str]:
        """Data sources that raised no request (a requester's own cluster is its inference one)."""
        if self.scenario.finetune is None:
            return []
        return [d.id for d in self.scenario.data_sources if d.request is None]

    def search(self, start: Start, objective: str) -> Search:
        """The search for clusters like `start`'s (the last `KEEP` are kept: a request's figures are its own)."""
        kind, samples, cached = self.key(start)
        key = (kind, samples, cached, objective)
        if key in self._searches:
            self._searches.move_to_end(key)
            return self._searches[key]
        twin = next((s.fig for k, s in self._searches.items() if k[:3] == key[:3]), None)
        self._check()  # each step of building a search sweeps every node: checked in between
        fig = twin or (self._finetune() if kind == "finetune" else self.graph.figures(kind, key[1], cached, hops=False))
        self._check()
        h = self._estimates.get(key[:3]) or self._estimate(fig)
        self._estimates = {key[:3]: h}  # the twin search reuses it
        lat = h["latency"] if self.deadline_s is not None else None
        barred = np.array([v.request is not None for v in self.scenario.nodes])
        self._check()
        self._searches[key] = Search(self.graph, fig, objective, h[objective], lat, self.deadline_s, barred,
                                     budget=self.budget)
        if len(self._searches) > KEEP:
            self._searches.popitem(last=False)
        return self._searches[key]

    def _check(self) -> None:
        if self.budget is not None:
            self.budget.check()

    def _finetune(self) -> Figures:
        if self._finetune_fig is None:
            self._finetune_fig = self.graph.figures("finetune", self.scenario.training.batch_size, False)
        return self._finetune_fig

    def _estimate(self, fig: Figures) -> dict[str, np.ndarray]:
        """The sweeps' estimates for `fig`. A request's hop figures are its bucket's (the largest power of two
        of samples not above its own, computed once) scaled to its samples: hop seconds and joules are
        proportional to the samples, and the scale is shaded by 1e-12 so rounding keeps it a lower bound."""
        if fig.hops is None:
            at = 1 << (fig.samples.bit_length() - 1)
            if at not in self._hops:
                self._hops[at] = self.graph.figures(fig.kind, at, False).hops  # type: ignore[assignment]
            bucket = self._hops[at]
            scale = fig.samples / at * (1 - 1e-12)
            fig = replace(fig, hops=replace(bucket, iter_s=bucket.iter_s * scale, energy_j=bucket.energy_j * scale))
        latency = to_head(self.graph, fig, "latency")
        self._check()
        return {"latency": latency, "energy": to_head(self.graph, fig, "energy")}

    def key(self, start: Start) -> tuple[ClusterKind, int, bool]:
        """What `start`'s search depends on besides the objective: kind, samples, cached."""
        kind, node = start
        request = self.scenario.node[node].request
        return kind, batch_samples(self.scenario, kind, node), kind == "inference" and request is not None and request.cached

    def relaxed(self, start: Start, objective: str) -> float:
        """The sweep's lower bound on any cluster from `start` (no search)."""
        if (start, objective) not in self._relaxed:
            s = self.search(start, objective)
            self._relaxed[(start, objective)] = s.estimate(self.graph.index[start[1]])
        return self._relaxed[(start, objective)]

    def relax_all(self, starts: list[Start], objective: str) -> dict[Start, float]:
        """`relaxed` for many starts, visited search by search (so each search is built once)."""
        return {s: self.relaxed(s, objective) for s in sorted(starts, key=lambda s: (self.key(s), s))}

    def best(self, start: Start, objective: str, edges: bool = True) -> Chain | None:
        """The exact cheapest cluster from `start` (None: none fits); `edges`: may an edge server join it."""
        key = (start, objective, edges)
        if key not in self._best:
            found = self.search(start, objective).chains(self.graph.index[start[1]], edges=edges)
            self._best[key] = found[0] if found else None
        return self._best[key]

    def value(self, start: Start, objective: str, edges: bool = True) -> float:
        """`best`'s value, infinite when no cluster fits."""
        chain = self.best(start, objective, edges)
        return math.inf if chain is None else chain.value

    def uses_edge(self, chain: Chain) -> bool:
        return any(self.graph.is_edge[v] for v, _, _ in chain.members)
