"""The scenario's links as index arrays, and the cost model's figures over them, for the vectorised chain search.

A link is a directed pair a → b a chain's data may cross: a D2D link, a
client's uplink to an edge server, or an edge server's downlink to a client,
each with `rate(a, b)` and the rate back `rate(b, a)` (NaN: none). Links are
sorted by source so a node's out-links are one slice (`indptr`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from gaisnet_opt.cost import HopArrays, SegmentArrays, ServerArrays, hop_arrays, segment_arrays, server_arrays
from gaisnet_opt.plan import ClusterKind
from gaisnet_opt.scenario import Scenario


@dataclass(frozen=True)
class LinkGraph:
    """Nodes in scenario order, links sorted by source; `indptr[i]:indptr[i+1]` are node i's out-links."""

    scenario: Scenario
    ids: tuple[str, ...]
    index: dict[str, int]
    is_edge: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    fwd_rate: np.ndarray
    bwd_rate: np.ndarray
    indptr: np.ndarray
    _links: dict[tuple[ClusterKind, bool], ServerLinks] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, scenario: Scenario) -> LinkGraph:
        ids = tuple(v.id for v in scenario.nodes)
        index = {v: i for i, v in enumerate(ids)}
        pairs = list(scenario.d2d_rate)
        pairs += [(x.client, x.server) for x in scenario.server_links] + [(x.server, x.client) for x in scenario.server_links]

        def rate(a: str, b: str) -> float:
            r = scenario.rate(a, b)
            return math.nan if r is None else r

        src = np.array([index[a] for a, _ in pairs], dtype=np.int64)
        dst = np.array([index[b] for _, b in pairs], dtype=np.int64)
        order = np.lexsort((dst, src))
        fwd = np.array([rate(a, b) for a, b in pairs])[order]
        bwd = np.array([rate(b, a) for a, b in pairs])[order]
        indptr = np.searchsorted(src[order], np.arange(len(ids) + 1))
        is_edge = np.array([v.kind == "edge" for v in scenario.nodes])
        return cls(scenario, ids, index, is_edge, src[order], dst[order], fwd, bwd, indptr)

    @cached_property
    def servers(self) -> tuple[str | None, ...]:
        """Every edge server in scenario order (just None without any)."""
        edges = tuple(v.id for v in self.scenario.edges)
        return edges if edges else (None,)

    def server_links(self, kind: ClusterKind, cached: bool) -> ServerLinks:
        """Delivery and upload figures per server (they do not depend on the samples): computed once."""
        if (kind, cached) not in self._links:
            self._links[(kind, cached)] = ServerLinks(server_arrays(self.scenario, kind, cached, self.servers))
        return self._links[(kind, cached)]

    def figures(self, kind: ClusterKind, samples: int, cached: bool, hops: bool = True) -> Figures:
        """The cost model's segment and hop figures for clusters of `kind` over `samples` samples
        (`hops` False: hop figures are left to `out_figures`, node by node)."""
        seg = segment_arrays(self.scenario, kind, samples)
        links = hop_arrays(self.scenario, kind, samples, self.src, self.dst, self.fwd_rate, self.bwd_rate) if hops else None
        return Figures(kind, samples, seg, self.server_links(kind, cached), links)

    def out_figures(self, fig: Figures, u: int) -> Figures:
        """`fig` with the hop figures of node u's out-links only (in `indptr` order)."""
        sl = slice(self.indptr[u], self.indptr[u + 1])
        hops = hop_arrays(self.scenario, fig.kind, fig.samples, self.src[sl], self.dst[sl], self.fwd_rate[sl],
                          self.bwd_rate[sl])
        return Figures(fig.kind, fig.samples, fig.seg, fig.links, hops)


@dataclass(frozen=True)
class ServerLinks:
    """`ServerArrays` with what the searches read of them: where the links exist, the least air energy."""

    arrays: ServerArrays

    @cached_property
    def ok(self) -> np.ndarray:
        """`[server, node, first, last]`: the server links exist where tunable bytes move."""
        return np.isfinite(self.arrays.delivery_s) & np.isfinite(self.arrays.upload_s)

    @cached_property
    def least_j(self) -> np.ndarray:
        """`[node, first, last]`: the least delivery + upload energy over the servers (infinite: none links)."""
        return np.where(self.ok, self.arrays.link_j, math.inf).min(axis=0)


@dataclass(frozen=True)
class Figures:
    """Segments, server links and hops of one (kind, samples, cached)."""

    kind: ClusterKind
    samples: int
    seg: SegmentArrays
    links: ServerLinks
    hops: HopArrays | None
    out: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, compare=False, repr=False)
    """Per node, its out-links' round seconds and joules once a search has asked (`Search.out_hops`)."""

    def usable(self, k: int, v: np.ndarray | int, j: int) -> np.ndarray:
        """Whether node(s) v may hold j..l for each l >= j, served by server k (memory and server links)."""
        return self.seg.fits[v, j, j:] & self.links.ok[k, v, j, j:]

    def energy_j(self, k: int, v: np.ndarray | int, j: int) -> np.ndarray:
        """Joules of node(s) v holding j..l for each l >= j, served by server k: compute plus air time."""
        return self.seg.compute_j[v, j, j:] + self.links.arrays.link_j[k, v, j, j:]
