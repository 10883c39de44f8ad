"""Per-segment and per-hop figures of the cost model, precomputed once for every split method.

Splitting a chain is a choice among segments (a node holding units
first..last) and hops (the smashed data of a unit sent from one node to a
later one). The DP, the MILP and the CP-SAT model all read their arc weights
and coefficients from here, and every figure here comes from
`gaisnet_opt.cost.member_cost` / `hop_cost`, so no method re-derives the
cost model. `SplitTable` is keyed by node, not by chain position, so the
clustering search can reuse it across chains; `SplitInstance` applies one
chain's position rules (embed on the start point, head on the end point)
and one objective's weights.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

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
from gaisnet_opt.result import Objective, Status
from gaisnet_opt.scenario import Scenario

INF = math.inf
DEADLINE_MARGIN = 1e-9
"""Relative margin under a deadline: solver tolerances and summation order never pass a plan the checker rejects."""


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


@dataclass(frozen=True)
class Weights:
    """How an objective prices a plan: `time`·latency + `energy`·joules, or the slowest stage (`bottleneck`)."""

    form: Literal["sum", "bottleneck"]
    time: float = 0.0
    energy: float = 0.0

    @classmethod
    def of(cls, objective: Objective) -> Weights:
        match objective.kind:
            case "latency":
                return cls("sum", 1.0, 0.0)
            case "energy":
                return cls("sum", 0.0, 1.0)
            case "weighted":
                return cls("sum", objective.alpha, objective.beta)
            case "bottleneck":
                return cls("bottleneck")
        raise ValueError(f"objective '{objective.kind}' does not depend on the split (it is fixed by the start point)")


@dataclass(frozen=True)
class Seg:
    """Chain member `m` holding units first..last.

    Priced by the objective: additive `cost`, weighted delivery/upload seconds
    `dl`/`ul`, `stage` seconds. Raw seconds for a latency deadline: `time`
    (compute over all iterations), `dl_s`, `ul_s`.
    """

    m: int
    first: int
    last: int
    cost: float
    dl: float
    ul: float
    stage: float
    time: float
    dl_s: float
    ul_s: float


@dataclass(frozen=True)
class Hop:
    """Member `a` hands unit `u`'s output to member `b` (skipping those between).

    Additive `cost`, `stage` seconds per iteration, `time` seconds over all iterations.
    """

    a: int
    b: int
    u: int
    cost: float
    stage: float
    time: float


@dataclass(frozen=True)
class FlowRows:
    """A plan as a unit flow: x = segments used, w = hops used (indices into the instance's lists).

    Σ x[begin] = 1, Σ x[finish] = 1, and for each (segs, hops) in `balance`
    Σ x[segs] = Σ w[hops]. `members`: (member, its segments, the hops it sends),
    for the rows that bound a maximum over members (a member uses at most one segment).
    """

    begin: list[int]
    finish: list[int]
    balance: list[tuple[list[int], list[int]]]
    members: list[tuple[int, list[int], list[int]]]


@dataclass
class SplitInstance:
    """One chain and one objective over a `SplitTable`: the arcs every exact method optimizes over.

    A plan is a path start(0, 0) -seg-> end(m, l+1) -hop-> start(b, l+1) ...
    ending with the end member holding the head. Sum objectives price it
    Σ seg.cost + Σ hop.cost + max seg.dl + max seg.ul + `constant`; the
    bottleneck objective max over members of (seg.stage + outgoing hop.stage),
    the end member's outgoing hop being the inference result's return
    (`return_s` seconds). With `deadline_s`, the cluster's latency
    max seg.dl_s + max seg.ul_s + Σ seg.time + Σ hop.time + return_s must not
    exceed it, less `DEADLINE_MARGIN` (see `latency_cap`).
    """

    table: SplitTable
    chain: list[str]
    weights: Weights
    segs: list[Seg]
    hops: list[Hop]
    constant: float
    return_s: float
    deadline_s: float | None = None

    @classmethod
    def build(cls, table: SplitTable, chain: list[str], objective: Objective, deadline_s: float | None = None) -> SplitInstance:
        """Read the arcs of `chain` off `table` (invalid segments and missing links are left out).

        `deadline_s` bounds the cluster's latency (None: no bound); the
        objective's own `deadline_s` is the caller's to pass, as `solve_split` does.
        """
        w = Weights.of(objective)
        n, k = table.n_units, len(chain)
        it = table.iterations
        segs: list[Seg] = []
        for m, node in enumerate(chain):
            t = table.segments(node)
            firsts = [0] if m == 0 else range(1, n)
            for f in firsts:
                lasts = [n - 1] if m == k - 1 else range(f, n - 1)
                for l in lasts:
                    if l < f or not t.ok[f][l]:
                        continue
                    dl_s, ul_s = t.delivery_s[f][l], t.upload_s[f][l]
                    segs.append(Seg(
                        m, f, l, cost=w.time * it * t.iter_s[f][l] + w.energy * t.energy_j[f][l],
                        dl=w.time * dl_s, ul=w.time * ul_s, stage=t.iter_s[f][l], time=it * t.iter_s[f][l],
                        dl_s=dl_s, ul_s=ul_s,
                    ))
        hops: list[Hop] = []
        for a in range(k - 1):
            for b in range(a + 1, k):
                row = table.hops(chain[a], chain[b])
                for u in range(n - 1):
                    if row.ok(u):
                        hops.append(Hop(
                            a, b, u, cost=w.time * it * row.iter_s[u] + w.energy * row.energy_j[u],
                            stage=row.iter_s[u], time=it * row.iter_s[u],
                        ))
        ret_s, ret_j = table.return_hop(chain[-1], chain[0])
        return cls(table, chain, w, segs, hops, w.time * ret_s + w.energy * ret_j, ret_s, deadline_s)

    @property
    def latency_cap(self) -> float | None:
        """The latency every exact method keeps to: the deadline less DEADLINE_MARGIN·max(deadline, 1 s)."""
        if self.deadline_s is None:
            return None
        return self.deadline_s - DEADLINE_MARGIN * max(self.deadline_s, 1.0)

    @property
    def n_units(self) -> int:
        return self.table.n_units

    @property
    def n_members(self) -> int:
        return len(self.chain)

    @cached_property
    def segs_from(self) -> dict[tuple[int, int], list[Seg]]:
        """Segments by (member, first unit), in increasing last unit."""
        out: defaultdict[tuple[int, int], list[Seg]] = defaultdict(list)
        for s in self.segs:
            out[(s.m, s.first)].append(s)
        return out

    @cached_property
    def hops_from(self) -> dict[tuple[int, int], list[Hop]]:
        """Hops by (sending member, last unit sent), in increasing receiving member."""
        out: defaultdict[tuple[int, int], list[Hop]] = defaultdict(list)
        for h in self.hops:
            out[(h.a, h.u)].append(h)
        return out

    @cached_property
    def rows(self) -> FlowRows:
        """The flow rows the MILP and the CP-SAT model share, as indices into `segs` and `hops`."""
        n = self.n_units
        starts, ends, sends, receives = defaultdict(list), defaultdict(list), defaultdict(list), defaultdict(list)
        of_member, sent_by = defaultdict(list), defaultdict(list)
        for i, s in enumerate(self.segs):
            starts[(s.m, s.first)].append(i)
            ends[(s.m, s.last)].append(i)
            of_member[s.m].append(i)
        for i, h in enumerate(self.hops):
            sends[(h.a, h.u)].append(i)
            receives[(h.b, h.u + 1)].append(i)
            sent_by[h.a].append(i)

        def pairs(segs: dict, hops: dict, keep) -> list[tuple[list[int], list[int]]]:
            return [(segs.get(key, []), hops.get(key, [])) for key in sorted(set(segs) | set(hops)) if keep(key[1])]

        # a member ending at unit u < n-1 hands on to exactly one later member, and
        # one starting at unit j > 0 takes over from exactly one earlier member
        balance = pairs(ends, sends, lambda u: u < n - 1) + pairs(starts, receives, lambda j: j > 0)
        return FlowRows(
            begin=starts.get((0, 0), []), finish=ends.get((self.n_members - 1, n - 1), []), balance=balance,
            members=[(m, of_member[m], sent_by.get(m, [])) for m in sorted(of_member)],
        )

    def members(self, segs: list[Seg]) -> tuple[Member, ...]:
        """The plan's members for a path's segments."""
        return tuple(Member(node=self.chain[s.m], first=s.first, last=s.last) for s in sorted(segs, key=lambda s: s.m))

    def cluster(self, segs: list[Seg]) -> Cluster:
        """The cluster of a path, with its edge server made explicit (skipped members must not change it)."""
        return Cluster(kind=self.table.kind, members=self.members(segs), server=self.table.server)


@dataclass(frozen=True)
class ExactOutcome:
    """What an exact method returns: status, the chosen segments (if any), its own objective and proven bound."""

    status: Status
    segs: list[Seg] | None
    objective: float | None
    bound: float | None
