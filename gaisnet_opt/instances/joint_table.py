"""The joint problem's coefficients (clusters, chains and splits together), read once from the cost model.

A cluster is identified by its start point `s` (a data source for
fine-tuning, a requesting client for inference). Its plan is a path on a
layered graph: segment arcs "node n holds units first..last in the cluster
of s" and hop arcs "n hands unit u's output to m in the cluster of s". Every
figure comes from `SplitTable` (itself filled by `cost.member_cost` and
`cost.hop_cost`), so the MILP, the CP-SAT model and the heuristics price a
plan exactly as the cost model does.

Modelling choices, shared by every method and by the tests' brute force:
- a cluster is delivered to and aggregated by one edge server, any of the
  scenario's: each (start point, server) pair is a start of its own
  (`Start`), at most one of them opens per start point; an edge server joins
  a chain only as that cluster's server;
- candidate members of the cluster of s are the nodes reachable from s over
  links within `radius` hops (default: unbounded), optionally only the first
  `candidates` of them in breadth-first order, fastest link first. With
  both limits off the models are exact; with either on they are exact for
  the restricted problem only (`candidates.candidate_members`).
Segments and hops are pruned by memory, links and reachability on the
layered graph (a segment or hop no start-to-head path uses is dropped).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from gaisnet_opt.budget import Budget
from gaisnet_opt.cost import iterations, resolve_server
from gaisnet_opt.instances.candidates import adjacency, candidate_members, server_choices
from gaisnet_opt.instances.split_table import SplitTable, TableCache
from gaisnet_opt.plan import Cluster, ClusterKind, Member, Plan
from gaisnet_opt.scenario import Node, Scenario


@dataclass(frozen=True)
class Start:
    """A possible cluster: its start point, kind, server, whether it must exist, and what it covers."""

    node: str
    kind: ClusterKind
    server: str | None
    required: bool
    samples: int
    classes: tuple[int, ...]
    candidates: tuple[str, ...]

    @property
    def label(self) -> str:
        """The start point and its server, as variable names show them."""
        return self.node if self.server is None else f"{self.node}@{self.server}"


@dataclass(frozen=True)
class JSeg:
    """`node` holds units first..last in the cluster of start `start` (an index into `JointTable.starts`).

    Seconds are per iteration (`iter_s`) or per round (delivery, upload, the
    inference result's return when this is the end member); joules are the round's.
    """

    start: int
    node: str
    first: int
    last: int
    iter_s: float
    delivery_s: float
    upload_s: float
    return_s: float
    energy_j: float


@dataclass(frozen=True)
class JHop:
    """`src` hands unit `unit`'s output to `dst` (and gets its gradient back) in the cluster of `start`."""

    start: int
    src: str
    dst: str
    unit: int
    iter_s: float
    energy_j: float


class TooManyArcs(Exception):
    """The table grew past its arc cap; how far it got, to size a tighter candidate limit from."""

    def __init__(self, arcs: int, starts_done: int, starts_total: int, widest: int) -> None:
        super().__init__(f"{arcs} arcs after {starts_done} of {starts_total} starts")
        self.arcs, self.starts_done, self.starts_total, self.widest = arcs, starts_done, starts_total, widest

    @property
    def projected(self) -> float:
        """Arcs the whole table would have at the pace of the starts built so far."""
        return self.arcs * self.starts_total / max(1, self.starts_done)


@dataclass
class JointTable:
    """Every start's candidate segments and hops with their cost-model figures."""

    scenario: Scenario
    starts: list[Start]
    segs: list[JSeg]
    hops: list[JHop]
    cache: TableCache

    @property
    def n_units(self) -> int:
        return self.scenario.profile.n_units

    def iterations(self, s: int) -> int:
        return iterations(self.scenario, self.starts[s].kind)

    @classmethod
    def build(cls, scenario: Scenario, radius: int | None = None, candidates: int | None = None,
              cache: TableCache | None = None, *, budget: Budget | None = None,
              max_arcs: int | None = None) -> JointTable:
        """Starts in scenario order: inference requests first (they must be served), then data sources; per
        start point one start per edge server, the one the cost model resolves first (`server_choices`).

        Raises `TooManyArcs` once more than `max_arcs` segments and hops are built (the memory cap,
        docs/model.md §7), `OutOfTime` when `budget` runs out (checked per start and node).
        """
        budget = budget or Budget(None)
        cache = cache or TableCache(scenario)
        adj = adjacency(scenario)
        starts: list[Start] = []
        segs: list[JSeg] = []
        hops: list[JHop] = []
        plan_starts: list[tuple[Node, ClusterKind]] = [(n, "inference") for n in scenario.requesters]
        if scenario.finetune is not None:
            plan_starts += [(n, "finetune") for n in scenario.data_sources if n.request is None]
        total = len(plan_starts) * max(1, len(scenario.edges))
        widest = 0
        for node, kind in plan_starts:
            for server in server_choices(scenario, kind, node.id, cache):
                budget.check()
                table = cache.for_start(kind, node.id, server)
                dist = candidate_members(scenario, node.id, table.server, radius, candidates, adj)
                idx = len(starts)
                starts.append(Start(
                    node=node.id, kind=kind, server=table.server, required=kind == "inference",
                    samples=node.data.samples if node.data else 0, classes=node.data.classes if node.data else (),
                    candidates=tuple(dist),
                ))
                s_segs, s_hops = _arcs(scenario, table, idx, node.id, dist, budget)
                segs += s_segs
                hops += s_hops
                widest = max(widest, sum(scenario.node[m].kind == "client" for m in dist) - 1)
                if max_arcs is not None and len(segs) + len(hops) > max_arcs:
                    raise TooManyArcs(len(segs) + len(hops), len(starts), total, widest)
        return cls(scenario, starts, segs, hops, cache)

    def plan(self, seg_ids: list[int], hop_ids: list[int]) -> Plan:
        """The plan of chosen segments and hops: each open start's path, followed from unit 0 to the head."""
        by_begin = {(self.segs[i].start, self.segs[i].node, self.segs[i].first): self.segs[i] for i in seg_ids}
        next_of = {(self.hops[i].start, self.hops[i].src, self.hops[i].unit): self.hops[i].dst for i in hop_ids}
        clusters = []
        for s, st in enumerate(self.starts):
            seg = by_begin.get((s, st.node, 0))
            if seg is None:
                continue
            members = [Member(node=seg.node, first=seg.first, last=seg.last)]
            while seg.last < self.n_units - 1:
                nxt = next_of[(s, seg.node, seg.last)]
                seg = by_begin[(s, nxt, seg.last + 1)]
                members.append(Member(node=seg.node, first=seg.first, last=seg.last))
            clusters.append(Cluster(kind=st.kind, members=tuple(members), server=st.server))
        return Plan(clusters=tuple(clusters))

    def arcs_of(self, plan: Plan) -> tuple[list[int], list[int]] | None:
        """The segment and hop indices that make up `plan`, or None when it uses an arc the table pruned."""
        seg_at = {(s.start, s.node, s.first, s.last): i for i, s in enumerate(self.segs)}
        hop_at = {(h.start, h.src, h.dst, h.unit): i for i, h in enumerate(self.hops)}
        start_of = {(st.node, st.kind, st.server): s for s, st in enumerate(self.starts)}
        seg_ids, hop_ids = [], []
        for c in plan.clusters:
            s = start_of.get((c.start, c.kind, resolve_server(self.scenario, c)))
            if s is None:
                return None
            for m in c.members:
                seg_ids.append(seg_at.get((s, m.node, m.first, m.last), -1))
            for a, b in zip(c.members, c.members[1:]):
                hop_ids.append(hop_at.get((s, a.node, b.node, a.last), -1))
        if -1 in seg_ids or -1 in hop_ids:
            return None
        return seg_ids, hop_ids

def _arcs(scenario: Scenario, table: SplitTable, idx: int, start: str, dist: dict[str, int],
          budget: Budget) -> tuple[list[JSeg], list[JHop]]:
    """The start's segments and hops that lie on some path from (start, unit 0) to the head."""
    n = table.n_units
    inference = table.kind == "inference"
    segs: list[JSeg] = []
    for node, d in dist.items():
        budget.check()  # a node's first segment table costs milliseconds: worth a clock reading each
        t = table.segments(node)
        firsts = [0] if node == start else range(max(1, d), n)
        for f in firsts:
            for l in range(f, n):
                if not t.ok[f][l]:
                    continue
                ret_s, ret_j = table.return_hop(node, start) if inference and l == n - 1 else (0.0, 0.0)
                if math.isinf(ret_s):
                    continue  # rule return-link: this end point cannot send the result back
                segs.append(JSeg(idx, node, f, l, t.iter_s[f][l], t.delivery_s[f][l], t.upload_s[f][l],
                                 ret_s, t.energy_j[f][l] + ret_j))
    ends = {(s.node, s.last) for s in segs}
    begins = {(s.node, s.first) for s in segs}
    hops: list[JHop] = []
    for src in dist:
        for dst in dist:
            if dst in (src, start) or scenario.rate(src, dst) is None:
                continue
            budget.tick()
            row = table.hops(src, dst)
            for u in range(n - 1):
                if row.ok(u) and (src, u) in ends and (dst, u + 1) in begins:
                    hops.append(JHop(idx, src, dst, u, row.iter_s[u], row.energy_j[u]))
    return reachable_arcs(segs, hops, start, n)


def reachable_arcs(segs: list[JSeg], hops: list[JHop], start: str, n: int) -> tuple[list[JSeg], list[JHop]]:
    """Keep the arcs on a path from (start, 0) to a head: a forward then a backward sweep over units.

    Units only increase along a path, so one sweep each way suffices.
    """
    seg_by_first: defaultdict[int, list[JSeg]] = defaultdict(list)
    hop_by_unit: defaultdict[int, list[JHop]] = defaultdict(list)
    for s in segs:
        seg_by_first[s.first].append(s)
    for h in hops:
        hop_by_unit[h.unit].append(h)
    begun: set[tuple[str, int]] = {(start, 0)}
    ended: set[tuple[str, int]] = set()
    for j in range(n):
        begun.update((h.dst, j) for h in hop_by_unit[j - 1] if (h.src, j - 1) in ended)
        ended.update((s.node, s.last) for s in seg_by_first[j] if (s.node, j) in begun)
    live_end = {(node, last) for node, last in ended if last == n - 1}
    live_begin: set[tuple[str, int]] = set()
    for j in range(n - 1, -1, -1):
        live_end.update((h.src, j) for h in hop_by_unit[j] if (h.dst, j + 1) in live_begin and (h.src, j) in ended)
        live_begin.update((s.node, j) for s in seg_by_first[j] if (s.node, j) in begun and (s.node, s.last) in live_end)
    keep_segs = [s for s in segs if (s.node, s.first) in live_begin and (s.node, s.last) in live_end]
    keep_hops = [h for h in hops if (h.src, h.unit) in live_end and (h.dst, h.unit + 1) in live_begin]
    return keep_segs, keep_hops
