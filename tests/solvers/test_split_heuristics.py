"""Split heuristics: never better than the optimum, their plans pass the checker, torchgpipe's behaviour."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaisnet_opt.instances.split_table import SplitTable
from gaisnet_opt.profile import ModelProfile, Provenance, Unit
from gaisnet_opt.result import Objective
from gaisnet_opt.solvers.split import solve_split
from gaisnet_opt.solvers.split_heuristics import (
    HEURISTICS,
    balance_by_flops,
    memory_fill,
    proportional,
    uniform,
    uniform_counts,
)
from tests.support.contracts import assert_split_sound
from tests.support.split_cases import OBJECTIVES, problems
from tests.support.worlds import tiny_scenario


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_members=5), st.sampled_from(OBJECTIVES))
def test_heuristics_never_beat_the_optimum(problem, objective: Objective):
    scenario, chain, kind = problem
    best = solve_split(scenario, chain, kind, "dp", objective)
    for method in HEURISTICS:
        r = solve_split(scenario, chain, kind, method, objective)
        if r.plan is None:
            assert r.status == "error" and r.reason
            continue
        assert r.status == "feasible" and r.bound is None and r.gap is None
        assert_split_sound(scenario, r)
        assert r.plan.clusters[0].chain == chain  # heuristics use every member
        assert best.objective is not None and r.objective >= best.objective * (1 - 1e-9)


def _flat_scenario(work: list[float], flops: tuple[float, float] = (100, 100)):
    """The tiny world with a profile whose units cost `work` forward FLOPs and nothing else."""
    units = tuple(
        Unit(name=f"u{i}", fwd_flops=w, bwd_flops=0, fwd_macs=w / 2, bwd_macs=0, out_bytes=1, grad_bytes=0,
             frozen_param_bytes=1, tunable_param_bytes=0, train_mem_bytes=0, infer_mem_bytes=0)
        for i, w in enumerate(work)
    )
    profile = ModelProfile(name="flat", units=units, provenance=Provenance(method="closed-form", model="flat"))
    s = tiny_scenario(profile=profile)
    nodes = tuple(n.model_copy(update={"flops": f}) for n, f in zip(s.nodes, flops)) + s.nodes[2:]
    return s.model_copy(update={"nodes": nodes})


def test_balance_by_flops_matches_torchgpipe_blockpartition():
    """torchgpipe's own test: solve([1, 2, 3, 4, 5, 6], partitions=2) == [[1, 2, 3, 4], [5, 6]]."""
    table = SplitTable.for_chain(_flat_scenario([1, 2, 3, 4, 5, 6]), "finetune", ["c0", "c1"])
    assert balance_by_flops(table, ["c0", "c1"]) == [4, 2]
    zeros = SplitTable.for_chain(_flat_scenario([0, 0]), "finetune", ["c0", "c1"])
    assert balance_by_flops(zeros, ["c0", "c1"]) == [1, 1]


def test_uniform_and_proportional_counts():
    table = SplitTable.for_chain(_flat_scenario([1] * 7, flops=(100, 300)), "finetune", ["c0", "c1"])
    assert uniform(table, ["c0", "c1"]) == [4, 3]
    # 5 spare units after one each, shared 1:3 -> 1.25 and 3.75: remainders 0.25 < 0.75
    assert proportional(table, ["c0", "c1"]) == [2, 5]
    assert uniform_counts(14, 3) == [5, 5, 4] and uniform_counts(3, 3) == [1, 1, 1]


def test_memory_fill_fills_memory_in_chain_order():
    s = _flat_scenario([1] * 5)
    nodes = tuple(n.model_copy(update={"memory_bytes": 3}) if n.id == "c0" else n for n in s.nodes)
    table = SplitTable.for_chain(s.model_copy(update={"nodes": nodes}), "finetune", ["c0", "c1"])
    assert memory_fill(table, ["c0", "c1"]) == [3, 2]  # 1 frozen byte per unit, 3 bytes on c0


@pytest.mark.parametrize("method", sorted(HEURISTICS))
def test_more_members_than_units(method: str):
    r = solve_split(tiny_scenario(), ["c0", "c1", "e0"], "finetune", method)
    assert r.plan is not None  # 3 units, 3 members: fine
    short = _flat_scenario([1, 1])
    r = solve_split(short, ["c0", "c1", "e0"], "finetune", method)
    assert r.status == "error" and "3 members" in r.reason and "2 units" in r.reason
