"""The exact cheapest clusters from one start point: a best-first (A*) search over real chains.

A partial chain is a path of distinct nodes from the start, each holding a
unit range, with its exact figures so far (additive seconds, the delivery
and upload maxima, joules) read from the cost model's arrays. It grows by a
hop to an out-neighbour and that neighbour's range; the estimate of the rest
is the relaxation `completion.to_head`, a lower bound, so chains come off the
heap cheapest first and the first complete one is the start's optimum
(Hart, Nilsson and Raphael, IEEE Trans. SSC 4(2), 1968). An edge server
joins a chain only as its own cluster's server, as in the exact models
(docs/model.md §7.1). `penalty` adds a price per node that joins (column
generation's duals). `limit` keeps every chain within that value, up to
`cap` of them.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from gaisnet_opt.bounds.completion import hop_cost, to_head
from gaisnet_opt.bounds.link_graph import Figures, LinkGraph
from gaisnet_opt.budget import Budget
from gaisnet_opt.cost import hop_cost as cost_hop
from gaisnet_opt.cost import hop_energy_j, iterations
from gaisnet_opt.plan import Cluster, ClusterKind, Member

Range = tuple[int, int, int]
"""(node index, first unit, last unit)."""


@dataclass(frozen=True)
class Chain:
    """One complete cluster the search found: its value (objective plus penalties), exact latency and energy."""

    value: float
    latency_s: float
    energy_j: float
    server: str | None
    members: tuple[Range, ...]

    def cluster(self, graph: LinkGraph, kind: ClusterKind) -> Cluster:
        members = tuple(Member(node=graph.ids[v], first=f, last=l) for v, f, l in self.members)
        return Cluster(kind=kind, members=members, server=self.server)


@dataclass(frozen=True)
class Partial:
    """A partial chain on the heap: its exact figures so far, the penalties of its nodes, its server, its path."""

    secs: float
    dl: float
    ul: float
    joules: float
    pen: float
    server: int
    path: tuple[Range, ...]


@dataclass(frozen=True)
class FirstMembers:
    """Start points' first members `[start, server, last unit]`: additive seconds (`[start, 1, last]`), delivery,
    upload, joules, and whether the member is usable (memory and server links)."""

    secs: np.ndarray
    dl: np.ndarray
    ul: np.ndarray
    joules: np.ndarray
    usable: np.ndarray


CHECK_EVERY = 64
"""Expansions between two budget checks (one expansion takes well under a millisecond)."""

Push = Callable[[float, bool, "Partial"], None]
"""Offer a heap entry: its estimate, whether the chain is complete, the chain."""


@dataclass
class Search:
    """The figures and estimates one (kind, samples, cached) search needs; `deadline_s` prunes by latency."""

    graph: LinkGraph
    fig: Figures
    objective: str
    h: np.ndarray
    h_latency: np.ndarray | None = None
    deadline_s: float | None = None
    barred: np.ndarray | None = None
    """Nodes no chain may take in after its start (the other requesters: each starts its own cluster)."""
    budget: Budget | None = None
    """Checked every `CHECK_EVERY` expansions: one start's search can outlast a short time limit."""
    _ret: dict[int, dict[int, tuple[float, float]]] = field(default_factory=dict)

    @classmethod
    def build(cls, graph: LinkGraph, fig: Figures, objective: str, deadline_s: float | None = None,
              estimate: Figures | None = None) -> Search:
        """A search for `objective` over `fig`, its estimates swept once over `estimate` (default `fig`; any
        figures no dearer, e.g. fewer samples) and the latency one too under a deadline."""
        base = estimate if estimate is not None else fig
        h = to_head(graph, base, objective)
        h_lat = to_head(graph, base, "latency") if deadline_s is not None and objective != "latency" else None
        return cls(graph, fig, objective, h, h_lat, deadline_s)

    def __post_init__(self) -> None:
        self.last_floor = math.inf
        self.last_pops = 0
        self.h_lat = self.h if self.objective == "latency" else self.h_latency if self.h_latency is not None else np.zeros_like(self.h)
        self.it = iterations(self.graph.scenario, self.fig.kind)
        self.seg_s = self.it * self.fig.seg.iter_s
        self.n = self.seg_s.shape[1]
        self.server_node = [self.graph.index[s] if s is not None else -1 for s in self.graph.servers]
        self.slots = np.array([v.slots for v in self.graph.scenario.nodes])

    def out_hops(self, u: int) -> tuple[np.ndarray, np.ndarray]:
        """Round seconds and joules `[link, unit]` of u's out-links (in `indptr` order), computed once."""
        out = self.fig.out
        if u not in out:
            fig, hops = self.fig, self.fig.hops
            if hops is None:
                fig = self.graph.out_figures(fig, u)
            else:  # u's rows only: a slice of the whole graph's figures would keep them all alive, once per node
                sl = slice(self.graph.indptr[u], self.graph.indptr[u + 1])
                fig = replace(fig, hops=replace(hops, src=hops.src[sl], dst=hops.dst[sl], iter_s=hops.iter_s[sl],
                                                energy_j=hops.energy_j[sl]))
            out[u] = (hop_cost(self.graph, fig, "latency"), hop_cost(self.graph, fig, "energy"))
        return out[u]

    def value(self, p: Partial) -> float:
        return (p.secs + p.dl + p.ul if self.objective == "latency" else p.joules) + p.pen

    def returns(self, start: int) -> dict[int, tuple[float, float]]:
        """Seconds and joules of the inference result from each node back to `start` (none for fine-tuning)."""
        if start not in self._ret:
            s, g, out = self.graph.scenario, self.graph, {}
            if self.fig.kind == "inference":
                for v in np.flatnonzero(g.dst == start):
                    a = int(g.src[v])
                    hop = cost_hop(s, "inference", g.ids[a], g.ids[start], self.n - 1, self.fig.samples)
                    if hop.fwd_s < math.inf:
                        out[a] = (hop.fwd_s, hop_energy_j(s, hop, 1))
            self._ret[start] = out
        return self._ret[start]

    def chains(self, start: int, limit: float = math.inf, cap: int = 1, penalty: np.ndarray | None = None,
               edges: bool = True, pops: int | None = None, dominance: bool = False) -> list[Chain]:
        """The start's cheapest complete chains, cheapest first: at most `cap`, none above `limit`
        (`edges`: whether an edge server may join the chain). With `pops`, the search stops after that many
        partial chains expanded; `last_floor` then bounds from below every chain it did not return, and
        `last_pops` counts the expansions either way. With `dominance` (for `cap` 1: it drops chains that
        are not the cheapest), a partial chain is not expanded when one already expanded is `dominates` it."""
        pen = penalty if penalty is not None else np.zeros(len(self.graph.ids))
        heap: list[tuple[float, int, bool, Partial]] = []
        tick = itertools.count()
        kept: list[float] = []  # the cap smallest complete values pushed, negated (a max-heap)
        found: list[Chain] = []
        labels: dict[tuple[frozenset[int], int, int, int], list[tuple[float, ...]]] = {}

        def bound() -> float:
            return min(limit, -kept[0]) if len(kept) >= cap else limit

        def push(f: float, done: bool, p: Partial) -> None:
            if f > bound():
                return
            if done:
                heapq.heappush(kept, -f)
                if len(kept) > cap:
                    heapq.heappop(kept)
            heapq.heappush(heap, (f, next(tick), done, p))

        self.seed_heap(start, pen, push)
        self.last_floor = math.inf
        expanded = 0
        while heap:
            if pops is not None and expanded >= pops:
                self.last_floor = heap[0][0]
                break
            f, _, done, p = heapq.heappop(heap)
            if f > limit:
                break
            if done:
                found.append(self.complete(f, p, start))
                if len(found) >= cap:
                    break
                continue
            if dominance and self.dominated(p, labels):
                continue
            self.expand(start, p, pen, push, bound(), edges)
            expanded += 1
            if self.budget is not None and expanded % CHECK_EVERY == 0:
                self.budget.check()
        self.last_pops = expanded
        return found

    def label(self, p: Partial) -> tuple[float, ...]:
        """What of `p` its extensions' values and the deadline test read, each non-decreasing in every entry:
        latency's additive seconds, delivery and upload maxima and penalties; energy's joules and penalties
        (and the latency figures under a deadline)."""
        if self.objective == "latency":
            return p.secs, p.dl, p.ul, p.pen
        if self.deadline_s is None:
            return p.joules, p.pen
        return p.joules, p.pen, p.secs, p.dl, p.ul

    def dominated(self, p: Partial, labels: dict[tuple[frozenset[int], int, int, int], list[tuple[float, ...]]]) -> bool:
        """Whether a partial chain already expanded dominates `p` (else `p`'s label is recorded as expanded).

        Two partials with the same node set, last node, last unit and server have the same extensions: the
        next hop, range, server links, the inference result's way home and the deadline test depend on
        nothing else. Each extension adds the same terms to both, through sums and maxima (monotone in
        floating point too), so if every `label` entry of the expanded one q is at most p's, each extension
        of q is no dearer than p's and stays within every cut p's would pass: a cheapest chain through p has
        a twin through q, no dearer, whose extensions q's expansion pushed (docs/model.md §7.3). The twin may
        be dominated in turn, by a partial expanded earlier still, so the chain of twins ends."""
        key = (frozenset(x[0] for x in p.path), p.path[-1][0], p.path[-1][2], p.server)
        mine = self.label(p)
        seen = labels.setdefault(key, [])
        if any(all(a <= b for a, b in zip(q, mine, strict=True)) for q in seen):
            return True
        seen.append(mine)
        return False

    def first_members(self, starts: np.ndarray) -> FirstMembers:
        """Every start's possible first members `[start, server, last unit]` (the heap's first entries)."""
        fig = self.fig
        dl, ul, link_j, ok = fig.links.every_server(starts, 0)
        return FirstMembers(secs=self.seg_s[starts, 0][:, None, :], dl=dl, ul=ul,
                            joules=fig.seg.compute_j[starts, 0][:, None, :] + link_j,
                            usable=fig.seg.fits[starts, 0][:, None, :] & ok)

    def first_values(self, starts: np.ndarray, first: FirstMembers | None = None) -> tuple[np.ndarray, np.ndarray]:
        """What `_offer` reads of each first member `[start, server, last]` (infinite where unusable): the heap
        key (value plus the estimate of the rest) and the latency bound the deadline is held to."""
        f = first if first is not None else self.first_members(starts)
        done = np.arange(self.n) == self.n - 1
        rest = np.where(done, 0.0, self.h[starts])[:, None, :]
        rest_lat = np.where(done, 0.0, self.h_lat[starts])[:, None, :]
        secs = f.secs + f.dl + f.ul
        with np.errstate(invalid="ignore"):
            key = np.where(f.usable, (secs if self.objective == "latency" else f.joules) + 0.0 + rest, math.inf)
            latency = np.where(f.usable, secs + rest_lat, math.inf)
        return key, latency

    def estimates(self, starts: np.ndarray) -> np.ndarray:
        """A lower bound per start on any cluster from it without searching: the least heap key its first members
        get (`_seed`), the deadline applied as `_offer` does."""
        key, latency = self.first_values(starts)
        if self.deadline_s is not None:
            key = np.where(latency > self.deadline_s, math.inf, key)
        return key.min(axis=(1, 2), initial=math.inf)

    def seed_heap(self, start: int, pen: np.ndarray, push: Push) -> None:
        """Offer the start's first members (every server and last unit) to `push`: the search's first step, public
        so that variants of the loop in `chains` (`solvers/decompose/minimal.py`) reuse the steps."""
        f = self.first_members(np.array([start]))
        for k, l in zip(*np.nonzero(f.usable[0]), strict=True):
            p = Partial(float(f.secs[0, 0, l]), float(f.dl[0, k, l]), float(f.ul[0, k, l]), float(f.joules[0, k, l]),
                         float(pen[start]), int(k), ((start, 0, int(l)),))
            self._offer(p, int(l) == self.n - 1, push)

    def _offer(self, p: Partial, done: bool, push: Push) -> None:
        end, last = p.path[-1][0], p.path[-1][2]
        latency = p.secs + p.dl + p.ul + (0.0 if done else float(self.h_lat[end, last]))
        if self.deadline_s is not None and latency > self.deadline_s:
            return
        push(self.value(p) + (0.0 if done else float(self.h[end, last])), done, p)


    def expand(self, start: int, p: Partial, pen: np.ndarray, push: Push, cut: float, edges: bool) -> None:
        """Offer every one-hop extension of `p` (a neighbour and its unit range) estimated within `cut`."""
        g, fig, n = self.graph, self.fig, self.n
        u, l, k = p.path[-1][0], p.path[-1][2], p.server
        links = np.arange(g.indptr[u], g.indptr[u + 1])
        v = g.dst[links]
        hop_s, hop_j = self.out_hops(u)
        seen = np.array([x[0] for x in p.path])
        ok = np.isfinite(hop_s[:, l]) & ~np.isin(v, seen)
        ok &= ~g.is_edge[v] | ((v == self.server_node[k]) & (self.slots[v] > 0) & edges)
        if self.barred is not None:
            ok &= ~self.barred[v]
        v, hop_s, hop_j = v[ok], hop_s[ok, l], hop_j[ok, l]
        if not len(v):
            return
        j = l + 1
        secs = p.secs + hop_s[:, None] + self.seg_s[v, j, j:]
        dl = np.maximum(p.dl, fig.links.delivery_s(k, v, j))
        ul = np.maximum(p.ul, fig.links.upload_s(k, v, j))
        with np.errstate(invalid="ignore"):
            joules = p.joules + hop_j[:, None] + fig.energy_j(k, v, j)
        pens = p.pen + pen[v][:, None]
        ret_s, ret_j = np.zeros(len(v)), np.zeros(len(v))
        if fig.kind == "inference":
            back = self.returns(start)
            ret_s = np.array([back.get(int(x), (math.inf, math.inf))[0] for x in v])
            ret_j = np.array([back.get(int(x), (math.inf, math.inf))[1] for x in v])
        secs[:, -1] += ret_s
        joules[:, -1] += ret_j
        est = (secs + dl + ul if self.objective == "latency" else joules) + pens + self.h[v, j:]
        good = fig.usable(k, v, j) & (est <= cut)
        for a, b in zip(*np.nonzero(good), strict=True):
            q = Partial(float(secs[a, b]), float(dl[a, b]), float(ul[a, b]), float(joules[a, b]), float(pens[a, 0]),
                         k, (*p.path, (int(v[a]), j, j + int(b))))
            self._offer(q, j + int(b) == n - 1, push)

    def complete(self, f: float, p: Partial, start: int) -> Chain:
        """The complete chain `p`, popped at value `f`."""
        return Chain(value=f, latency_s=p.secs + p.dl + p.ul, energy_j=p.joules, server=self.graph.servers[p.server],
                     members=p.path)
