"""The cheapest chain from one start point over the whole graph: a bi-criteria label-setting sweep.

The relaxation behind the floor (`floor.py`): a chain may revisit nodes, and
memory and server links are respected per segment only, so its cost is a
lower bound on any real cluster's. Seconds are not additive (a cluster waits
for its slowest member's delivery and upload, D and U of
`formulations.joint_model`), so each state keeps Pareto labels (additive
seconds, largest delivery + upload so far): the multicriteria label-setting
of Martins, "On a multicriteria shortest path problem", European Journal of
Operational Research 16(2), 1984. Joules are additive and keep one minimum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gaisnet_opt.budget import Budget
from gaisnet_opt.instances.candidates import Adjacency
from gaisnet_opt.instances.split_table import SplitTable
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
    budget: Budget | None = None
    """Checked per node: a node's first layer builds its segment table (a second at 500 clients, all nodes)."""

    def check(self) -> None:
        if self.budget is not None:
            self.budget.check()

    def hop_layer(self, j: int) -> None:
        """Ends at unit j: hand unit j's output on to a neighbour that begins at j + 1."""
        allowed, it = set(self.nodes), self.table.iterations
        for node in self.nodes:
            self.check()
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
            self.check()
            seg = self.table.segments(node)
            labels, joules = [], math.inf
            for l in range(j, n):
                if seg.ok[j][l] and (node, l) in self.end:
                    own, secs = seg.delivery_s[j][l] + seg.upload_s[j][l], it * seg.iter_s[j][l]
                    labels += [(secs + a, max(own, w)) for a, w in self.end[(node, l)]]
                    joules = min(joules, seg.energy_j[j][l] + self.end_j[(node, l)])
            if labels:
                self.begin[(node, j)], self.begin_j[(node, j)] = pareto(labels), joules


def to_head(scenario: Scenario, table: SplitTable, adj: Adjacency, start: str | None, edges: bool,
            budget: Budget | None = None) -> ToHead:
    """Lower bounds from "node n holds units up to l" to the head, over the whole graph.

    A backward sweep over (node, unit) states along every link with memory
    and server links respected and revisits allowed. `start`: the inference
    requester the result returns to (None for fine-tuning); `edges`: whether
    edge servers may join the chain. `budget` is checked per node of each layer (`OutOfTime`).
    """
    n = table.n_units
    nodes = [x.id for x in scenario.nodes if edges or x.kind == "client"]
    sweep = _Sweep(table, adj, nodes, start, {}, {}, {}, {}, budget)
    for node in nodes:
        sweep.check()
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
