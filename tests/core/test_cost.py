"""The cost model on cases worked out by hand (docs/model.md §4), formula beside each number."""

from __future__ import annotations

import math

import pytest

from gaisnet_opt.cost import cluster_cost, objective_value, round_cost
from gaisnet_opt.plan import Plan
from gaisnet_opt.result import Objective
from tests.support.worlds import FT, FT_EDGE, INF, tiny_scenario


def test_finetune_cluster_by_hand(scenario):
    c = cluster_cost(scenario, FT)
    c0, c1 = c.members
    assert c0.fwd_s == pytest.approx(2 * 100 / 100)  # B·fwd(embed)/F_c0 = 2 s
    assert c0.bwd_s == 0  # embed needs no backward
    assert c1.fwd_s == pytest.approx(2 * (200 + 50) / 50)  # 10 s
    assert c1.bwd_s == pytest.approx(2 * (300 + 60) / 50)  # 14.4 s
    (hop,) = c.hops
    assert hop.fwd_bytes == 2 * 10 and hop.label_bytes == 2 * 8  # B smashed samples and their B int64 labels
    assert hop.fwd_s == pytest.approx((20 + 16) * 8 / 16)  # 18 s over c0→c1
    assert hop.bwd_bytes == 0 and hop.bwd_s == 0  # nothing upstream of embed is tunable
    assert c.iteration_s == pytest.approx(2 + 10 + 14.4 + 18)  # 44.4 s
    assert c.delivery_s == pytest.approx(140 * 8 / 80)  # c1's tunable 100+40 B over its 80 bit/s downlink: 14 s
    assert c.upload_s == pytest.approx(140 * 8 / 40)  # over its 40 bit/s uplink: 28 s
    assert c.latency_s == pytest.approx(14 + 3 * 44.4 + 28)  # T_dl + I·T_iter + T_ul = 175.2 s
    # compute: I·FLOPs·J/FLOP = 3·200·0.01 + 3·(500+720)·0.02 = 6 + 73.2 J
    assert c.compute_energy_j == pytest.approx(6 + 73.2)
    # air time · sender power: hops 3·18 s·1 W, delivery 14 s·10 W (edge sends), upload 28 s·2 W
    assert c.tx_energy_j == pytest.approx(54 + 140 + 56)
    assert c.comm_bytes == pytest.approx(3 * (20 + 16) + 140 + 140)  # 388 B
    assert c0.memory_bytes == pytest.approx(1000)  # frozen only
    # frozen 2010 + tunable 140·(value + gradient + 1 momentum) + B·saved (50+8)
    assert c1.memory_bytes == pytest.approx(2010 + 140 * 3 + 2 * 58)
    assert c.memory_bytes == pytest.approx(1000 + 2546)


def test_inference_cluster_by_hand(scenario):
    c = cluster_cost(scenario, INF)  # c1 asks for Q = 4 samples
    assert c.iterations == 1
    c1, c0 = c.members
    assert c1.fwd_s == pytest.approx(4 * 300 / 50) and c1.bwd_s == 0  # 24 s, no backward
    assert c0.fwd_s == pytest.approx(4 * 50 / 100)  # 2 s
    assert c.hops[0].fwd_s == pytest.approx(4 * 4 * 8 / 32)  # c1→c0 at 32 bit/s: 4 s
    assert c.return_hop is not None
    assert c.return_hop.fwd_s == pytest.approx(4 * 2 * 8 / 16)  # result c0→c1 at 16 bit/s: 4 s
    assert c.delivery_s == pytest.approx(max(100 * 8 / 80, 40 * 8 / 160))  # 10 s
    assert c.upload_s == 0
    assert c.latency_s == pytest.approx(10 + 24 + 2 + 4 + 4)  # 44 s
    # 4·300·0.02 + 4·50·0.01 compute; 4 s·2 W + 4 s·1 W hops; (10 + 2) s · 10 W delivery
    assert c.energy_j == pytest.approx(24 + 2 + 8 + 4 + 120)
    # frozen + tunable + min(Q, B)·peak working activation
    assert c1.memory_bytes == pytest.approx(3000 + 100 + 2 * 20)
    assert c0.memory_bytes == pytest.approx(10 + 40 + 2 * 3)


def test_pass_overhead_by_hand():
    """o seconds per pass: once per iteration per direction that runs; ⌈Q/B⌉ passes for an inference request."""
    s = tiny_scenario()
    s = tiny_scenario(nodes=tuple(n.model_copy(update={"pass_overhead_s": 0.5}) for n in s.nodes))
    c0, c1 = cluster_cost(s, FT).members
    assert c0.fwd_s == pytest.approx(0.5 + 2) and c0.bwd_s == 0  # embed still runs no backward
    assert c1.fwd_s == pytest.approx(0.5 + 10) and c1.bwd_s == pytest.approx(0.5 + 14.4)
    assert cluster_cost(s, FT).latency_s == pytest.approx(175.2 + 3 * 1.5)  # three passes per iteration, I = 3
    i1, i0 = cluster_cost(s, INF).members  # Q = 4 in ⌈4/2⌉ = 2 batches
    assert i1.fwd_s == pytest.approx(2 * 0.5 + 24) and i0.fwd_s == pytest.approx(2 * 0.5 + 2)
    assert cluster_cost(s, INF).energy_j == pytest.approx(cluster_cost(tiny_scenario(), INF).energy_j)  # FLOPs price energy


def test_cached_inference_needs_no_delivery():
    from gaisnet_opt.scenario import InferenceRequest

    s = tiny_scenario()
    nodes = tuple(n.model_copy(update={"request": InferenceRequest(samples=4, cached=True)}) if n.id == "c1" else n
                  for n in s.nodes)
    c = cluster_cost(tiny_scenario(nodes=nodes), INF)
    assert c.delivery_s == 0
    assert c.latency_s == pytest.approx(24 + 2 + 4 + 4)


def test_edge_server_as_cooperative_node(scenario):
    c = cluster_cost(scenario, FT_EDGE)
    _c0, e0 = c.members
    assert e0.flops_per_s == pytest.approx(1000 / 2)  # F / slots
    assert e0.fwd_s == pytest.approx(2 * 50 / 500) and e0.bwd_s == pytest.approx(2 * 60 / 500)
    hop = c.hops[0]
    assert hop.fwd_s == pytest.approx(2 * (4 + 8) * 8 / 80)  # smashed data and labels over uplink c0→e0: 2.4 s
    assert hop.bwd_s == pytest.approx(2 * 4 * 8 / 160)  # downlink e0→c0: 0.4 s
    assert e0.delivery_s == 0 and e0.upload_s == 0  # edge-held units need none
    assert c.delivery_s == pytest.approx(100 * 8 / 160) and c.upload_s == pytest.approx(100 * 8 / 80)
    assert c.iteration_s == pytest.approx(6 + 6 + 0.2 + 0.24 + 2.4 + 0.4)  # 15.24 s
    assert c.latency_s == pytest.approx(5 + 3 * 15.24 + 10)


def test_round_is_its_slowest_cluster_and_objectives(scenario):
    plan = Plan(clusters=(FT, ))
    cost = round_cost(scenario, plan)
    assert cost.latency_s == pytest.approx(175.2)
    assert cost.samples == 10 and cost.classes == 2
    assert objective_value(cost, Objective(kind="latency")) == pytest.approx(175.2)
    assert objective_value(cost, Objective(kind="energy")) == pytest.approx(329.2)
    assert objective_value(cost, Objective(kind="weighted", alpha=2, beta=0.5)) == pytest.approx(2 * 175.2 + 0.5 * 329.2)
    assert objective_value(cost, Objective(kind="coverage")) == 10
    assert objective_value(cost, Objective(kind="coverage", coverage_of="classes")) == 2
    # bottleneck: c1's compute 24.4 s beats c0's 2 s + its outgoing hop 18 s
    assert objective_value(cost, Objective(kind="bottleneck")) == pytest.approx(24.4)


def test_missing_link_costs_infinity():
    s = tiny_scenario(d2d=())
    c = cluster_cost(s, FT)
    assert math.isinf(c.hops[0].fwd_s) and math.isinf(c.latency_s)
