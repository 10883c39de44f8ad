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

import math
from dataclasses import dataclass, field, replace

import numpy as np

from gaisnet_opt.bounds.completion import hop_cost, to_head
from gaisnet_opt.bounds.frontier import Frontier, Partial, Range
from gaisnet_opt.bounds.link_graph import Figures, LinkGraph
from gaisnet_opt.budget import Budget
from gaisnet_opt.cost import hop_cost as cost_hop
from gaisnet_opt.cost import hop_energy_j, iterations
from gaisnet_opt.plan import Cluster, ClusterKind, Member


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
        self._links: dict[int, tuple[np.ndarray, np.ndarray, dict[int, tuple[int, ...]]]] = {}
        self._hops: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._back: tuple[int, np.ndarray, np.ndarray] | None = None

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
                for v in g.in_links(start):
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
        front = Frontier(limit, cap)
        found: list[Chain] = []
        labels: dict[tuple[frozenset[int], int, int, int], list[tuple[float, ...]]] = {}
        self.seed_heap(start, pen, front)
        self.last_floor = math.inf
        expanded = 0
        while front:
            if pops is not None and expanded >= pops:
                self.last_floor = front.peek()[0]
                break
            f, done, p = front.pop()
            if f > limit:
                break
            if done:
                found.append(self.complete(f, p, start))
                if len(found) >= cap:
                    break
                continue
            if dominance and self.dominated(p, labels):
                continue
            self.expand(start, p, pen, front, edges)
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
        """What `_offer_all` reads of each first member `[start, server, last]` (infinite where unusable): the heap
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
        get (`seed_heap`), the deadline applied as `_offer_all` does."""
        key, latency = self.first_values(starts)
        if self.deadline_s is not None:
            key = np.where(latency > self.deadline_s, math.inf, key)
        return key.min(axis=(1, 2), initial=math.inf)

    def seed_heap(self, start: int, pen: np.ndarray, front: Frontier) -> None:
        """Offer the start's first members (every server and last unit) to `front`: the search's first step, public
        so that variants of the loop in `chains` (`solvers/decompose/minimal.py`) reuse the steps."""
        f = self.first_members(np.array([start]))
        ks, ls = np.nonzero(f.usable[0])
        if not len(ks):
            return
        secs, dl, ul, joules = f.secs[0, 0, ls], f.dl[0, ks, ls], f.ul[0, ks, ls], f.joules[0, ks, ls]
        self._offer_all(secs, dl, ul, joules, np.full(len(ks), float(pen[start])), self.h[start, ls],
                        self.h_lat[start, ls], ls == self.n - 1, front, ks, (), np.full(len(ks), start), 0, ls)

    def _offer_all(self, secs: np.ndarray, dl: np.ndarray, ul: np.ndarray, joules: np.ndarray, pens: np.ndarray,
                   rest: np.ndarray, rest_lat: np.ndarray, done: np.ndarray, front: Frontier, servers: np.ndarray,
                   prefix: tuple[Range, ...], nodes: np.ndarray, first: int, lasts: np.ndarray) -> None:
        """Offer new chains to `front` (flat arrays: their figures, the estimates of their rests, whether each is
        complete, and each one's server and new member (node, `first`, last) after `prefix`): the key is the value
        so far plus the estimate of the rest (0 for a complete chain), and under a deadline a chain whose latency
        with the latency estimate of its rest is past it is not offered."""
        rest = np.where(done, 0.0, rest)
        lat = secs + dl + ul
        if self.deadline_s is not None:
            keep = lat + np.where(done, 0.0, rest_lat) <= self.deadline_s
            if not keep.all():
                secs, dl, ul, joules, pens, rest, done, lat, servers, nodes, lasts = (
                    x[keep] for x in (secs, dl, ul, joules, pens, rest, done, lat, servers, nodes, lasts))
        key = ((lat if self.objective == "latency" else joules) + pens) + rest
        front.offer(key, done, np.stack([secs, dl, ul, joules, pens], axis=1), servers.tolist(), prefix,
                    nodes.tolist(), first, lasts.tolist())

    def expand(self, start: int, p: Partial, pen: np.ndarray, front: Frontier, edges: bool) -> None:
        """Offer every one-hop extension of `p` (a neighbour and its unit range) estimated within `front`'s bound."""
        fig, n = self.fig, self.n
        u, l, k = p.path[-1][0], p.path[-1][2], p.server
        v, free, row = self.out_links(u)
        ok = free.copy()
        server = self.server_node[k]
        if edges and server >= 0 and self.slots[server] > 0 and not self._barred(server):
            for i in row.get(server, ()):  # the chain's own edge server may join it
                ok[i] = True
        for x, _, _ in p.path:  # distinct nodes
            for i in row.get(x, ()):
                ok[i] = False
        sel = np.flatnonzero(ok)
        if not len(sel):
            return
        v, j = v[sel], l + 1
        if not fig.may_hold(k, v, j).any():  # most often: no neighbour has links with the chain's server (the
            return                               # estimate ignores it)
        usable = fig.usable(k, v, j)
        if not usable.any():
            return
        hop_s, hop_j, finite = self.out_figures(u)  # only now: many nodes are expanded into such dead ends only
        hop_s, hop_j = hop_s[sel, l], hop_j[sel, l]
        if not (fin := finite[sel, l]).all():
            v, hop_s, hop_j, usable = v[fin], hop_s[fin], hop_j[fin], usable[fin]
            if not usable.any():
                return
        delivery, upload, link_j = fig.server_terms(k, v, j)
        secs = p.secs + hop_s[:, None] + self.seg_s[v, j, j:]
        dl = np.maximum(p.dl, delivery)
        ul = np.maximum(p.ul, upload)
        with np.errstate(invalid="ignore"):
            joules = p.joules + hop_j[:, None] + (fig.seg.compute_j[v, j, j:] + link_j)
        pens = p.pen + pen[v][:, None]
        if fig.kind == "inference":
            ret_s, ret_j = self.returns_at(start)
            secs[:, -1] += ret_s[v]
            joules[:, -1] += ret_j[v]
        rest = self.h[v, j:]
        est = (secs + dl + ul if self.objective == "latency" else joules) + pens + rest
        a, b = np.nonzero(usable & (est <= front.bound()))
        if not len(a):
            return
        self._offer_all(secs[a, b], dl[a, b], ul[a, b], joules[a, b], pens[a, 0], rest[a, b], self.h_lat[v[a], j + b],
                        j + b == n - 1, front, np.full(len(a), k), p.path, v[a], j, j + b)

    def out_links(self, u: int) -> tuple[np.ndarray, np.ndarray, dict[int, tuple[int, ...]]]:
        """u's out-neighbours, which of them a chain may take in as any member (neither an edge server nor a
        barred node: those only as `expand` lets them) and each neighbour's rows: once per node, `barred` read
        then."""
        if u not in self._links:
            g = self.graph
            v = g.dst[g.indptr[u]:g.indptr[u + 1]]
            free = ~g.is_edge[v] if self.barred is None else ~g.is_edge[v] & ~self.barred[v]
            rows: dict[int, tuple[int, ...]] = {}
            for i, x in enumerate(v.tolist()):
                rows[x] = (*rows.get(x, ()), i)
            self._links[u] = (v, free, rows)
        return self._links[u]

    def out_figures(self, u: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`out_hops` and where its seconds are finite (the link exists), once per node."""
        if u not in self._hops:
            hop_s, hop_j = self.out_hops(u)
            self._hops[u] = (hop_s, hop_j, np.isfinite(hop_s))
        return self._hops[u]

    def _barred(self, v: int) -> bool:
        return self.barred is not None and bool(self.barred[v])

    def returns_at(self, start: int) -> tuple[np.ndarray, np.ndarray]:
        """`returns` as seconds and joules per node (infinite without a link back), the last start's kept."""
        if self._back is None or self._back[0] != start:
            secs, joules = np.full(len(self.graph.ids), math.inf), np.full(len(self.graph.ids), math.inf)
            for a, (s, j) in self.returns(start).items():
                secs[a], joules[a] = s, j
            self._back = (start, secs, joules)
        return self._back[1], self._back[2]

    def complete(self, f: float, p: Partial, start: int) -> Chain:
        """The complete chain `p`, popped at value `f`."""
        return Chain(value=f, latency_s=p.secs + p.dl + p.ul, energy_j=p.joules, server=self.graph.servers[p.server],
                     members=p.path)
