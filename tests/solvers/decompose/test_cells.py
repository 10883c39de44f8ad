"""Cells: the joined plan passes the checker for the whole problem, through a real 2-worker process pool and through
an executor that only offers `map`; `solve(method="decompose")` goes by cells at city scale, bounded by the floor."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaisnet_opt import SolveParams, solve
from gaisnet_opt.bounds.floor import floor_value, floors
from gaisnet_opt.checker import check
from gaisnet_opt.cost import round_cost
from gaisnet_opt.generator import generate
from gaisnet_opt.result import Objective
from gaisnet_opt.solvers.decompose import cells as cells_module
from gaisnet_opt.solvers.decompose.cells import CellJob, cell_scenarios, homes, solve_cell, solve_cells, split_range
from gaisnet_opt.solvers.service import cluster_range, with_clusters

LATENCY = Objective(kind="latency")


def _city(n: int, seed: int):
    """A small scenario with several edge-server cells (cells 300 m wide)."""
    return generate(n, seed=seed, cell_m=300.0)


class MapOnly:
    """An executor that offers `map` only, in this process (as a Ray or Dask pool would be driven)."""

    def map(self, fn, *iterables):
        return map(fn, *iterables)


def test_cells_partition_the_clients_and_share_out_the_range():
    scenario = with_clusters(generate(600, seed=3), 5)
    cells = cell_scenarios(scenario)
    assert len(cells) == len(scenario.edges) > 1
    clients = [n.id for c in cells for n in c.clients]
    assert sorted(clients) == sorted(c for c, h in homes(scenario).items() if h is not None)
    assert sum(cluster_range(c)[0] for c in cells) == 5
    assert split_range(scenario, [[], []]) == [(0, 0), (0, 0)]


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10**6), k=st.one_of(st.none(), st.integers(1, 40)))
def test_the_coupling_step_meets_the_services_range(seed, k):
    scenario = _city(150, seed)
    scenario = with_clusters(scenario, k) if k is not None else scenario
    lo, hi = cluster_range(scenario)
    home = homes(scenario)
    groups = [[c for c, h in home.items() if h == e.id] for e in scenario.edges]
    ranges = split_range(scenario, groups)
    sources = [sum(scenario.node[c].data is not None and scenario.node[c].request is None for c in g) for g in groups]
    assert sum(a for a, _ in ranges) == min(lo, sum(sources))
    assert sum(b for _, b in ranges) <= hi
    assert all(a <= b <= s for (a, b), s in zip(ranges, sources, strict=True))
    assert all(b == 0 for a, b in ranges if a == 0)  # a cell either fine-tunes (min >= 1) or has no service


def test_the_joined_plan_is_feasible_for_the_whole_problem():
    scenario = with_clusters(generate(600, seed=3), 4)
    plan, results = solve_cells(scenario, LATENCY, 10.0, workers=2)
    assert plan is not None and len(results) == len(scenario.edges)
    assert not check(scenario, plan)
    assert sum(c.kind == "finetune" for c in plan.clusters) == 4


def test_a_process_pool_and_a_map_only_executor_join_plans_of_the_same_latency():
    """Both paths solve every cell to optimality; which of a cell's optimal plans they return depends on the first
    incumbent, a local search bounded by time (so on the host's load), hence the values are compared."""
    scenario = with_clusters(_city(160, 7), 3)
    pooled, first = solve_cells(scenario, LATENCY, 20.0, workers=2)
    mapped, results = solve_cells(scenario, LATENCY, 20.0, executor=MapOnly())
    assert pooled is not None and mapped is not None and len(results) > 1
    assert not check(scenario, pooled) and not check(scenario, mapped)
    assert all(r.gap is not None and r.gap <= 1e-6 for r in first + results)
    assert [r.objective for r in first] == pytest.approx([r.objective for r in results], rel=1e-6)
    assert round_cost(scenario, pooled).latency_s == pytest.approx(round_cost(scenario, mapped).latency_s, rel=1e-6)


def test_a_cell_whose_decomposition_finds_nothing_falls_back_on_local_search(monkeypatch):
    monkeypatch.setattr(cells_module, "FALLBACK_SHARE", 0.999)  # no time for the decomposition's floor
    cell = next(c for c in cell_scenarios(with_clusters(_city(160, 7), 3)) if c.requesters)
    out = solve_cell(CellJob(cell, LATENCY, 2.0, 0))
    assert out.plan is not None and not check(cell, out.plan)
    assert "local search" in out.notes[-1]


def test_solve_goes_by_cells_at_city_scale_bounded_by_the_whole_problems_floor(monkeypatch):
    monkeypatch.setattr(cells_module, "CELLS_FROM", 100)
    scenario = with_clusters(_city(160, 7), 3)
    t0 = time.perf_counter()
    result = solve(scenario, "decompose", LATENCY, params=SolveParams(time_limit_s=20.0))
    assert time.perf_counter() - t0 <= 20.0 * 1.05 + 0.1
    assert result.plan is not None and not check(scenario, result.plan)
    assert "cells" in result.params["decompose_notes"][0]
    assert result.bound == floor_value(LATENCY, floors(scenario, cluster_range(scenario)[0]))


def test_the_border_repair_never_slows_the_join_and_keeps_it_feasible():
    from gaisnet_opt.bounds.start_bounds import StartBounds
    from gaisnet_opt.budget import Budget

    scenario = with_clusters(_city(160, 7), 3)
    plan, _ = solve_cells(scenario, LATENCY, 5.0, executor=MapOnly())
    assert plan is not None
    repaired = cells_module._border_repair(scenario, plan, StartBounds(scenario), Budget(10.0))
    floor = floors(scenario, cluster_range(scenario)[0])[0]
    assert floor <= round_cost(scenario, repaired).latency_s <= round_cost(scenario, plan).latency_s
    assert not check(scenario, repaired)


@settings(max_examples=50, deadline=None)
@given(weights=st.lists(st.integers(1, 80), min_size=1, max_size=40),
       workers=st.integers(1, 4), total=st.floats(1.0, 100.0))
def test_the_schedule_ends_in_time_and_gives_each_cell_its_weights_part(weights, workers, total):
    weights = sorted(weights, reverse=True)
    plan = cells_module.schedule(weights, workers, total)
    overhead = cells_module.CELL_OVERHEAD_S
    free = [0.0] * workers  # the cells run as planned, each to the first worker free
    for (seconds, left), w in zip(plan, weights, strict=True):
        start = min(free)
        assert left == pytest.approx(total - start) and seconds == pytest.approx(w * plan[0][0] / weights[0])
        free[free.index(start)] = start + seconds + overhead
    if plan[0][0] > 0:  # a unit that fits (none does when the overheads alone take longer)
        assert max(free) <= total * (1 + 1e-9)
        assert cells_module.schedule(weights, workers, total * 0.999)[0][0] <= plan[0][0]


def test_a_cell_that_starts_late_or_early_gets_its_part_of_what_is_left_not_its_plan():
    job = CellJob(_city(160, 7), Objective(kind="energy"), 4.0, 0, time.time() + 5.0, 10.0)  # 5 s late
    assert 4.0 * 4.9 / 10.0 < job.budget_s() <= 4.0 * 5.0 / 10.0
    assert 4.0 * 1.99 < replace(job, until=time.time() + 20.0).budget_s() <= 4.0 * 2  # early: what was left
    assert replace(job, left=0.1).budget_s() <= 5.0 - cells_module.CELL_OVERHEAD_S  # never past `until`
    assert replace(job, until=time.time() - 1.0).budget_s() == 0.0
    assert replace(job, until=None).budget_s() == 4.0


def test_the_time_left_goes_to_the_widest_gaps_and_only_a_smaller_gap_replaces_a_result():
    scenario = with_clusters(_city(160, 7), 3)
    energy = Objective(kind="energy")
    cells = [c for c in cell_scenarios(scenario) if c.requesters or cluster_range(c)[0]]
    first = [solve_cell(CellJob(c, energy, 5.0, 0)) for c in cells]
    assert all(r.plan is not None and r.objective is not None for r in first)
    # the first cell as if its first pass had left a wide gap, the second as if it had closed its gap already:
    # the one is solved again and replaced, the other keeps what it had
    wide = replace(first[0], objective=first[0].objective * 10)
    results = [wide, replace(first[1], bound=first[1].objective), *first[2:]]
    cells_module._again(cells, [1] * len(cells), results, energy, 20.0, MapOnly(), 1, 0)
    assert results[0] is not wide and results[0].objective == pytest.approx(first[0].objective, rel=1e-9)
    assert results[1].bound == first[1].objective
