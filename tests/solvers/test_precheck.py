"""Infeasible scenarios of each kind get a reason naming the binding resource."""

from __future__ import annotations

import pytest

from gaisnet_opt.result import Objective
from gaisnet_opt.scenario import D2DLink, InferenceRequest, Node, ServerLink
from gaisnet_opt.solvers.solve import solve
from tests.support.worlds import tiny_scenario

EXACT = ("cpsat", "milp")


def only_c1_reaches_the_server():
    return (ServerLink(client="c1", server="e0", uplink_bps=40, downlink_bps=80),)


@pytest.mark.parametrize("method", [*EXACT, "largest-first"])
def test_too_many_clusters_for_the_data_sources(method):
    r = solve(tiny_scenario(), method=method, clusters=3)
    assert r.status == "infeasible" and r.plan is None
    assert "K=3 clusters need 3 data sources, 1 exist" in r.reason


def test_a_data_source_whose_reachable_memory_is_too_small():
    nodes = list(tiny_scenario().nodes)
    nodes[0] = nodes[0].model_copy(update={"memory_bytes": 1500.0})
    r = solve(tiny_scenario(nodes=tuple(nodes), d2d=(), server_links=only_c1_reaches_the_server()), method="cpsat")
    assert r.status == "infeasible"
    assert "no chain from data source c0 can hold the model: the memory reachable over links is 1.5e-06 GB" in r.reason


def test_a_request_that_cannot_be_served():
    nodes = list(tiny_scenario().nodes)
    nodes[1] = nodes[1].model_copy(update={"memory_bytes": 900.0})
    r = solve(tiny_scenario(nodes=tuple(nodes), d2d=()), method="milp")
    assert r.status == "infeasible"
    assert r.reason.startswith("pre-check: the inference request of c1 cannot be served: requesting client c1 "
                               "cannot hold embed, which sits on the start point")


def test_a_deadline_no_node_can_meet():
    r = solve(tiny_scenario(), method="cpsat", objective=Objective(deadline_s=1e-6))
    assert r.status == "infeasible" and "even on the fastest node (e0" in r.reason and "the deadline is 1e-06 s" in r.reason


def two_requests_one_helper(second_request: bool = True):
    """r1 and r2 can each hold only the embedding; the one helper h could finish either chain, not both."""
    small = dict(kind="client", flops=100, memory_bytes=1100, energy_per_flop=0.01, tx_power_w=1)
    request = InferenceRequest(samples=2, cached=True)
    nodes = (
        Node(id="r1", request=request, **small),
        Node(id="r2", request=request if second_request else None, **small),
        Node(id="h", kind="client", flops=100, memory_bytes=1e6, energy_per_flop=0.01, tx_power_w=1),
        Node(id="e0", kind="edge", flops=1000, memory_bytes=1e9, energy_per_flop=0.001, tx_power_w=10),
    )
    d2d = tuple(D2DLink(src=a, dst=b, rate_bps=16) for a, b in (("r1", "h"), ("h", "r1"), ("r2", "h"), ("h", "r2")))
    return tiny_scenario(nodes=nodes, d2d=d2d, server_links=(), finetune=None)


@pytest.mark.parametrize("method", EXACT)
def test_solver_proven_infeasibility_is_said_plainly(method):
    r = solve(two_requests_one_helper(), method=method)
    assert r.status == "infeasible" and r.plan is None
    assert r.reason.startswith(f"{method} proved that no plan satisfies every rule at once")
    assert "one-cluster" in r.reason


def test_a_heuristic_failing_does_not_claim_infeasibility():
    r = solve(two_requests_one_helper(), method="largest-first")
    assert r.status == "error" and "proves nothing" in r.reason


def test_one_request_with_the_helper_is_served():
    for method in EXACT:
        r = solve(two_requests_one_helper(second_request=False), method=method)
        assert r.status == "optimal" and [c.chain for c in r.plan.clusters] == [["r1", "h"]]


@pytest.mark.parametrize("method", [*EXACT, "largest-first", "fastest-first", "local"])
def test_only_the_second_edge_server_can_hold_the_rest(method):
    """c0 holds the embedding alone; e0 (its default server) is too small for the rest, e1 is not."""
    base = tiny_scenario()
    c0, c1, e0 = base.nodes
    small = e0.model_copy(update={"memory_bytes": 2000.0, "slots": 1})
    nodes = (c0.model_copy(update={"memory_bytes": 1500.0}), c1.model_copy(update={"request": None}), small,
             e0.model_copy(update={"id": "e1", "slots": 1}))
    links = tuple(ServerLink(client="c0", server=e, uplink_bps=80, downlink_bps=160) for e in ("e0", "e1"))
    r = solve(tiny_scenario(nodes=nodes, d2d=(), server_links=links), method=method)
    assert r.status == ("optimal" if method in EXACT else "feasible"), r.reason
    assert [m.node for m in r.plan.clusters[0].members] == ["c0", "e1"] and r.plan.clusters[0].server == "e1"
