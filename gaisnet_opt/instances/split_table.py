"""Per-segment and per-hop figures of the cost model (docs/model.md §4), computed once per node and reused.

Splitting a chain is a choice among segments (a node holding units
first..last) and hops (the smashed data of a unit sent from one node to a
later one). Every figure here comes from `gaisnet_opt.cost.member_cost` /
`hop_cost`, so no method re-derives the cost model. `SplitTable` is keyed by
node, not by chain position, so a clustering search reuses it across chains;
`TableCache` keeps one per (kind, edge server, samples, cached), which is all
a table depends on. `split_instance` applies one chain's position rules and
one objective's weights on top.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from gaisnet_opt.cost import (
    batch_samples,
    effective_memory,
    hop_cost,
    hop_energy_j,
    iterations,
    member_compute_energy_j,
    member_cost,
    member_link_energy_j,
    resolve_server,
)
from gaisnet_opt.plan import Cluster, ClusterKind, Member
from gaisnet_opt.scenario import Scenario

INF = math.inf


@dataclass(frozen=True)
class NodeSegments:
    """One node's figures for every range first..last, as `[first][last]` lists (upper triangle used).

    `iter_s`: compute seconds per iteration (fine-tuning) or per request (inference);
    `delivery_s`/`upload_s`: tunable modules from/to the edge server; `energy_j`:
    compute over all iterations plus delivery/upload air time; `ok`: the memory
    fits and the server link exists where tunable bytes move.
    """

    node: str
    iter_s: list[list[float]]
    delivery_s: list[list[float]]
    upload_s: list[list[float]]
    energy_j: list[list[float]]
    memory_bytes: list[list[float]]
    capacity_bytes: float
    ok: list[list[bool]]


@dataclass(frozen=True)
class HopRow:
    """The hop src → dst after each unit u: seconds per iteration (forward + backward) and round energy."""

    src: str
    dst: str
    iter_s: list[float]
    energy_j: list[float]

    def ok(self, u: int) -> bool:
        return self.iter_s[u] < INF


@dataclass
class SplitTable:
    """Cost-model figures for clusters of one kind, edge server and sample count, filled lazily per node.

    Build it with `SplitTable.for_chain`; a clustering search may keep one
    table per (kind, server, start's sample count, cached) and call the DP on
    many chains.
    """

    scenario: Scenario
    kind: ClusterKind
    server: str | None
    samples: int
    cached: bool = False
    _segments: dict[str, NodeSegments] = field(default_factory=dict, repr=False)
    _hops: dict[tuple[str, str], HopRow] = field(default_factory=dict, repr=False)

    @classmethod
    def for_chain(cls, scenario: Scenario, kind: ClusterKind, chain: list[str], server: str | None = None) -> SplitTable:
        """The table the cost model would use for a cluster on `chain` (its server resolved as the cost model does)."""
        probe = Cluster(kind=kind, members=tuple(Member(node=c, first=0, last=0) for c in chain), server=server)
        request = scenario.node[chain[0]].request
        return cls(
            scenario=scenario, kind=kind, server=resolve_server(scenario, probe),
            samples=batch_samples(scenario, kind, chain[0]),
            cached=kind == "inference" and request is not None and request.cached,
        )

    @property
    def n_units(self) -> int:
        return self.scenario.profile.n_units

    @property
    def iterations(self) -> int:
        return iterations(self.scenario, self.kind)

    def segments(self, node: str) -> NodeSegments:
        """Every range's figures on `node`, from `member_cost`."""
        if node not in self._segments:
            self._segments[node] = self._build_segments(node)
        return self._segments[node]

    def hops(self, src: str, dst: str) -> HopRow:
        """Every unit's hop src → dst, from `hop_cost`."""
        if (src, dst) not in self._hops:
            self._hops[(src, dst)] = self._build_hops(src, dst)
        return self._hops[(src, dst)]

    def return_hop(self, end: str, start: str) -> tuple[float, float]:
        """Seconds and joules of an inference result sent back from `end` to `start` (none for one node)."""
        if self.kind != "inference" or end == start:
            return 0.0, 0.0
        hop = hop_cost(self.scenario, self.kind, end, start, self.n_units - 1, self.samples)
        return hop.fwd_s, hop_energy_j(self.scenario, hop, 1)

    def _build_segments(self, node: str) -> NodeSegments:
        n, s, it = self.n_units, self.scenario, self.iterations
        grid = lambda v: [[v] * n for _ in range(n)]
        iter_s, dl, ul, energy, mem, ok = grid(INF), grid(INF), grid(INF), grid(INF), grid(INF), grid(False)
        capacity = effective_memory(s.node[node])
        for f in range(n):
            for l in range(f, n):
                m = member_cost(s, self.kind, node, f, l, self.server, self.samples, self.cached)
                iter_s[f][l], dl[f][l], ul[f][l], mem[f][l] = m.fwd_s + m.bwd_s, m.delivery_s, m.upload_s, m.memory_bytes
                ok[f][l] = m.memory_bytes <= capacity and m.delivery_s < INF and m.upload_s < INF
                if ok[f][l]:
                    energy[f][l] = member_compute_energy_j(s, m, it) + member_link_energy_j(s, m, self.server)
        return NodeSegments(node, iter_s, dl, ul, energy, mem, capacity, ok)

    def _build_hops(self, src: str, dst: str) -> HopRow:
        s, it = self.scenario, self.iterations
        iter_s, energy = [], []
        for u in range(self.n_units - 1):
            h = hop_cost(s, self.kind, src, dst, u, self.samples)
            t = h.fwd_s + h.bwd_s
            iter_s.append(t)
            energy.append(hop_energy_j(s, h, it) if t < INF else INF)
        return HopRow(src, dst, iter_s, energy)


TableKey = tuple[ClusterKind, str | None, int, bool]
"""What a table depends on besides the scenario: kind, edge server, samples per pass, cached."""


@dataclass
class TableCache:
    """One `SplitTable` per (kind, server, samples, cached): fine-tuning clusters on one server share it."""

    scenario: Scenario
    _tables: dict[TableKey, SplitTable] = field(default_factory=dict)

    def for_start(self, kind: ClusterKind, start: str, server: str | None = None) -> SplitTable:
        """The table a cluster of `kind` started at `start` is priced with, served by `server` (None: the one
        the cost model resolves, the first its start point reaches)."""
        probe = SplitTable.for_chain(self.scenario, kind, [start], server)
        key = (kind, probe.server, probe.samples, probe.cached)
        return self._tables.setdefault(key, probe)
