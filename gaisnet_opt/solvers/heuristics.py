"""Heuristics for the joint problem: random feasible, nearest-neighbour greedy (largest or fastest data sources
first), capacity-balanced greedy, local search.

All share one evaluation path (`Evaluator`): a chain is split by the split
DP (which may drop members it does not need), the resulting cluster is priced
by the cost model, and a plan's score is the objective over its clusters
(latency: slowest cluster; energy: sum; weighted: alpha·max + beta·sum;
coverage: samples or classes, maximized), ties broken by the sum of cluster
latencies, then by the order clusters were built. Every heuristic serves each
inference request first (they must be served), then forms fine-tuning
clusters: `min_clusters` of them for latency, energy and weighted (more
clusters never lower these), as many as fit for coverage. A cluster is
served by its start point's default edge server (the cost model's) unless no
chain fits with it; local search also tries the other servers.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from gaisnet_opt.checker import deadline_for
from gaisnet_opt.cost import ClusterCost, cluster_cost, combine, objective_value
from gaisnet_opt.plan import Cluster, ClusterKind, Plan
from gaisnet_opt.result import Objective
from gaisnet_opt.scenario import FinetuneService, Scenario
from gaisnet_opt.solvers.joint_table import TableCache, adjacency, server_choices
from gaisnet_opt.solvers.split_dp import split_dp
from gaisnet_opt.solvers.split_table import SplitInstance, SplitTable


def with_clusters(scenario: Scenario, clusters: int) -> Scenario:
    """The scenario with its fine-tuning service fixed to exactly `clusters` clusters (deadline kept)."""
    deadline = scenario.finetune.deadline_s if scenario.finetune else None
    service = FinetuneService(min_clusters=clusters, max_clusters=clusters, deadline_s=deadline)
    return scenario.model_copy(update={"finetune": service})


def cluster_range(scenario: Scenario) -> tuple[int, int]:
    """Fine-tuning clusters allowed: (min, max); max defaults to the data sources that raised no request."""
    service = scenario.finetune
    if service is None:
        return 0, 0
    sources = sum(n.request is None for n in scenario.data_sources)
    top = service.max_clusters if service.max_clusters is not None else max(sources, service.min_clusters)
    return service.min_clusters, top


def deadline_of(scenario: Scenario, objective: Objective) -> float | None:
    """The deadline the checker will hold the plan to."""
    return deadline_for(scenario, objective.deadline_s)


NEIGHBOURS = 8
"""Free clients the local search tries per cluster (fastest links to its members first)."""


def best_split(table: SplitTable, chain: list[str], objective: Objective) -> Cluster | None:
    """The split DP's cluster on `chain` (members it skips are left out), None when no split fits.

    The one place the heuristics call the split solver (issue 4's DP).
    """
    inst = SplitInstance.build(table, chain, objective)
    sol = split_dp(inst)
    return None if sol is None else inst.cluster(sol.segs)


@dataclass(frozen=True)
class Evaluated:
    """A cluster with its cost-model figures, so plans are scored without costing a cluster twice."""

    cluster: Cluster
    cost: ClusterCost

    @property
    def latency_s(self) -> float:
        return self.cost.latency_s


@dataclass
class Evaluator:
    """Splits chains with the DP and scores plans by the cost model; memoized per chain."""

    scenario: Scenario
    objective: Objective
    deadline_s: float | None
    min_clusters: int
    max_clusters: int

    def __post_init__(self) -> None:
        self.cache = TableCache(self.scenario)
        self.adj = adjacency(self.scenario)
        kind = self.objective.kind
        self.split_objective = self.objective if kind in ("latency", "energy", "weighted") else Objective()
        self._memo: dict[tuple[str, tuple[str, ...], str | None], Evaluated | None] = {}
        s = self.scenario
        self.requests = [n.id for n in s.requesters]
        sources = [n for n in s.data_sources if n.request is None] if s.finetune is not None else []
        self.sources = [n.id for n in sorted(sources, key=lambda n: (-n.data.samples, n.id))]
        """Requesting clients; data sources that raised no request, by samples then id."""

    def roomy(self) -> list[str]:
        """Data sources by the memory of themselves and the clients they link to, most first (then id)."""
        if not hasattr(self, "_roomy"):
            s = self.scenario
            room = {src: s.node[src].memory_bytes + sum(s.node[m].memory_bytes for m in self.free_neighbours(src, set()))
                    for src in self.sources}
            self._roomy = sorted(room, key=lambda src: (-room[src], src))
        return self._roomy

    def cluster(self, kind: ClusterKind, chain: tuple[str, ...], server: str | None = None) -> Evaluated | None:
        """The best split of `chain` for the objective that meets the deadline, or None; served by `server`
        (None: the cost model's default for its start point)."""
        key = (kind, chain, server)
        if key not in self._memo:
            self._memo[key] = self._evaluate(kind, chain, server)
        return self._memo[key]

    def _evaluate(self, kind: ClusterKind, chain: tuple[str, ...], server: str | None) -> Evaluated | None:
        s, start = self.scenario, chain[0]
        table = self.cache.for_start(kind, start, server)
        if len(set(chain)) < len(chain) or any(s.node[c].kind == "edge" and c != table.server for c in chain):
            return None
        if kind == "inference" and len(chain) > 1 and s.rate(chain[-1], start) is None:
            return None
        for objective in dict.fromkeys([self.split_objective, Objective()]):  # latency-best split if the deadline bites
            cluster = best_split(table, list(chain), objective)
            if cluster is None:
                return None
            cost = cluster_cost(s, cluster)
            if self.deadline_s is None or cost.latency_s <= self.deadline_s:
                return Evaluated(cluster, cost)
        return None

    def score(self, plan: list[Evaluated]) -> tuple[float, float]:
        """(the cost model's objective, negated for coverage so smaller is better; sum of cluster latencies)."""
        value = objective_value(combine(self.scenario, tuple(e.cost for e in plan)), self.objective)
        return (-value if self.objective.maximize else value), sum(e.latency_s for e in plan)

    def free_neighbours(self, node: str, used: set[str]) -> list[str]:
        """Free clients `node` links to, fastest first."""
        return [m for m, _ in self.adj.get(node, ()) if m not in used and self.scenario.node[m].kind == "client"]


Pick = Callable[[list[str]], str]


def grow(ev: Evaluator, kind: ClusterKind, start: str, used: set[str], edge_load: dict[str, int], pick: Pick) -> Evaluated | None:
    """A chain from `start`: add free clients linked to its end (chosen by `pick`) until a split fits.

    The cluster's edge server is also tried as cooperative end node after
    each prefix; the better of the two (by the objective) wins. The server is
    the cost model's default for `start`; only if no chain fits with it are
    the other edge servers tried, in scenario order.
    """
    for server in server_choices(ev.scenario, kind, start, ev.cache):
        found = _grow_served(ev, kind, start, server, used, edge_load, pick)
        if found is not None:
            return found
    return None


def _grow_served(ev: Evaluator, kind: ClusterKind, start: str, server: str | None, used: set[str],
                 edge_load: dict[str, int], pick: Pick) -> Evaluated | None:
    """`grow` with the cluster served by `server`."""
    n_units = ev.scenario.profile.n_units
    chain = [start]
    found = ev.cluster(kind, tuple(chain), server)
    taken = used | {start}
    while found is None and len(chain) < n_units:
        options = ev.free_neighbours(chain[-1], taken)
        if not options:
            break
        chain.append(pick(options))
        taken.add(chain[-1])
        found = ev.cluster(kind, tuple(chain), server)
    if server is not None and edge_load.get(server, 0) < ev.scenario.node[server].slots:
        for length in range(1, min(len(chain), n_units - 1) + 1):
            with_edge = ev.cluster(kind, (*chain[:length], server), server)
            if with_edge is not None:
                if found is None or ev.score([with_edge]) < ev.score([found]):
                    found = with_edge
                break
    return found


@dataclass
class Builder:
    """A plan under construction: clusters, used clients, edge-server load."""

    ev: Evaluator
    clusters: list[Evaluated]
    used: set[str]
    edge_load: dict[str, int]

    @classmethod
    def empty(cls, ev: Evaluator) -> Builder:
        return cls(ev, [], set(), {})

    def add(self, e: Evaluated) -> None:
        self.clusters.append(e)
        for node in e.cluster.chain:
            if self.ev.scenario.node[node].kind == "edge":
                self.edge_load[node] = self.edge_load.get(node, 0) + 1
            else:
                self.used.add(node)

    def finetune_count(self) -> int:
        return sum(e.cluster.kind == "finetune" for e in self.clusters)


def _target(ev: Evaluator) -> int:
    return ev.max_clusters if ev.objective.kind == "coverage" else ev.min_clusters


def build(ev: Evaluator, sources: list[str], pick: Pick) -> tuple[list[Evaluated], bool]:
    """Requests first, then fine-tuning clusters from `sources` in order until the target count.

    Returns the clusters built and whether they make a complete plan (every
    request served, at least `min_clusters` fine-tuning clusters).
    """
    b = Builder.empty(ev)
    complete = True
    for r in ev.requests:
        e = grow(ev, "inference", r, b.used, b.edge_load, pick)
        if e is None:
            complete = False
        else:
            b.add(e)
    for src in sources:
        if b.finetune_count() >= _target(ev):
            break
        if src not in b.used:
            e = grow(ev, "finetune", src, b.used, b.edge_load, pick)
            if e is not None:
                b.add(e)
    return b.clusters, complete and b.finetune_count() >= ev.min_clusters


def _complete(built: tuple[list[Evaluated], bool]) -> list[Evaluated] | None:
    return built[0] if built[1] else None


def nearest(options: list[str]) -> str:
    """The nearest-neighbour rule: the fastest link (options come fastest first)."""
    return options[0]


def greedy(ev: Evaluator, seed: int = 0) -> list[Evaluated] | None:
    """Nearest-neighbour chains (fastest free link first) from the largest data sources, split by the DP."""
    return _complete(build(ev, ev.sources, nearest))


def fastest(ev: Evaluator, seed: int = 0) -> list[Evaluated] | None:
    """Nearest-neighbour chains from the data sources whose own chain, grown alone, scores best by the objective
    (fastest, for latency): when the slowest cluster sets the round, the K quickest sources matter more than the
    largest ones."""
    alone = {src: grow(ev, "finetune", src, set(), {}, nearest) for src in ev.sources}
    order = sorted(ev.sources, key=lambda src: (alone[src] is None, alone[src] and ev.score([alone[src]]), src))
    return _complete(build(ev, order, nearest))


def random_feasible(ev: Evaluator, seed: int = 0) -> list[Evaluated] | None:
    """Random data sources, random free neighbours: a seeded feasible plan, the baseline to beat."""
    rng = random.Random(seed)
    for _ in range(20):  # a few seeded tries: a random order may strand a request
        sources = list(ev.sources)
        rng.shuffle(sources)
        plan = _complete(build(ev, sources, lambda options: options[rng.randrange(len(options))]))
        if plan is not None:
            return plan
    return None


def balanced(ev: Evaluator, seed: int = 0) -> list[Evaluated] | None:
    """Capacity-balanced greedy: starts with the most memory within one hop, then the slowest cluster grows.

    Data sources are ranked by the memory of themselves and their linked
    clients (more room, shorter chains); after every cluster fits, the
    slowest one takes the free neighbour that lowers its latency most, until
    none does.
    """
    s = ev.scenario
    plan = _complete(build(ev, ev.roomy(), lambda options: max(
        options, key=lambda m: (s.node[m].memory_bytes * s.node[m].flops, m))))
    if plan is None:
        return None
    b = Builder.empty(ev)
    for e in plan:
        b.add(e)
    while True:
        slowest = max(range(len(b.clusters)), key=lambda i: (b.clusters[i].latency_s, -i))
        e = b.clusters[slowest]
        best = None
        for m in ev.free_neighbours(e.cluster.end, b.used)[:NEIGHBOURS]:
            trial = ev.cluster(e.cluster.kind, (*e.cluster.chain, m), e.cluster.server)
            if trial is not None and trial.latency_s < (best or e).latency_s:
                best = trial
        if best is None:
            return b.clusters
        b = _replaced(b, slowest, best)


def _replaced(b: Builder, i: int, e: Evaluated) -> Builder:
    out = Builder.empty(b.ev)
    for j, old in enumerate(b.clusters):
        out.add(e if j == i else old)
    return out


KICKS = 12
"""Perturbations the local search tries after its first local optimum (iterated local search)."""


def local_search(ev: Evaluator, plan: list[Evaluated], time_limit: float = 10.0, seed: int = 0) -> list[Evaluated]:
    """Iterated local search: descend, then up to `KICKS` times regrow a random fine-tuning cluster and descend again.

    Descent is first-improvement over insert, replace, remove, reorder,
    switch-server, move, swap, new-start, regrow and new-cluster moves; every move re-splits the
    changed chains with the DP and is taken when it lowers the score
    (objective, then the tie-break). Seeded; stops after `time_limit` seconds
    (then the result depends on the machine's speed, else it does not).
    """
    end = time.perf_counter() + time_limit
    rng = random.Random(seed)
    best = current = _descend(ev, plan, end)
    for _ in range(KICKS):
        if time.perf_counter() >= end:
            break
        kicked = _kick(ev, current, rng)
        if kicked is None:
            continue
        current = _descend(ev, kicked, end)
        if ev.score(current) < ev.score(best):
            best = current
        else:
            current = best
    return best


def _descend(ev: Evaluator, plan: list[Evaluated], end: float) -> list[Evaluated]:
    best, best_score = plan, ev.score(plan)
    improved = True
    while improved and time.perf_counter() < end:
        improved = False
        for trial in _moves(ev, best):
            if time.perf_counter() >= end:
                break
            score = ev.score(trial)
            if score < best_score:
                best, best_score, improved = trial, score, True
                break
    return best


def _kick(ev: Evaluator, plan: list[Evaluated], rng: random.Random) -> list[Evaluated] | None:
    """The plan with one random fine-tuning cluster regrown from a random roomy free source along random links."""
    finetune = [i for i, e in enumerate(plan) if e.cluster.kind == "finetune"]
    if not finetune:
        return None
    i = finetune[rng.randrange(len(finetune))]
    others = Builder.empty(ev)
    for j, e in enumerate(plan):
        if j != i:
            others.add(e)
    free = [src for src in ev.roomy() if src not in others.used][:4 * NEIGHBOURS]
    if not free:
        return None
    e = grow(ev, "finetune", free[rng.randrange(len(free))], others.used, others.edge_load,
             lambda options: options[rng.randrange(min(3, len(options)))])
    return None if e is None else [e if j == i else old for j, old in enumerate(plan)]


def _moves(ev: Evaluator, plan: list[Evaluated]) -> Iterator[list[Evaluated]]:
    """Neighbouring plans, slowest cluster first, in a fixed order."""
    s = ev.scenario
    b = Builder.empty(ev)
    for e in plan:
        b.add(e)
    order = sorted(range(len(plan)), key=lambda i: (-plan[i].latency_s, i))

    def with_(changes: dict[int, Evaluated | None]) -> list[Evaluated] | None:
        out = [changes.get(i, e) for i, e in enumerate(plan) if changes.get(i, e) is not None]
        if sum(e.cluster.kind == "finetune" for e in out) < ev.min_clusters:
            return None
        return out

    for i in order:
        e = plan[i]
        kind, chain, server = e.cluster.kind, e.cluster.chain, e.cluster.server
        near = []
        for node in chain:
            near += [m for m in ev.free_neighbours(node, b.used) if m not in near]
        if server is not None and server not in chain and b.edge_load.get(server, 0) < s.node[server].slots:
            near.append(server)
        for m in near[:NEIGHBOURS + 1]:  # a free client (or the edge server) joins after the start or replaces a member
            for p in range(1, len(chain) + 1):
                for trial in (ev.cluster(kind, (*chain[:p], m, *chain[p:]), server),
                              ev.cluster(kind, (*chain[:p], m, *chain[p + 1:]), server) if p < len(chain) else None):
                    if trial is not None and (out := with_({i: trial})):
                        yield out
        for p in range(1, len(chain)):  # drop a member
            trial = ev.cluster(kind, (*chain[:p], *chain[p + 1:]), server)
            if trial is not None and (out := with_({i: trial})):
                yield out
        for p in range(1, len(chain) - 1):  # swap neighbours in the chain
            trial = ev.cluster(kind, (*chain[:p], chain[p + 1], chain[p], *chain[p + 2:]), server)
            if trial is not None and (out := with_({i: trial})):
                yield out
        for alt in s.edges:  # another edge server delivers and aggregates (and takes this one's place in the chain)
            if alt.id == server or (server in chain and b.edge_load.get(alt.id, 0) >= alt.slots):
                continue
            trial = ev.cluster(kind, tuple(alt.id if c == server else c for c in chain), alt.id)
            if trial is not None and (out := with_({i: trial})):
                yield out
        if kind == "finetune":  # another data source starts this chain or a fresh one, or the cluster closes
            for src in ev.sources:
                if src not in b.used:
                    trial = ev.cluster(kind, (src, *chain[1:]), server)
                    if trial is not None and (out := with_({i: trial})):
                        yield out
            others = Builder.empty(ev)  # the plan without this cluster: its clients are free to regrow
            for j, other in enumerate(plan):
                if j != i:
                    others.add(other)
            fresh = [src for src in ev.roomy() if src not in others.used][:2 * NEIGHBOURS]
            for src in dict.fromkeys([chain[0], *fresh]):
                trial = grow(ev, kind, src, others.used, others.edge_load, nearest)
                if trial is not None and (out := with_({i: trial})):
                    yield out
        if kind == "finetune" and ev.objective.kind != "coverage" and (out := with_({i: None})):
            yield out
        for j in order:  # move a member from another cluster (the edge server too), or swap clients
            if j == i:
                continue
            other = plan[j].cluster
            for q in range(1, len(other.chain)):
                m = other.chain[q]
                for rest in _without(ev, other, q, b.used):
                    for p in range(1, len(chain) + 1):
                        gained = ev.cluster(kind, (*chain[:p], m, *chain[p:]), server)
                        if gained is not None and (out := with_({i: gained, j: rest})):
                            yield out
                if s.node[m].kind == "edge":
                    continue
                for p in range(1, len(chain)):
                    if s.node[chain[p]].kind == "edge":
                        continue
                    a = ev.cluster(kind, (*chain[:p], m, *chain[p + 1:]), server)
                    c = ev.cluster(other.kind, (*other.chain[:q], chain[p], *other.chain[q + 1:]), other.server)
                    if a is not None and c is not None and (out := with_({i: a, j: c})):
                        yield out
    if ev.objective.kind == "coverage" and b.finetune_count() < ev.max_clusters:  # one more fine-tuning cluster
        for src in ev.sources:
            if src not in b.used:
                e = grow(ev, "finetune", src, b.used, b.edge_load, nearest)
                if e is not None:
                    yield [*plan, e]


def _without(ev: Evaluator, cluster: Cluster, q: int, used: set[str]) -> Iterator[Evaluated]:
    """`cluster` after losing member q: as it is, or with a free neighbour of the gap in its place."""
    chain = cluster.chain
    rest = ev.cluster(cluster.kind, (*chain[:q], *chain[q + 1:]), cluster.server)
    if rest is not None:
        yield rest
        return
    for m in ev.free_neighbours(chain[q - 1], used)[:NEIGHBOURS]:
        filled = ev.cluster(cluster.kind, (*chain[:q], m, *chain[q + 1:]), cluster.server)
        if filled is not None:
            yield filled


HEURISTICS: dict[str, Callable[[Evaluator, int], list[Evaluated] | None]] = {
    "random": random_feasible, "greedy": greedy, "balanced": balanced, "fastest": fastest,
}
"""Constructive heuristics by name; `local` is `local_search` started from the best of these."""


def as_plan(clusters: list[Evaluated]) -> Plan:
    return Plan(clusters=tuple(e.cluster for e in clusters))
