"""The relaxation floor: never above the optimum (brute force), and it waits for a helper's delivery."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from gaisnet_opt.bounds.floor import floors
from gaisnet_opt.cost import cluster_cost, member_memory
from gaisnet_opt.result import Objective
from gaisnet_opt.solvers.service import cluster_range
from tests.support.joint_cases import brute_force, scenarios
from tests.support.worlds import tiny_scenario


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_the_floors_never_exceed_the_optimum(scenario):
    lo, _ = cluster_range(scenario)
    low = floors(scenario, lo)
    for floor, kind in zip(low, ("latency", "energy"), strict=True):
        best = brute_force(scenario, Objective(kind=kind))
        if best is not None:
            assert floor <= best[0] * (1 + 1e-9), kind


def test_the_latency_floor_counts_a_helpers_delivery():
    """c0 holds only the embedding, so c1 must fetch the rest from the edge server: the floor waits for that."""
    base = tiny_scenario()
    room = (member_memory(base, "finetune", 0, 0, 2) + member_memory(base, "finetune", 0, 1, 2)) / 2
    c0, c1, e0 = base.nodes
    scenario = tiny_scenario(nodes=(c0.model_copy(update={"memory_bytes": room}), c1.model_copy(update={"request": None}),
                                    e0.model_copy(update={"slots": 0})))
    only = brute_force(scenario, Objective())
    assert only is not None and [m.node for m in only[1].clusters[0].members] == ["c0", "c1"]
    helper = cluster_cost(scenario, only[1].clusters[0]).members[1]
    assert only[0] - helper.delivery_s < floors(scenario, 1)[0] <= only[0]
