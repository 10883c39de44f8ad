"""The campaign's one door to the solvers: re-plan a round from the last plan, and solve a round exactly.

`replan` is the heuristics' own machinery (`gaisnet_opt.solvers.heuristics`)
driven from a start it is given: the last plan's clusters that still pass
the checker are kept as they are, broken ones are re-split on the members
still there (or regrown), requests and fine-tuning clusters still missing
are grown, and `local_search` improves the result. Two things the joint
solver has no notion of are scored on top of the objective, by a subclass
of its `Evaluator`: each domain fine-tunes exactly its own number of
clusters (a cluster belongs to its start point's domain), and the migration
a plan needs (its `penalty`: air time and joules of the units it moves)
is added, weighted by `stability`.

`solve_exact` is `solve` with the campaign's `SolveParams` (one wall-clock
limit for the whole call) and, optionally, the last round's plan as
`initial_plan`. `replan` keeps driving `Evaluator` and `local_search`
itself, because the domain counts and the migration term are scored by
`CampaignEvaluator`. What it reads from the solvers is its import list:
`Builder`, `Evaluated`, `Evaluator`, `as_plan`, `deadline_of`, `grow`,
`local_search`, `nearest`.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from gaisnet_opt.campaign.network import with_service
from gaisnet_opt.campaign.repair import Carried, carry
from gaisnet_opt.checker import check
from gaisnet_opt.cost import cluster_cost
from gaisnet_opt.params import SolveParams
from gaisnet_opt.plan import Cluster, Plan
from gaisnet_opt.result import Objective, SolveResult
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.solvers.construction import Builder, grow, nearest
from gaisnet_opt.solvers.evaluator import Evaluated, Evaluator, as_plan
from gaisnet_opt.solvers.local_search import local_search
from gaisnet_opt.solvers.service import deadline_of
from gaisnet_opt.solvers.solve import Method, solve

__all__ = ["CampaignEvaluator", "Method", "Penalty", "Replanned", "replan", "solve_exact"]

Penalty = Callable[[Cluster], tuple[float, float]]
"""A cluster's migration: (air seconds, joules), summed over a plan."""


@dataclass
class CampaignEvaluator(Evaluator):
    """The heuristics' evaluator with the domains' cluster counts as a rule and the migration as a cost."""

    domain_of: Mapping[str, str] = field(default_factory=dict)
    required: Mapping[str, int] = field(default_factory=dict)
    penalty: Penalty | None = None
    stability: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        self._moves: dict[Cluster, tuple[float, float]] = {}

    def score(self, plan: list[Evaluated]) -> tuple[float, float]:
        """The objective plus stability × migration (in the objective's units); infinite if a domain has too many clusters."""
        counts = Counter(self.domain_of.get(e.cluster.start) for e in plan if e.cluster.kind == "finetune")
        if any(n > self.required.get(d, 0) for d, n in counts.items() if d is not None):
            return math.inf, math.inf
        value, tie = super().score(plan)
        if self.stability and self.penalty is not None and plan:
            moves = [self._migration(e.cluster) for e in plan]
            seconds, energy = sum(s for s, _ in moves), sum(j for _, j in moves)
            value += self.stability * _in_objective_units(self.objective, seconds, energy)
        return value, tie

    def _migration(self, cluster: Cluster) -> tuple[float, float]:
        if cluster not in self._moves:
            assert self.penalty is not None
            self._moves[cluster] = self.penalty(cluster)
        return self._moves[cluster]


def _in_objective_units(objective: Objective, seconds: float, energy: float) -> float:
    """Seconds for latency, joules for energy, alpha·seconds + beta·joules for weighted (docs/model.md §5)."""
    per_s, per_j = {"latency": (1.0, 0.0), "energy": (0.0, 1.0)}.get(objective.kind, (objective.alpha, objective.beta))
    return per_s * seconds + per_j * energy


@dataclass(frozen=True)
class Replanned:
    """A round's plan, the scenario whose rules it meets (its fine-tuning service set), and how it came about."""

    plan: Plan
    scenario: Scenario
    carried: Carried
    """the last plan's clusters that still held, and those that broke (with the checker's violations)"""
    kept: int
    repaired: int
    grown: int
    unserved: tuple[str, ...]
    time_s: float


@dataclass
class _Start:
    """The start plan under construction, and what became of the last plan's clusters."""

    b: Builder
    pending: set[str]
    kept: int = 0
    repaired: int = 0
    grown: int = 0

    def fits(self, e: Evaluated) -> bool:
        s = self.b.ev.scenario
        edges = Counter(n for n in e.cluster.chain if s.node[n].kind == "edge")
        return all(self.b.edge_load.get(n, 0) + k <= s.node[n].slots for n, k in edges.items())

    def blocked(self) -> set[str]:
        return self.b.used | self.pending


def replan(scenario: Scenario, objective: Objective, initial_plan: Plan | None, *, domain_of: Mapping[str, str],
           clusters: Mapping[str, int], penalty: Penalty | None = None, stability: float = 0.0, time_limit: float = 0.5,
           seed: int = 0, improve: bool = True) -> Replanned:
    """Serve every request that can be served and give each domain its `clusters`, starting from `initial_plan`.

    `scenario` is the round's (its fine-tuning service is replaced); a domain's
    clusters start at its data sources (`domain_of`). `initial_plan` is the
    last round's plan (None: from scratch); the checker sorts its clusters
    (`repair.carry`). Without `improve`, the start is returned as built: the
    carried clusters, repaired where broken, and what was missing grown.
    """
    t0 = time.perf_counter()
    deadline = deadline_of(scenario, objective)
    wanted = {d: k for d, k in clusters.items() if k > 0}
    scn = with_service(scenario, sum(wanted.values()), deadline)
    ev = _evaluator(scn, objective, domain_of, wanted, penalty, stability)
    start = _Start(Builder.of(ev), {n.id for n in scn.requesters})
    carried = carry(scn, initial_plan, deadline)
    _carry(start, carried, domain_of, wanted)
    unserved = _grow_requests(start)
    _grow_finetune(start, domain_of, wanted)
    built = dict(Counter(domain_of[e.cluster.start] for e in start.b.clusters if e.cluster.kind == "finetune"))
    if built != wanted:
        scn = with_service(scenario, sum(built.values()), deadline)
        ev = _evaluator(scn, objective, domain_of, built, penalty, stability)
    clusters_ = start.b.clusters
    if improve and time_limit > 0:
        clusters_ = local_search(ev, clusters_, max(0.0, time_limit - (time.perf_counter() - t0)), seed)
    plan = as_plan(clusters_)
    broken = check(scn, plan)
    if broken:
        raise RuntimeError("internal error: the campaign's re-plan breaks rules: " + "; ".join(map(str, broken[:5])))
    return Replanned(plan, scn, carried, start.kept, start.repaired, start.grown, unserved, time.perf_counter() - t0)


def _evaluator(scn: Scenario, objective: Objective, domain_of: Mapping[str, str], required: Mapping[str, int],
               penalty: Penalty | None, stability: float) -> CampaignEvaluator:
    k = sum(required.values())
    return CampaignEvaluator(scn, objective, deadline_of(scn, objective), k, k, domain_of=domain_of, required=required,
                             penalty=penalty, stability=stability)


def _carry(start: _Start, carried: Carried, domain_of: Mapping[str, str], wanted: Mapping[str, int]) -> None:
    """The last plan's clusters: kept as they are if they still pass, else re-split on the members still free."""
    s, b = start.b.ev.scenario, start.b
    counts: Counter[str] = Counter()
    for cluster, intact in [*((c, True) for c in carried.kept), *((c, False) for c, _ in carried.broken)]:
        domain = domain_of.get(cluster.start)
        if cluster.kind == "finetune" and (domain is None or counts[domain] >= wanted.get(domain, 0)
                                           or cluster.start in start.pending):
            continue
        if cluster.kind == "inference" and cluster.start not in start.pending:
            continue
        blocked = start.blocked() - {cluster.start}
        chain = [n for n in cluster.chain if n in s.node and n not in blocked]
        if not chain or chain[0] != cluster.start:
            continue
        if intact and chain == cluster.chain:
            e: Evaluated | None = Evaluated(cluster, cluster_cost(s, cluster))
        else:
            e = b.ev.cluster(cluster.kind, tuple(chain), cluster.server if cluster.server in s.node else None)
        if e is None or not start.fits(e):
            continue
        b.add(e)
        start.pending.discard(cluster.start)
        if cluster.kind == "finetune":
            counts[domain or ""] += 1
        if e.cluster == cluster:
            start.kept += 1
        else:
            start.repaired += 1


def _grow_requests(start: _Start) -> tuple[str, ...]:
    """A cluster for every request still without one (requesters in scenario order); those none can serve."""
    unserved = []
    for node in [n.id for n in start.b.ev.scenario.requesters if n.id in start.pending]:
        start.pending.discard(node)
        e = grow(start.b.ev, "inference", node, start.blocked(), start.b.edge_load, nearest)
        if e is None:
            unserved.append(node)
            continue
        start.b.add(e)
        start.grown += 1
    return tuple(unserved)


def _grow_finetune(start: _Start, domain_of: Mapping[str, str], wanted: Mapping[str, int]) -> None:
    """Each domain's missing fine-tuning clusters, from its free sources by samples (the heuristics' order)."""
    b = start.b
    for domain, k in wanted.items():
        have = sum(e.cluster.kind == "finetune" and domain_of.get(e.cluster.start) == domain for e in b.clusters)
        for src in (s for s in b.ev.sources if domain_of.get(s) == domain):
            if have >= k:
                break
            if src in start.blocked():
                continue
            e = grow(b.ev, "finetune", src, start.blocked(), b.edge_load, nearest)
            if e is not None:
                b.add(e)
                start.grown += 1
                have += 1


def solve_exact(scenario: Scenario, method: Method, objective: Objective, params: SolveParams = SolveParams(),
                clusters: int | None = None, initial_plan: Plan | None = None) -> SolveResult:
    """`gaisnet_opt.solvers.solve.solve` as it is; `initial_plan` (the last round's) warm-starts it."""
    return solve(scenario, method, objective, params=params, clusters=clusters, initial_plan=initial_plan)
