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

from gaisnet_opt.cost import MISSING, HopArrays, SegmentArrays, ServerArrays, hop_arrays, segment_arrays, server_arrays
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
        """The graph of `scenario`'s links with `Scenario.rate` each way, D2D rates vectorised (a city has millions)."""
        ids = tuple(v.id for v in scenario.nodes)
        index = {v: i for i, v in enumerate(ids)}
        d2d, n = scenario.d2d_rate, len(ids)
        a = np.fromiter((index[x] for x, _ in d2d), np.int64, len(d2d))
        b = np.fromiter((index[y] for _, y in d2d), np.int64, len(d2d))
        rate = np.fromiter(d2d.values(), float, len(d2d))
        back = _lookup(a * n + b, rate, b * n + a)  # rate(b, a): the D2D link back, if any
        links = [scenario.server_link[(x.client, x.server)] for x in scenario.server_links]
        client = np.array([index[x.client] for x in links], dtype=np.int64)
        server = np.array([index[x.server] for x in links], dtype=np.int64)
        up, down = np.array([x.uplink_bps for x in links]), np.array([x.downlink_bps for x in links])
        src = np.concatenate([a, client, server])
        dst = np.concatenate([b, server, client])
        order = np.lexsort((dst, src))
        fwd = np.concatenate([rate, up, down])[order]
        bwd = np.concatenate([back, down, up])[order]
        indptr = np.searchsorted(src[order], np.arange(n + 1))
        is_edge = np.array([v.kind == "edge" for v in scenario.nodes])
        return cls(scenario, ids, index, is_edge, src[order], dst[order], fwd, bwd, indptr)

    @cached_property
    def _in_order(self) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(self.dst, kind="stable")
        return order, np.searchsorted(self.dst[order], np.arange(len(self.ids) + 1))

    def in_links(self, v: int) -> np.ndarray:
        """The links into node v, ascending (`np.flatnonzero(dst == v)`, without a pass over every link)."""
        order, ptr = self._in_order
        return order[ptr[v]:ptr[v + 1]]

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
        return Figures(kind, samples, seg, self.server_links(kind, cached), self.hops(kind, samples) if hops else None)

    def hops(self, kind: ClusterKind, samples: int) -> HopArrays:
        """The cost model's hop figures of every link for clusters of `kind` over `samples` samples."""
        return hop_arrays(self.scenario, kind, samples, self.src, self.dst, self.fwd_rate, self.bwd_rate)

    def out_figures(self, fig: Figures, u: int) -> Figures:
        """`fig` with the hop figures of node u's out-links only (in `indptr` order)."""
        sl = slice(self.indptr[u], self.indptr[u + 1])
        hops = hop_arrays(self.scenario, fig.kind, fig.samples, self.src[sl], self.dst[sl], self.fwd_rate[sl],
                          self.bwd_rate[sl])
        return Figures(fig.kind, fig.samples, fig.seg, fig.links, hops)


def _lookup(keys: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """`values` at each of `wanted` among the distinct `keys` (NaN where absent)."""
    order = np.argsort(keys)
    pos = np.minimum(np.searchsorted(keys[order], wanted), max(len(keys) - 1, 0))
    found = keys[order][pos] == wanted if len(keys) else np.zeros(len(wanted), dtype=bool)
    return np.where(found, values[order][pos] if len(keys) else math.nan, math.nan)


@dataclass(frozen=True)
class ServerLinks:
    """`ServerArrays` with what the searches read of them, by (server k, node(s) v, first unit j) for every
    last unit l >= j: the figures, where the links exist, and per node the best over the servers."""

    arrays: ServerArrays

    @cached_property
    def ok_rows(self) -> np.ndarray:
        """`[row, first, last]`: the server links exist where tunable bytes move."""
        return np.isfinite(self.arrays.delivery_s) & np.isfinite(self.arrays.upload_s)

    def ok(self, k: int, v: np.ndarray | int, j: int) -> np.ndarray:
        return self.ok_rows[self.arrays.row[k, v], j, j:]

    def delivery_s(self, k: int, v: np.ndarray | int, j: int) -> np.ndarray:
        return self.arrays.delivery_s[self.arrays.row[k, v], j, j:]

    def upload_s(self, k: int, v: np.ndarray | int, j: int) -> np.ndarray:
        return self.arrays.upload_s[self.arrays.row[k, v], j, j:]

    def link_j(self, k: int, v: np.ndarray | int, j: int) -> np.ndarray:
        return self.arrays.link_j[self.arrays.row[k, v], j, j:]

    def at(self, k: int, v: np.ndarray, j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`delivery_s`, `upload_s` and `link_j` of nodes v holding j..l served by server k, `[node, l - j]`."""
        rows, a = self.arrays.row[k, v], self.arrays
        return a.delivery_s[rows, j, j:], a.upload_s[rows, j, j:], a.link_j[rows, j, j:]

    def every_server(self, v: np.ndarray, j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Delivery, upload, joules and `ok` of nodes v holding j..l, `[node, server, l - j]`, for every server."""
        rows, a = self.arrays.row[:, v].T, self.arrays
        return a.delivery_s[rows, j, j:], a.upload_s[rows, j, j:], a.link_j[rows, j, j:], self.ok_rows[rows, j, j:]

    @cached_property
    def ok_from(self) -> np.ndarray:
        """`[row, first]`: `ok_rows` for some last unit."""
        out: np.ndarray = np.logical_or.reduce(self.ok_rows, axis=2)
        return out

    @cached_property
    def any_ok(self) -> np.ndarray:
        """`[node, first, last]`: some server's links exist (`ok` for at least one server)."""
        return self._over_servers(self.ok_rows, np.logical_or)

    @cached_property
    def least_j(self) -> np.ndarray:
        """`[node, first, last]`: the least delivery + upload energy over the servers (infinite: none links)."""
        return self._over_servers(np.where(self.ok_rows, self.arrays.link_j, math.inf), np.minimum)

    def _over_servers(self, per_row: np.ndarray, op: np.ufunc) -> np.ndarray:
        """`op` over the servers of `per_row[row[k, v]]` for each node v, over the distinct rows it reads: its
        least row (a shared one where it lacks a link, else a link of its own) and its links' rows, which are
        contiguous (node order), so no `[server, node, ...]` array is built (`op` is idempotent: min, or)."""
        row = self.arrays.row
        out: np.ndarray = per_row[row.min(axis=0)]
        ks, vs = np.nonzero(row > MISSING)
        if len(vs):
            node_of = np.empty(len(per_row) - MISSING - 1, dtype=np.int64)
            node_of[row[ks, vs] - MISSING - 1] = vs
            nodes, first = np.unique(node_of, return_index=True)
            out[nodes] = op(out[nodes], op.reduceat(per_row[MISSING + 1:], first, axis=0))
        return out


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

    def server_terms(self, k: int, v: np.ndarray, j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Delivery and upload seconds and air-time joules of nodes v holding j..l served by server k,
        `[node, l - j]` (one row lookup for the three where the links are `ServerLinks`)."""
        links = self.links
        if isinstance(links, ServerLinks):
            return links.at(k, v, j)
        return links.delivery_s(k, v, j), links.upload_s(k, v, j), links.link_j(k, v, j)

    def may_hold(self, k: int, v: np.ndarray, j: int) -> np.ndarray:
        """Per node of v, whether server k's links let it hold j..l for some l (memory aside): `usable` is False
        throughout where this is."""
        links = self.links
        if isinstance(links, ServerLinks):
            return links.ok_from[links.arrays.row[k, v], j]
        return links.ok(k, v, j).any(axis=1)

    def usable(self, k: int, v: np.ndarray | int, j: int) -> np.ndarray:
        """Whether node(s) v may hold j..l for each l >= j, served by server k (memory and server links)."""
        return self.seg.fits[v, j, j:] & self.links.ok(k, v, j)

    def energy_j(self, k: int, v: np.ndarray | int, j: int) -> np.ndarray:
        """Joules of node(s) v holding j..l for each l >= j, served by server k: compute plus air time."""
        return self.seg.compute_j[v, j, j:] + self.links.link_j(k, v, j)
