"""The one evaluation path of the joint heuristics: a chain split by the split DP, priced by the cost model.

A chain is split by the exact split DP (which may drop members it does not
need), the resulting cluster is priced by `cost.cluster_cost`, and a plan's
score is the objective over its clusters (latency: slowest cluster; energy:
sum; weighted: alpha·max + beta·sum; coverage: samples or classes,
maximized), ties broken by the sum of cluster latencies (docs/model.md §5).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from gaisnet_opt.budget import Budget
from gaisnet_opt.cost import ClusterCost, cluster_cost, combine, objective_value
from gaisnet_opt.instances.candidates import adjacency
from gaisnet_opt.instances.split_instance import SplitInstance
from gaisnet_opt.instances.split_table import SplitTable, TableCache
from gaisnet_opt.plan import Cluster, ClusterKind, Plan
from gaisnet_opt.result import Objective
from gaisnet_opt.scenario import Node, Scenario
from gaisnet_opt.solvers.split_dp import split_dp

ChainKey = tuple[ClusterKind, tuple[str, ...], str | None]
"""(kind, chain, edge server): what a cluster's best split depends on."""


def best_split(table: SplitTable, chain: list[str], objective: Objective) -> Cluster | None:
    """The split DP's cluster on `chain` (members it skips are left out), None when no split fits."""
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


def as_plan(clusters: list[Evaluated]) -> Plan:
    return Plan(clusters=tuple(e.cluster for e in clusters))


def _samples(node: Node) -> int:
    return node.data.samples if node.data is not None else 0


@dataclass
class Evaluator:
    """Splits chains with the DP and scores plans by the cost model; memoized per chain."""

    scenario: Scenario
    objective: Objective
    deadline_s: float | None
    min_clusters: int
    max_clusters: int
    budget: Budget | None = None
    """The call's time budget, checked as chains are evaluated (`OutOfTime` from a heuristic that runs over)."""

    def __post_init__(self) -> None:
        self.cache = TableCache(self.scenario)
        self.adj = adjacency(self.scenario)
        kind = self.objective.kind
        self.split_objective = self.objective if kind in ("latency", "energy", "weighted") else Objective()
        self._memo: dict[ChainKey, Evaluated | None] = {}
        s = self.scenario
        self.requests = [n.id for n in s.requesters]
        """Requesting clients, in scenario order."""
        sources = [n for n in s.data_sources if n.request is None] if s.finetune is not None else []
        self.sources = [n.id for n in sorted(sources, key=lambda n: (-_samples(n), n.id))]
        """Data sources that raised no request, by samples then id."""

    @cached_property
    def roomy(self) -> list[str]:
        """Data sources by the memory of themselves and the clients they link to, most first (then id)."""
        s = self.scenario
        room = {src: s.node[src].memory_bytes + sum(s.node[m].memory_bytes for m in self.free_neighbours(src, set()))
                for src in self.sources}
        return sorted(room, key=lambda src: (-room[src], src))

    def cluster(self, kind: ClusterKind, chain: tuple[str, ...], server: str | None = None) -> Evaluated | None:
        """The best split of `chain` for the objective that meets the deadline, or None; served by `server`
        (None: the cost model's default for its start point)."""
        key = (kind, chain, server)
        if key not in self._memo:
            if self.budget is not None:
                self.budget.check()  # a split by the DP costs far more than a clock reading
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
