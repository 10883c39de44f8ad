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
  the restricted problem only (the benchmark says when it uses them).
Segments and hops are pruned by memory, links and reachability on the
layered graph (a segment or hop no start-to-head path uses is dropped).
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass, field

from gaisnet_opt.cost import iterations, resolve_server
from gaisnet_opt.plan import Cluster, ClusterKind, Member, Plan
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.solvers.split_table import SplitTable


@dataclass
class TableCache:
    """One `SplitTable` per (kind, server, samples, cached): fine-tuning clusters on one server share it."""

    scenario: Scenario
    _tables: dict[tuple, SplitTable] = field(default_factory=dict)

    def for_start(self, kind: ClusterKind, start: str, server: str | None = None) -> SplitTable:
        """The table a cluster of `kind` started at `start` is priced with, served by `server` (None: the one
        the cost model resolves, the first its start point reaches)."""
        probe = SplitTable.for_chain(self.scenario, kind, [start], server)
        key = (kind, probe.server, probe.samples, probe.cached)
        return self._tables.setdefault(key, probe)


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


def adjacency(scenario: Scenario) -> dict[str, list[tuple[str, float]]]:
    """Client → client D2D links, fastest first (ties by node id), and client ↔ edge server links."""
    adj: defaultdict[str, list[tuple[str, float]]] = defaultdict(list)
    for (a, b), rate in scenario.d2d_rate.items():
        adj[a].append((b, rate))
    for link in scenario.server_links:
        adj[link.client].append((link.server, link.uplink_bps))
        adj[link.server].append((link.client, link.downlink_bps))
    for nbrs in adj.values():
        nbrs.sort(key=lambda t: (-t[1], t[0]))
    return adj


def candidate_members(
    scenario: Scenario, start: str, server: str | None, radius: int | None, candidates: int | None,
    adj_map: dict[str, list[tuple[str, float]]] | None = None,
) -> dict[str, int]:
    """Nodes that may join the cluster of `start`, with their hop distance from it (start first).

    Breadth-first over links, fastest link first; the only edge server allowed
    is the cluster's `server`, which is kept even beyond `candidates`.
    """
    adj = adj_map if adj_map is not None else adjacency(scenario)
    limit = scenario.profile.n_units - 1 if radius is None else min(radius, scenario.profile.n_units - 1)
    dist = {start: 0}
    queue = deque([start])
    clients = 0
    while queue:
        n = queue.popleft()
        if dist[n] >= limit:
            continue
        for m, _ in adj.get(n, ()):
            if m in dist or (scenario.node[m].kind == "edge" and m != server):
                continue
            if scenario.node[m].kind == "client":
                if candidates is not None and clients >= candidates:
                    continue
                clients += 1
            dist[m] = dist[n] + 1
            queue.append(m)
    return dist


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
              cache: TableCache | None = None) -> JointTable:
        """Starts in scenario order: inference requests first (they must be served), then data sources; per
        start point one start per edge server, the one the cost model resolves first (`server_choices`)."""
        cache = cache or TableCache(scenario)
        adj = adjacency(scenario)
        starts: list[Start] = []
        segs: list[JSeg] = []
        hops: list[JHop] = []
        plan_starts = [(n, "inference") for n in scenario.requesters]
        if scenario.finetune is not None:
            plan_starts += [(n, "finetune") for n in scenario.data_sources if n.request is None]
        for node, kind in plan_starts:
            for server in server_choices(scenario, kind, node.id, cache):
                table = cache.for_start(kind, node.id, server)
                dist = candidate_members(scenario, node.id, table.server, radius, candidates, adj)
                idx = len(starts)
                starts.append(Start(
                    node=node.id, kind=kind, server=table.server, required=kind == "inference",
                    samples=node.data.samples if node.data else 0, classes=node.data.classes if node.data else (),
                    candidates=tuple(dist),
                ))
                s_segs, s_hops = _arcs(scenario, table, idx, node.id, dist)
                segs += s_segs
                hops += s_hops
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


def server_choices(scenario: Scenario, kind: ClusterKind, start: str, cache: TableCache | None = None) -> list[str | None]:
    """The edge servers a cluster from `start` may be served by: the cost model's default first, then the rest
    in scenario order (just None in a scenario without edge servers)."""
    default = (cache.for_start(kind, start) if cache else SplitTable.for_chain(scenario, kind, [start])).server
    return [default] + [e.id for e in scenario.edges if e.id != default]


def _arcs(scenario: Scenario, table: SplitTable, idx: int, start: str, dist: dict[str, int]) -> tuple[list[JSeg], list[JHop]]:
    """The start's segments and hops that lie on some path from (start, unit 0) to the head."""
    n = table.n_units
    inference = table.kind == "inference"
    segs: list[JSeg] = []
    for node, d in dist.items():
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
            row = table.hops(src, dst)
            for u in range(n - 1):
                if row.ok(u) and (src, u) in ends and (dst, u + 1) in begins:
                    hops.append(JHop(idx, src, dst, u, row.iter_s[u], row.energy_j[u]))
    return _reachable(segs, hops, start, n)


def _reachable(segs: list[JSeg], hops: list[JHop], start: str, n: int) -> tuple[list[JSeg], list[JHop]]:
    """Keep the arcs on a path from (start, 0) to a head: a forward then a backward sweep over units.

    Units only increase along a path, so one sweep each way suffices.
    """
    seg_by_first: defaultdict[int, list[JSeg]] = defaultdict(list)
    hop_by_unit: defaultdict[int, list[JHop]] = defaultdict(list)
    for s in segs:
        seg_by_first[s.first].append(s)
    for h in hops:
        hop_by_unit[h.unit].append(h)
    begun, ended = {(start, 0)}, set()
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


@dataclass(frozen=True)
class _Through:
    """Lower bounds on any chain through an arc: additive seconds (plus the segment's own delivery
    and upload) and joules, and per start the cheapest whole chain by each."""

    seg_s: list[float]
    seg_j: list[float]
    hop_s: list[float]
    hop_j: list[float]
    start_s: list[float]
    start_j: list[float]


def _through(t: JointTable) -> _Through:
    """Forward and backward sweeps over units per start (units increase along a chain, so one sweep each)."""
    inf = math.inf
    n = t.n_units
    seg_s, seg_j = [inf] * len(t.segs), [inf] * len(t.segs)
    hop_s, hop_j = [inf] * len(t.hops), [inf] * len(t.hops)
    start_s, start_j = [inf] * len(t.starts), [inf] * len(t.starts)
    segs_of: defaultdict[int, list[int]] = defaultdict(list)
    hops_of: defaultdict[int, list[int]] = defaultdict(list)
    for i, sg in enumerate(t.segs):
        segs_of[sg.start].append(i)
    for i, hp in enumerate(t.hops):
        hops_of[hp.start].append(i)
    for s, st in enumerate(t.starts):
        it = t.iterations(s)
        cost = {i: (it * t.segs[i].iter_s + t.segs[i].return_s, t.segs[i].energy_j) for i in segs_of[s]}
        hcost = {i: (it * t.hops[i].iter_s, t.hops[i].energy_j) for i in hops_of[s]}
        by_first: defaultdict[int, list[int]] = defaultdict(list)
        by_last: defaultdict[int, list[int]] = defaultdict(list)
        by_unit: defaultdict[int, list[int]] = defaultdict(list)
        for i in segs_of[s]:
            by_first[t.segs[i].first].append(i)
            by_last[t.segs[i].last].append(i)
        for i in hops_of[s]:
            by_unit[t.hops[i].unit].append(i)
        f_begin = {(st.node, 0): (0.0, 0.0)}
        f_end: dict[tuple[str, int], tuple[float, float]] = {}
        for j in range(n):
            for i in by_unit[j - 1]:
                h = t.hops[i]
                if (h.src, j - 1) in f_end:
                    a, c = f_end[(h.src, j - 1)], hcost[i]
                    _relax(f_begin, (h.dst, j), (a[0] + c[0], a[1] + c[1]))
            for i in by_first[j]:
                sg = t.segs[i]
                if (sg.node, j) in f_begin:
                    a, c = f_begin[(sg.node, j)], cost[i]
                    _relax(f_end, (sg.node, sg.last), (a[0] + c[0], a[1] + c[1]))
        b_end = {(sg.node, n - 1): (0.0, 0.0) for sg in (t.segs[i] for i in by_last[n - 1])}
        b_begin: dict[tuple[str, int], tuple[float, float]] = {}
        for j in range(n - 1, -1, -1):
            for i in by_unit[j]:
                h = t.hops[i]
                if (h.dst, j + 1) in b_begin:
                    a, c = b_begin[(h.dst, j + 1)], hcost[i]
                    _relax(b_end, (h.src, j), (a[0] + c[0], a[1] + c[1]))
            for i in by_first[j]:
                sg = t.segs[i]
                if (sg.node, sg.last) in b_end:
                    a, c = b_end[(sg.node, sg.last)], cost[i]
                    _relax(b_begin, (sg.node, j), (a[0] + c[0], a[1] + c[1]))
        for i in segs_of[s]:
            sg = t.segs[i]
            fb, be = f_begin.get((sg.node, sg.first)), b_end.get((sg.node, sg.last))
            if fb is not None and be is not None:
                seg_s[i] = fb[0] + cost[i][0] + be[0] + sg.delivery_s + sg.upload_s
                seg_j[i] = fb[1] + cost[i][1] + be[1]
                if sg.first == 0:
                    start_s[s], start_j[s] = min(start_s[s], seg_s[i]), min(start_j[s], seg_j[i])
        for i in hops_of[s]:
            h = t.hops[i]
            fe, bb = f_end.get((h.src, h.unit)), b_begin.get((h.dst, h.unit + 1))
            if fe is not None and bb is not None:
                hop_s[i] = fe[0] + hcost[i][0] + bb[0]
                hop_j[i] = fe[1] + hcost[i][1] + bb[1]
    return _Through(seg_s, seg_j, hop_s, hop_j, start_s, start_j)


def _relax(best: dict, key: tuple, value: tuple[float, float]) -> None:
    """Keep the componentwise minimum (seconds and joules bound separately)."""
    old = best.get(key)
    best[key] = value if old is None else (min(old[0], value[0]), min(old[1], value[1]))


def pruned(t: JointTable, kind: str, alpha: float, beta: float, upper: float | None, deadline_s: float | None,
           min_clusters: int) -> JointTable:
    """The table without arcs every chain through which misses the deadline or costs more than `upper`.

    `upper` is the objective value of a feasible plan (latency, energy or
    weighted; None for coverage), so an optimal plan keeps all its arcs:
    bounds are lower bounds (additive parts along the cheapest path through
    the arc, one member's delivery and upload for the maxima; for energy, the
    other clusters' cheapest chains are added: every request's and the
    cheapest `min_clusters` fine-tuning ones).
    """
    th = _through(t)
    slack = lambda v: v * (1 + 1e-9) + 1e-12
    others = _others(t, th.start_j, min_clusters)
    wt = {"latency": 1.0, "weighted": alpha}.get(kind, 0.0)
    we = {"energy": 1.0, "weighted": beta}.get(kind, 0.0)

    def keep(start: int, secs: float, joules: float) -> bool:
        if deadline_s is not None and secs > slack(deadline_s):
            return False
        if upper is None or kind == "coverage":
            return math.isfinite(secs)
        return wt * secs + we * (joules + (others[start] if we else 0.0)) <= slack(upper)

    segs: defaultdict[int, list[JSeg]] = defaultdict(list)
    hops: defaultdict[int, list[JHop]] = defaultdict(list)
    for i, sg in enumerate(t.segs):
        if keep(sg.start, th.seg_s[i], th.seg_j[i]):
            segs[sg.start].append(sg)
    for i, hp in enumerate(t.hops):
        if keep(hp.start, th.hop_s[i], th.hop_j[i]):
            hops[hp.start].append(hp)
    kept_segs: list[JSeg] = []
    kept_hops: list[JHop] = []
    for s, st in enumerate(t.starts):
        a, b = _reachable(segs[s], hops[s], st.node, t.n_units)
        kept_segs += a
        kept_hops += b
    return JointTable(t.scenario, t.starts, kept_segs, kept_hops, t.cache)


REQUEST_FLOORS = 10
"""Requests whose cheapest chain `floors` computes (each needs its own sweep: its result returns to it)."""


Front = list[tuple[float, float]]
"""Pareto labels (additive seconds, largest member delivery + upload), seconds ascending and so the other descending."""


@dataclass(frozen=True)
class ToHead:
    """From "node n holds units up to l" to the head: seconds as Pareto labels, joules as one minimum."""

    seconds: dict[tuple[str, int], Front]
    joules: dict[tuple[str, int], float]


def _pareto(labels: Front) -> Front:
    """The labels no other label beats in both components."""
    out: Front = []
    for a, w in sorted(labels):
        if not out or w < out[-1][1]:
            out.append((a, w))
    return out


def _to_head(scenario: Scenario, table: SplitTable, adj: dict[str, list[tuple[str, float]]],
             start: str | None, edges: bool) -> ToHead:
    """Lower bounds from "node n holds units up to l" to the head, over the whole graph: seconds as Pareto
    labels, joules as one minimum.

    A backward sweep over (node, unit) states along every link with memory
    and server links respected and revisits allowed (a relaxation). Seconds
    carry the largest delivery + upload of the members on the way, since a
    cluster waits for its slowest member's delivery and upload (D and U of
    `joint_model`): a helper that must fetch twelve blocks is not free.
    `start`: the inference requester the result returns to (None for
    fine-tuning); `edges`: whether edge servers may join the chain.
    """
    n, it = table.n_units, table.iterations
    nodes = [x.id for x in scenario.nodes if edges or x.kind == "client"]
    allowed = set(nodes)
    end: dict[tuple[str, int], Front] = {}
    end_j: dict[tuple[str, int], float] = {}
    begin: dict[tuple[str, int], Front] = {}
    begin_j: dict[tuple[str, int], float] = {}
    for node in nodes:
        ret = table.return_hop(node, start) if start is not None else (0.0, 0.0)
        if math.isfinite(ret[0]):
            end[(node, n - 1)], end_j[(node, n - 1)] = [(ret[0], 0.0)], ret[1]
    for j in range(n - 1, -1, -1):
        if j < n - 1:
            for node in nodes:
                labels, joules = [], math.inf
                for m, _ in adj.get(node, ()):
                    if (m, j + 1) in begin and m != start and m in allowed:
                        row = table.hops(node, m)
                        if row.ok(j):
                            hop_s = it * row.iter_s[j]
                            labels += [(hop_s + a, w) for a, w in begin[(m, j + 1)]]
                            joules = min(joules, row.energy_j[j] + begin_j[(m, j + 1)])
                if labels:
                    end[(node, j)], end_j[(node, j)] = _pareto(labels), joules
        if j == 0:
            break  # only the start holds unit 0: `cheapest_chain` reads it off `end`
        for node in nodes:
            seg = table.segments(node)
            labels, joules = [], math.inf
            for l in range(j, n):
                if seg.ok[j][l] and (node, l) in end:
                    own, secs = seg.delivery_s[j][l] + seg.upload_s[j][l], it * seg.iter_s[j][l]
                    labels += [(secs + a, max(own, w)) for a, w in end[(node, l)]]
                    joules = min(joules, seg.energy_j[j][l] + end_j[(node, l)])
            if labels:
                begin[(node, j)], begin_j[(node, j)] = _pareto(labels), joules
    return ToHead(end, end_j)


def cheapest_chain(table: SplitTable, start: str, to_head: ToHead) -> tuple[float, float]:
    """Lower bounds on the latency and energy of any cluster from `start`: its first member's own
    figures plus the cheapest way on to the head, the largest member delivery + upload counted once."""
    seg, secs, joules = table.segments(start), math.inf, math.inf
    for l in range(table.n_units):
        if seg.ok[0][l] and (start, l) in to_head.seconds:
            own = seg.delivery_s[0][l] + seg.upload_s[0][l]
            secs = min(secs, min(table.iterations * seg.iter_s[0][l] + max(own, w) + a for a, w in to_head.seconds[(start, l)]))
            joules = min(joules, seg.energy_j[0][l] + to_head.joules[(start, l)])
    return secs, joules


def floors(scenario: Scenario, cache: TableCache, min_clusters: int) -> tuple[float, float]:
    """Lower bounds on any plan's round latency and energy, valid for the whole problem (no candidate limit).

    Every request is served and at least `min_clusters` distinct data sources
    start clusters, each no cheaper than its cheapest chain, with or without
    an edge server (`cheapest_chain`), and at most the edge servers' slots of
    them use one. Latency: the smallest z such that every request and
    `min_clusters` sources have a chain within z, those needing an edge server
    no more than the slots. Energy: the requests' plus the `min_clusters`
    cheapest sources' bounds. Requests count only when there are at most
    `REQUEST_FLOORS` of them (else they are left out: still a bound). A chain
    waits for its slowest member's delivery and upload (`_to_head`). Each
    start point's bounds are the least over the servers it may be served
    by (`server_choices`).
    """
    adj = adjacency(scenario)
    slots = sum(e.slots for e in scenario.edges)
    starts: list[tuple[ClusterKind, str]] = []
    if len(scenario.requesters) <= REQUEST_FLOORS:
        starts += [("inference", r.id) for r in scenario.requesters]
    if min_clusters:
        starts += [("finetune", d.id) for d in scenario.data_sources if d.request is None]
    sweeps: dict[tuple[int, str | None, bool], dict] = {}
    bounds: list[tuple[ClusterKind, tuple[float, float], tuple[float, float]]] = []
    for kind, start in starts:
        ret = start if kind == "inference" else None  # fine-tuning clusters on one server share table and sweeps
        both = [(math.inf, math.inf), (math.inf, math.inf)]  # with and without an edge server in the chain
        for server in server_choices(scenario, kind, start, cache):
            table = cache.for_start(kind, start, server)
            for i, edges in enumerate((True, False)):
                key = (id(table), ret, edges)
                if key not in sweeps:
                    sweeps[key] = _to_head(scenario, table, adj, ret, edges)
                secs, joules = cheapest_chain(table, start, sweeps[key])
                both[i] = (min(both[i][0], secs), min(both[i][1], joules))
        bounds.append((kind, both[0], both[1]))
    latency = _bottleneck(bounds, min_clusters, slots)
    fine_j = sorted(w[1] for kind, w, _ in bounds if kind == "finetune")
    energy = sum(w[1] for kind, w, _ in bounds if kind == "inference") + sum(fine_j[:min_clusters])
    return latency, energy


def _bottleneck(bounds: list[tuple[ClusterKind, tuple[float, float], tuple[float, float]]], k: int, slots: int) -> float:
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


def _others(t: JointTable, cheapest: list[float], min_clusters: int) -> list[float]:
    """Per start, the joules the rest of any plan spends at least: every other start point's request, the cheapest
    other fine-tuning clusters (a start point's cheapest over its servers)."""
    best: dict[str, float] = {}
    for s, st in enumerate(t.starts):
        best[st.node] = min(best.get(st.node, math.inf), cheapest[s])
    required = {st.node for st in t.starts if st.required}
    finetune = sorted((best[node], node) for node in {st.node for st in t.starts if st.kind == "finetune"})
    out = []
    for st in t.starts:
        fixed = sum(best[r] for r in required if r != st.node)
        need = min_clusters - (st.kind == "finetune")
        picks = [c for c, node in finetune if node != st.node][: max(need, 0)]
        out.append(fixed + sum(picks))
    return out
