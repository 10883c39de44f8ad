"""Nearest-neighbour greedy chains with a uniform split: the simplest baseline.

From each data source (most samples first) a chain grows along the fastest
D2D link to a free client until a uniform split of the units fits every
member's memory; the edge server joins as cooperative end node when no client
helps. Each inference request gets its own chain the same way, its members
also linked back to the requester so the result can return.
"""

from __future__ import annotations

import time

from gaisnet_opt.checker import check
from gaisnet_opt.cost import batch_samples, member_memory, objective_value, round_cost
from gaisnet_opt.plan import Cluster, ClusterKind, Plan, cluster_from_counts
from gaisnet_opt.result import Objective, SolveResult
from gaisnet_opt.scenario import Scenario

METHOD = "greedy-nn"


def uniform_counts(n_units: int, n_members: int) -> list[int]:
    """Units per member, as equal as possible, the earlier members taking the remainder."""
    base, extra = divmod(n_units, n_members)
    return [base + (i < extra) for i in range(n_members)]


def _fits(scenario: Scenario, kind: ClusterKind, chain: list[str], samples: int) -> bool:
    first = 0
    for node, count in zip(chain, uniform_counts(scenario.profile.n_units, len(chain))):
        if member_memory(scenario, kind, first, first + count - 1, samples) > scenario.node[node].memory_bytes:
            return False
        first += count
    return True


def _grow_chain(scenario: Scenario, kind: ClusterKind, start: str, used: set[str], edge_load: dict[str, int]) -> Cluster | None:
    """A chain from `start` that fits with a uniform split, or None."""
    servers = scenario.servers_of(start)
    server = servers[0] if servers else None
    samples = batch_samples(scenario, kind, start)
    n_units = scenario.profile.n_units

    def as_cluster(chain: list[str]) -> Cluster:
        return cluster_from_counts(kind, chain, uniform_counts(n_units, len(chain)), server)

    chain = [start]
    while not _fits(scenario, kind, chain, samples):
        nxt = _nearest_free(scenario, kind, chain, used, server)
        if nxt is None or len(chain) == n_units:
            break
        chain.append(nxt)
    else:
        return as_cluster(chain)
    # no chain of clients fits: the edge server joins as cooperative end node,
    # after as few clients as possible
    if server is None or edge_load.get(server, 0) >= scenario.node[server].slots:
        return None
    for length in range(1, min(len(chain), n_units - 1) + 1):
        trial = [*chain[:length], server]
        linked = scenario.rate(trial[-2], server) is not None and scenario.rate(server, trial[-2]) is not None
        returns = kind == "finetune" or scenario.rate(server, start) is not None
        if linked and returns and _fits(scenario, kind, trial, samples):
            edge_load[server] = edge_load.get(server, 0) + 1
            return as_cluster(trial)
    return None


def _nearest_free(scenario: Scenario, kind: ClusterKind, chain: list[str], used: set[str], server: str | None) -> str | None:
    """The free client with the fastest link from the chain's end that can serve as next member."""
    end, start = chain[-1], chain[0]
    best: tuple[float, str] | None = None
    for (src, nid), rate in scenario.d2d_rate.items():
        if src != end or nid in used or nid in chain or scenario.rate(nid, end) is None:
            continue
        if server is not None and (nid, server) not in scenario.server_link:
            continue
        if kind == "inference" and scenario.rate(nid, start) is None:
            continue
        if best is None or (-rate, nid) < best:
            best = (-rate, nid)
    return None if best is None else best[1]


def greedy_plan(scenario: Scenario, clusters: int | None = None) -> Plan:
    """Fine-tuning chains from the `clusters` largest data sources that fit, then one chain per request.

    `clusters` defaults to the fine-tuning service's minimum.
    """
    service = scenario.finetune
    want = clusters if clusters is not None else (service.min_clusters if service else 0)
    used: set[str] = set()
    edge_load: dict[str, int] = {}
    out: list[Cluster] = []

    def add(kind: ClusterKind, start: str) -> bool:
        cluster = _grow_chain(scenario, kind, start, used, edge_load)
        if cluster is not None:
            out.append(cluster)
            used.update(cluster.chain)
        return cluster is not None

    built = 0
    for src in sorted(scenario.data_sources, key=lambda n: (-n.data.samples, n.id)):
        if built < want and src.id not in used:
            built += add("finetune", src.id)
    for req in scenario.requesters:
        if req.id not in used:
            add("inference", req.id)
    return Plan(clusters=tuple(out))


def solve_greedy(scenario: Scenario, objective: Objective = Objective(), clusters: int | None = None) -> SolveResult:
    """The greedy plan as a SolveResult; infeasible when the checker finds a broken rule."""
    t0 = time.perf_counter()
    plan = greedy_plan(scenario, clusters)
    violations = check(scenario, plan, objective.deadline_s)
    value = objective_value(round_cost(scenario, plan), objective)
    params = {"clusters": clusters}
    elapsed = time.perf_counter() - t0
    if violations:
        reason = "greedy plan breaks: " + "; ".join(str(v) for v in violations[:5])
        return SolveResult(status="infeasible", method=METHOD, params=params, objective_spec=objective,
                           time_s=elapsed, plan=plan, reason=reason)
    return SolveResult(status="feasible", objective=value, method=METHOD, params=params,
                       objective_spec=objective, time_s=elapsed, plan=plan)
