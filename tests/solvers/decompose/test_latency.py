"""The latency threshold search on its own (no heuristic incumbent): its bound never exceeds the MILP's optimum,
its plan meets it when it says optimal, also with listings cut short to stand-ins; the minimal listings are
complete (every cluster within the limit holds a listed one's members); the trace gives the time to a gap."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaisnet_opt.bounds.start_bounds import StartBounds
from gaisnet_opt.budget import Budget
from gaisnet_opt.cost import objective_value, round_cost
from gaisnet_opt.generator import generate
from gaisnet_opt.params import SolveParams
from gaisnet_opt.result import Objective, Progress
from gaisnet_opt.solvers.decompose import decompose as entry
from gaisnet_opt.solvers.decompose import latency
from gaisnet_opt.solvers.decompose.minimal import minimal_chains
from gaisnet_opt.solvers.decompose.trace import time_to_gap
from gaisnet_opt.solvers.service import with_clusters
from gaisnet_opt.solvers.solve import solve
from tests.solvers.decompose.test_decompose import TOL, _sound
from tests.support.exact_start import exact_value

LATENCY = Objective(kind="latency")
instances = dict(n=st.integers(6, 20), seed=st.integers(0, 10**6), share=st.sampled_from([None, 0.0, 0.5, 1.0]))
"""`share`: K as a share of the free sources (at least one; None: the scenario's range). With many clusters,
disjointness binds and the optimum lies above the floor, so the search has thresholds to prove."""


def _scenario(n: int, seed: int, share: float | None):  # type: ignore[no-untyped-def]
    scenario = generate(n, seed=seed)
    if share is None:
        return scenario
    free = [d for d in scenario.data_sources if d.request is None]
    return with_clusters(scenario, max(1, math.ceil(share * len(free))))


def _optimum(scenario) -> float | None:  # type: ignore[no-untyped-def]
    milp = solve(scenario, "milp", LATENCY, params=SolveParams(time_limit_s=20))
    return milp.objective if milp.status == "optimal" else None


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**instances)
def test_the_search_alone_proves_the_milp_optimum(n, seed, share):
    scenario = _scenario(n, seed, share)
    optimum = _optimum(scenario)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(entry, "heuristic_plan", lambda *args: None)  # the search starts from the floor alone
        d = entry.decompose(scenario, LATENCY, budget=Budget(20), seed=0)
    _sound(scenario, LATENCY, d, optimum)
    if optimum is not None:
        assert d.gap is not None and d.gap <= TOL


def test_an_optimum_above_the_floor_is_proven_by_failed_packings():
    scenario = with_clusters(generate(12, seed=263804), 4)  # every free source starts a cluster
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(entry, "heuristic_plan", lambda *args: None)
        d = entry.decompose(scenario, LATENCY, budget=Budget(20), seed=0)
    optimum = _optimum(scenario)
    assert optimum is not None and d.gap is not None and d.gap <= TOL
    assert d.trace[0].bound is not None and d.trace[0].bound < optimum * (1 - 0.01)  # the floor, well below
    assert d.objective == pytest.approx(optimum, rel=1e-6) and d.bound == pytest.approx(optimum, rel=1e-6)
    assert "0 proven" not in " ".join(d.notes)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**instances, cap=st.sampled_from([1, 2]), pops=st.sampled_from([1, 3, 5000]))
def test_listings_cut_short_stand_in_and_the_bound_still_holds(n, seed, share, cap, pops):
    scenario = _scenario(n, seed, share)
    optimum = _optimum(scenario)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(entry, "heuristic_plan", lambda *args: None)
        mp.setattr(latency, "CAP", cap)
        mp.setattr(latency, "POPS", pops)
        d = entry.decompose(scenario, LATENCY, budget=Budget(20), seed=0)
    _sound(scenario, LATENCY, d, optimum)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(6, 20), seed=st.integers(0, 10**6), slack=st.floats(1.0, 1.5))
def test_a_minimal_listing_holds_a_no_slower_cluster_inside_every_cluster_within_its_limit(n, seed, slack):
    scenario = generate(n, seed=seed)
    sb = StartBounds(scenario)
    for start in [("inference", r) for r in sb.requests] + [("finetune", s) for s in sb.sources[:3]]:
        best = exact_value(sb, start, "latency")
        if not math.isfinite(best):
            continue
        search, node = sb.search(start, "latency"), sb.graph.index[start[1]]
        listing = minimal_chains(search, node, best * slack, 10**6, 10**6, Budget(None))
        assert math.isinf(listing.cut) and listing.chains[0].value == pytest.approx(best)
        held = [(c.value, {v for v, _, _ in c.members}) for c in listing.chains]
        assert all(not a <= b for i, (_, a) in enumerate(held) for _, b in held[i + 1:])  # none inside another
        for chain in search.chains(node, limit=best * slack, cap=10**6):
            members = {v for v, _, _ in chain.members}
            assert any(m <= members and value <= chain.value + 1e-12 for value, m in held)


def test_the_trace_records_the_heuristic_plan_then_each_better_packing_and_ends_at_the_result():
    scenario = with_clusters(generate(20, seed=7), 3)
    given: list = []

    def heuristic(scenario, objective, seconds, seed):  # type: ignore[no-untyped-def]
        given.append(entry_heuristic(scenario, objective, 0.0, seed))  # no local search: packings improve on it
        return given[-1]

    entry_heuristic = entry.heuristic_plan
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(entry, "heuristic_plan", heuristic)
        d = entry.decompose(scenario, LATENCY, budget=Budget(20), seed=0)
    assert given[0] is not None and d.plan is not None
    first = objective_value(round_cost(scenario, given[0]), LATENCY)
    plans = [p for p in d.trace if p.objective is not None]
    assert plans[0].objective == first  # the heuristic's plan, recorded when found, before any packing
    assert len(plans) >= 2 and plans[-1].objective < first
    assert [p.objective for p in plans] == sorted((p.objective for p in plans), reverse=True)
    assert [p.t_s for p in d.trace] == sorted(p.t_s for p in d.trace)
    assert d.trace[-1].objective == d.objective and d.trace[-1].bound == d.bound


def test_time_to_gap_is_the_first_point_within_it():
    points = [Progress(t_s=1.0, bound=6.0), Progress(t_s=2.0, objective=7.0, bound=6.0),
              Progress(t_s=3.0, objective=6.2, bound=6.0), Progress(t_s=4.0, objective=6.2, bound=6.19)]
    assert time_to_gap(points, 0.05) == 3.0 and time_to_gap(points, 0.01) == 4.0
    assert time_to_gap(points, 0.001) is None and time_to_gap([], 0.05) is None
