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

LATENCY = Objective(kind="latency")
instances = dict(n=st.integers(6, 20), seed=st.integers(0, 10**6), k=st.sampled_from([None, 1, 2]))


def _scenario(n: int, seed: int, k: int | None):  # type: ignore[no-untyped-def]
    scenario = generate(n, seed=seed)
    return scenario if k is None else with_clusters(scenario, k)


def _optimum(scenario) -> float | None:  # type: ignore[no-untyped-def]
    milp = solve(scenario, "milp", LATENCY, params=SolveParams(time_limit_s=20))
    return milp.objective if milp.status == "optimal" else None


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**instances)
def test_the_search_alone_proves_the_milp_optimum(n, seed, k):
    scenario = _scenario(n, seed, k)
    optimum = _optimum(scenario)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(entry, "heuristic_plan", lambda *args: None)  # the search starts from the floor alone
        d = entry.decompose(scenario, LATENCY, budget=Budget(20), seed=0)
    _sound(scenario, LATENCY, d, optimum)
    if optimum is not None:
        assert d.gap is not None and d.gap <= TOL


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**instances, cap=st.sampled_from([1, 2]), pops=st.sampled_from([1, 3, 5000]))
def test_listings_cut_short_stand_in_and_the_bound_still_holds(n, seed, k, cap, pops):
    scenario = _scenario(n, seed, k)
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
        best = sb.value(start, "latency")
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


def test_time_to_gap_is_the_first_point_within_it():
    points = [Progress(t_s=1.0, bound=6.0), Progress(t_s=2.0, objective=7.0, bound=6.0),
              Progress(t_s=3.0, objective=6.2, bound=6.0), Progress(t_s=4.0, objective=6.2, bound=6.19)]
    assert time_to_gap(points, 0.05) == 3.0 and time_to_gap(points, 0.01) == 4.0
    assert time_to_gap(points, 0.001) is None and time_to_gap([], 0.05) is None
