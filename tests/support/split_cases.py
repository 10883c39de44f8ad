"""Small random split problems and a brute force over every split, for the split tests."""

from __future__ import annotations

import itertools
import math

from hypothesis import strategies as st

from gaisnet_opt.checker import check
from gaisnet_opt.cost import objective_value, round_cost
from gaisnet_opt.plan import ClusterKind, Plan, cluster_from_counts
from gaisnet_opt.profile import ModelProfile, Provenance, Unit
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
from gaisnet_opt.solvers.split import ROUND_RULES

OBJECTIVES = [
    Objective(kind="latency"), Objective(kind="energy"), Objective(kind="weighted", alpha=2.0, beta=0.5),
    Objective(kind="bottleneck"),
]
KINDS: list[ClusterKind] = ["finetune", "inference"]


@st.composite
def profiles(draw, min_units: int = 2, max_units: int = 6) -> ModelProfile:
    """Units with integer-scaled random figures (few near-ties); the last unit's output is the result."""
    n = draw(st.integers(min_units, max_units))
    small = st.integers(0, 9)
    units = []
    for i in range(n):
        fwd = draw(st.integers(1, 20)) * 1e8
        units.append(Unit(
            name=f"u{i}", fwd_flops=fwd, bwd_flops=draw(small) * 1e8, fwd_macs=fwd / 2, bwd_macs=0.0,
            out_bytes=draw(st.integers(1, 50)) * 1e4, grad_bytes=draw(small) * 1e4,
            frozen_param_bytes=draw(st.integers(1, 20)) * 1e6, tunable_param_bytes=draw(small) * 1e5,
            train_mem_bytes=draw(small) * 1e5, infer_mem_bytes=draw(small) * 1e5,
        ))
    return ModelProfile(name="random", units=tuple(units), provenance=Provenance(method="closed-form", model="random"))


@st.composite
def problems(
    draw, max_members: int = 4, max_units: int = 6, kinds: tuple[ClusterKind, ...] = tuple(KINDS)
) -> tuple[Scenario, list[str], ClusterKind]:
    """A scenario, a chain over its nodes (possibly through an edge server) and a cluster kind."""
    profile = draw(profiles(max_units=max_units))
    kind = draw(st.sampled_from(kinds))
    k = draw(st.integers(1, max_members))
    n_clients = k + 1
    clients = [f"c{i}" for i in range(n_clients)]
    nodes = []
    for i, c in enumerate(clients):
        nodes.append(Node(
            id=c, kind="client", flops=draw(st.integers(1, 10)) * 1e10, memory_bytes=draw(st.integers(20, 120)) * 1e6,
            energy_per_flop=draw(st.integers(1, 9)) * 1e-11, tx_power_w=draw(st.integers(0, 3)) * 0.5,
            pass_overhead_s=draw(st.sampled_from([0.0, 0.0, 1e-3, 1e-2])),
            data=DataSource(samples=10, classes=(0,)) if i == 0 and kind == "finetune" else None,
            request=InferenceRequest(samples=draw(st.integers(1, 8)), cached=draw(st.booleans())) if i == 0 and kind == "inference" else None,
        ))
    nodes.append(Node(id="e0", kind="edge", flops=5e11, memory_bytes=1e9, energy_per_flop=1e-11, tx_power_w=2.0, slots=draw(st.integers(1, 2))))
    rate = st.integers(1, 20).map(lambda r: r * 1e7)
    d2d = [D2DLink(src=a, dst=b, rate_bps=draw(rate)) for a, b in itertools.permutations(clients, 2) if draw(st.integers(0, 9)) < 8]
    server_links = [
        ServerLink(client=c, server="e0", uplink_bps=draw(rate), downlink_bps=draw(rate)) for c in clients if draw(st.integers(0, 9)) < 9
    ]
    members = draw(st.permutations([*clients, "e0"]))
    chain = [m for m in members if m != "c0"][: k - 1]
    chain = ["c0", *chain] if k > 1 or draw(st.booleans()) else ["c0"]
    scenario = Scenario(
        nodes=tuple(nodes), d2d=tuple(d2d), server_links=tuple(server_links),
        training=Training(batch_size=draw(st.integers(1, 8)), local_iters=draw(st.integers(1, 5))),
        finetune=FinetuneService() if kind == "finetune" else None, profile=profile,
    )
    return scenario, chain, kind


def brute_force(
    scenario: Scenario, chain: list[str], kind: ClusterKind, objective: Objective, server: str | None,
    deadline_s: float | None = None,
) -> float:
    """The best checker-feasible value (within `deadline_s`) over every subset of inner members and split (inf: none)."""
    n, best = scenario.profile.n_units, math.inf
    inner = chain[1:-1]
    for r in range(len(inner) + 1):
        for kept in itertools.combinations(inner, r):
            nodes = [chain[0], *kept, chain[-1]] if len(chain) > 1 else [chain[0]]
            for cuts in itertools.combinations(range(1, n), len(nodes) - 1):
                bounds = [0, *cuts, n]
                counts = [b - a for a, b in itertools.pairwise(bounds)]
                plan = Plan(clusters=(cluster_from_counts(kind, nodes, counts, server),))
                if any(v.rule not in ROUND_RULES for v in check(scenario, plan, deadline_s)):
                    continue
                best = min(best, objective_value(round_cost(scenario, plan), objective))
    return best
