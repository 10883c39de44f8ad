"""Tiny random joint problems and a brute force over every plan, for the joint solver tests.

The brute force knows nothing of the models: it enumerates every chain from
every start point (distinct nodes, the edge server at most once), every split
of the units along it, keeps the clusters the checker accepts on their own,
and combines them (one per request, any number of data sources) through the
cost model's figures, cutting a branch that cannot beat the best so far
(latency and energy only grow as clusters join); the best plan is then
re-checked whole.
"""

from __future__ import annotations

import itertools
import math

from hypothesis import strategies as st

from gaisnet_opt.checker import check
from gaisnet_opt.cost import cluster_cost, objective_value, round_cost
from gaisnet_opt.plan import Cluster, Plan, cluster_from_counts
from gaisnet_opt.result import Objective
from gaisnet_opt.scenario import (
    D2DLink,
    DataSource,
    FinetuneService,
    InferenceRequest,
    Node,
    Scenario,
    ServerLink,
    Training,
)
from tests.support.split_cases import profiles

OBJECTIVES = [
    Objective(kind="latency"), Objective(kind="energy"), Objective(kind="weighted", alpha=3.0, beta=0.2),
    Objective(kind="coverage"), Objective(kind="coverage", coverage_of="classes"),
]
SINGLE_RULES = frozenset({"cluster-count", "deadline"})
"""Rules about the whole round, not one cluster."""


@st.composite
def scenarios(draw, max_clients: int = 5, max_units: int = 4) -> Scenario:
    """Clients with memory that often forces a split, random links, one or two edge servers, sources and requests."""
    profile = draw(profiles(max_units=max_units))
    n = draw(st.integers(2, max_clients))
    clients = [f"c{i}" for i in range(n)]
    sources = draw(st.sets(st.sampled_from(clients), min_size=1))
    others = [c for c in clients if c not in sources]
    requests = draw(st.sets(st.sampled_from(others), max_size=1)) if others else set()
    nodes = []
    for c in clients:
        nodes.append(Node(
            id=c, kind="client", flops=draw(st.integers(1, 10)) * 1e10, memory_bytes=draw(st.integers(10, 100)) * 1e6,
            energy_per_flop=draw(st.integers(1, 9)) * 1e-11, tx_power_w=draw(st.integers(0, 3)) * 0.5,
            pass_overhead_s=draw(st.sampled_from([0.0, 0.0, 1e-3, 1e-2])),
            data=DataSource(samples=draw(st.integers(1, 9)) * 10, classes=tuple(sorted(draw(st.sets(st.integers(0, 3), min_size=1)))))
            if c in sources else None,
            request=InferenceRequest(samples=draw(st.integers(1, 8)), cached=draw(st.booleans())) if c in requests else None,
        ))
    edges = ["e0", "e1"][: draw(st.integers(1, 2))]
    for e in edges:
        nodes.append(Node(id=e, kind="edge", flops=5e11, memory_bytes=draw(st.integers(20, 300)) * 1e6,
                          energy_per_flop=1e-11, tx_power_w=2.0, slots=draw(st.integers(1, 2))))
    rate = st.integers(1, 20).map(lambda r: r * 1e7)
    d2d = [D2DLink(src=a, dst=b, rate_bps=draw(rate)) for a, b in itertools.permutations(clients, 2) if draw(st.integers(0, 9)) < 8]
    links = [ServerLink(client=c, server=e, uplink_bps=draw(rate), downlink_bps=draw(rate))
             for e in edges for c in clients if draw(st.integers(0, 9)) < 9]
    lo = min(draw(st.integers(1, 2)), len(sources))
    service = FinetuneService(min_clusters=lo, max_clusters=draw(st.sampled_from([None, lo, lo + 1])))
    return Scenario(name="joint-case", nodes=tuple(nodes), d2d=tuple(d2d), server_links=tuple(links),
                    training=Training(batch_size=draw(st.integers(1, 4)), local_iters=draw(st.integers(1, 3)), optimizer="sgdm"),
                    finetune=service, profile=profile)


def _compositions(total: int, parts: int):
    for cuts in itertools.combinations(range(1, total), parts - 1):
        bounds = (0, *cuts, total)
        yield [b - a for a, b in itertools.pairwise(bounds)]


def clusters_from(scenario: Scenario, kind: str, start: str) -> list[Cluster]:
    """Every cluster from `start` the checker accepts on its own (round rules aside), served by any edge server;
    an edge server joins a chain only as its cluster's server (the joint models' rule)."""
    n = scenario.profile.n_units
    others = [x.id for x in scenario.nodes if x.id != start]
    edges = [e.id for e in scenario.edges]
    out = []
    for k in range(1, min(n, len(others) + 1) + 1):
        for rest in itertools.permutations(others, k - 1):
            chain = [start, *rest]
            on_chain = [c for c in chain if c in edges]
            if len(on_chain) > 1:
                continue
            for server in on_chain or edges or [None]:
                for counts in _compositions(n, k):
                    c = cluster_from_counts(kind, chain, counts, server)
                    if not [v for v in check(scenario, Plan(clusters=(c,))) if v.rule not in SINGLE_RULES]:
                        out.append(c)
    return out


def brute_force(scenario: Scenario, objective: Objective, deadline_s: float | None = None) -> tuple[float, Plan] | None:
    """The optimum and one optimal plan by exhaustive enumeration (None: infeasible)."""
    service = scenario.finetune
    lo = service.min_clusters
    sources = [x.id for x in scenario.data_sources if x.request is None]
    hi = service.max_clusters if service.max_clusters is not None else max(len(sources), lo)
    options = [[(c, cluster_cost(scenario, c)) for c in clusters_from(scenario, "inference", r.id)] for r in scenario.requesters]
    options += [[None] + [(c, cluster_cost(scenario, c)) for c in clusters_from(scenario, "finetune", s)] for s in sources]
    slots = {e.id: e.slots for e in scenario.edges}
    best: tuple[float, Plan] | None = None
    sign = -1.0 if objective.maximize else 1.0

    if deadline_s is not None:  # a cluster over the deadline is in no feasible plan
        options = [[o for o in opts if o is None or o[1].latency_s <= deadline_s] for opts in options]

    def rec(i: int, used: set[str], load: dict[str, int], chosen: list) -> None:
        nonlocal best
        if best is not None and not objective.maximize and i < len(options):
            # latency (a max) and energy (a sum) only grow as clusters join: no completion beats the best
            if _value(scenario, objective, chosen) >= best[0] - 1e-12 * max(1.0, abs(best[0])):
                return
        if i == len(options):
            k = sum(c.kind == "finetune" for c, _ in chosen)
            if not lo <= k <= hi:
                return
            if deadline_s is not None and any(cc.latency_s > deadline_s for _, cc in chosen):
                return
            value = _value(scenario, objective, chosen)
            if best is None or sign * value < sign * best[0] - 1e-12 * max(1.0, abs(best[0])):
                best = (value, Plan(clusters=tuple(c for c, _ in chosen)))
            return
        for opt in options[i]:
            if opt is None:
                rec(i + 1, used, load, chosen)
                continue
            c, _cc = opt
            members = set(c.chain)
            on_edge = [e for e in slots if e in members]
            if members & used or any(load[e] >= slots[e] for e in on_edge):
                continue
            rec(i + 1, used | (members - set(slots)), {e: load[e] + (e in on_edge) for e in load}, [*chosen, opt])

    rec(0, set(), dict.fromkeys(slots, 0), [])
    if best is not None:  # the combination's figures are the cost model's: confirm on the whole plan
        assert not check(scenario, best[1], deadline_s)
        assert math.isclose(objective_value(round_cost(scenario, best[1]), objective), best[0], rel_tol=1e-9, abs_tol=1e-12)
    return best


def _value(scenario: Scenario, objective: Objective, chosen: list) -> float:
    latency = max((cc.latency_s for _, cc in chosen), default=0.0)
    energy = sum(cc.energy_j for _, cc in chosen)
    match objective.kind:
        case "latency":
            return latency
        case "energy":
            return energy
        case "weighted":
            return objective.alpha * latency + objective.beta * energy
    data = [scenario.node[c.start].data for c, _ in chosen if c.kind == "finetune"]
    if objective.coverage_of == "samples":
        return float(sum(d.samples for d in data))
    return float(len({k for d in data for k in d.classes}))
