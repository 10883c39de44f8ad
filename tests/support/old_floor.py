"""The previous relaxation floor (Pareto label sweeps over `SplitTable`s, requests only when at most 10), kept
only as a test oracle: the package's floor must never be below it."""

from __future__ import annotations

import math
from dataclasses import dataclass

from gaisnet_opt.instances.candidates import Adjacency, adjacency, server_choices
from gaisnet_opt.instances.split_table import SplitTable, TableCache
from gaisnet_opt.plan import ClusterKind
from gaisnet_opt.scenario import Scenario

State = tuple[str, int]
"""(node, unit)."""
Front = list[tuple[float, float]]
"""Pareto labels (additive seconds, largest member delivery + upload), seconds ascending and so the other descending."""


@dataclass(frozen=True)
class ToHead:
    """From "node n holds units up to l" to the head: seconds as Pareto labels, joules as one minimum."""

    seconds: dict[State, Front]
    joules: dict[State, float]


def pareto(labels: Front) -> Front:
    """The labels no other label beats in both components."""
    out: Front = []
    for a, w in sorted(labels):
        if not out or w < out[-1][1]:
            out.append((a, w))
    return out


@dataclass
class _Sweep:
    """The labels found so far: `end[(n, l)]` from n holding units up to l, `begin[(n, j)]` from n starting at j."""

    table: SplitTable
    adj: Adjacency
    nodes: list[str]
    start: str | None
    end: dict[State, Front]
    end_j: dict[State, float]
    begin: dict[State, Front]
    begin_j: dict[State, float]

    def hop_layer(self, j: int) -> None:
        """Ends at unit j: hand unit j's output on to a neighbour that begins at j + 1."""
        allowed, it = set(self.nodes), self.table.iterations
        for node in self.nodes:
            labels, joules = [], math.inf
            for m, _ in self.adj.get(node, ()):
                if (m, j + 1) in self.begin and m != self.start and m in allowed:
                    row = self.table.hops(node, m)
                    if row.ok(j):
                        hop_s = it * row.iter_s[j]
                        labels += [(hop_s + a, w) for a, w in self.begin[(m, j + 1)]]
                        joules = min(joules, row.energy_j[j] + self.begin_j[(m, j + 1)])
            if labels:
                self.end[(node, j)], self.end_j[(node, j)] = pareto(labels), joules

    def segment_layer(self, j: int) -> None:
        """Begins at unit j: hold units j..l on the node, then go on from its end at l."""
        n, it = self.table.n_units, self.table.iterations
        for node in self.nodes:
            seg = self.table.segments(node)
            labels, joules = [], math.inf
            for l in range(j, n):
                if seg.ok[j][l] and (node, l) in self.end:
                    own, secs = seg.delivery_s[j][l] + seg.upload_s[j][l], it * seg.iter_s[j][l]
                    labels += [(secs + a, max(own, w)) for a, w in self.end[(node, l)]]
                    joules = min(joules, seg.energy_j[j][l] + self.end_j[(node, l)])
            if labels:
                self.begin[(node, j)], self.begin_j[(node, j)] = pareto(labels), joules


def to_head(scenario: Scenario, table: SplitTable, adj: Adjacency, start: str | None, edges: bool) -> ToHead:
    """Lower bounds from "node n holds units up to l" to the head, over the whole graph.

    A backward sweep over (node, unit) states along every link with memory
    and server links respected and revisits allowed. `start`: the inference
    requester the result returns to (None for fine-tuning); `edges`: whether
    edge servers may join the chain.
    """
    n = table.n_units
    nodes = [x.id for x in scenario.nodes if edges or x.kind == "client"]
    sweep = _Sweep(table, adj, nodes, start, {}, {}, {}, {})
    for node in nodes:
        ret = table.return_hop(node, start) if start is not None else (0.0, 0.0)
        if math.isfinite(ret[0]):
            sweep.end[(node, n - 1)], sweep.end_j[(node, n - 1)] = [(ret[0], 0.0)], ret[1]
    for j in range(n - 1, 0, -1):  # only the start holds unit 0: `cheapest_chain` reads it off `end`
        if j < n - 1:
            sweep.hop_layer(j)
        sweep.segment_layer(j)
    if n > 1:
        sweep.hop_layer(0)
    return ToHead(sweep.end, sweep.end_j)


def cheapest_chain(table: SplitTable, start: str, head: ToHead) -> tuple[float, float]:
    """Lower bounds on the latency and energy of any cluster from `start`: its first member's own
    figures plus the cheapest way on to the head, the largest member delivery + upload counted once."""
    seg, secs, joules = table.segments(start), math.inf, math.inf
    for l in range(table.n_units):
        if seg.ok[0][l] and (start, l) in head.seconds:
            own = seg.delivery_s[0][l] + seg.upload_s[0][l]
            secs = min(secs, min(table.iterations * seg.iter_s[0][l] + max(own, w) + a for a, w in head.seconds[(start, l)]))
            joules = min(joules, seg.energy_j[0][l] + head.joules[(start, l)])
    return secs, joules


REQUEST_FLOORS = 10
"""Requests whose cheapest chain `floors` computes (each needs its own sweep: its result returns to it)."""

StartBound = tuple[ClusterKind, tuple[float, float], tuple[float, float]]
"""A start point's kind and its (seconds, joules) bounds with and without an edge server in the chain."""


def old_floors(scenario: Scenario, cache: TableCache, min_clusters: int) -> tuple[float, float]:
    """Lower bounds on any plan's round latency and energy.

    Latency: the smallest z such that every request and `min_clusters`
    sources have a chain within z, those needing an edge server no more than
    the slots (`_bottleneck`). Energy: the requests' plus the `min_clusters`
    cheapest sources' bounds. Requests count only when there are at most
    `REQUEST_FLOORS` of them (else they are left out: still a bound). Each
    start point's bounds are the least over the servers it may be served by
    (`server_choices`).
    """
    adj = adjacency(scenario)
    slots = sum(e.slots for e in scenario.edges)
    starts: list[tuple[ClusterKind, str]] = []
    if len(scenario.requesters) <= REQUEST_FLOORS:
        starts += [("inference", r.id) for r in scenario.requesters]
    if min_clusters:
        starts += [("finetune", d.id) for d in scenario.data_sources if d.request is None]
    sweeps: dict[tuple[int, str | None, bool], ToHead] = {}
    bounds: list[StartBound] = []
    for kind, start in starts:
        ret = start if kind == "inference" else None  # fine-tuning clusters on one server share table and sweeps
        both = [(math.inf, math.inf), (math.inf, math.inf)]  # with and without an edge server in the chain
        for server in server_choices(scenario, kind, start, cache):
            table = cache.for_start(kind, start, server)
            for i, edges in enumerate((True, False)):
                key = (id(table), ret, edges)
                if key not in sweeps:
                    sweeps[key] = to_head(scenario, table, adj, ret, edges)
                secs, joules = cheapest_chain(table, start, sweeps[key])
                both[i] = (min(both[i][0], secs), min(both[i][1], joules))
        bounds.append((kind, both[0], both[1]))
    latency = _bottleneck(bounds, min_clusters, slots)
    fine_j = sorted(w[1] for kind, w, _ in bounds if kind == "finetune")
    energy = sum(w[1] for kind, w, _ in bounds if kind == "inference") + sum(fine_j[:min_clusters])
    return latency, energy


def _bottleneck(bounds: list[StartBound], k: int, slots: int) -> float:
    """The least z at which every request and k sources fit within z, edge-server users within the slots."""
    for z in sorted({b[0] for _, w, wo in bounds for b in (w, wo)} | {0.0}):
        requests = [(w[0], wo[0]) for kind, w, wo in bounds if kind == "inference"]
        if any(w > z for w, _ in requests):
            continue
        left = slots - sum(wo > z for _, wo in requests)
        sources = [(w[0], wo[0]) for kind, w, wo in bounds if kind == "finetune"]
        alone = sum(wo <= z for _, wo in sources)
        served = sum(w <= z < wo for w, wo in sources)
        if left >= 0 and alone + min(served, left) >= k:
            return z
    return math.inf
