"""`solve`: MILP and CP-SAT agree with a brute force over every plan, and no heuristic beats a proven optimum."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaisnet_opt.generator import generate
from gaisnet_opt.params import SolveParams
from gaisnet_opt.result import Objective
from gaisnet_opt.scenario import ServerLink
from gaisnet_opt.solvers.service import with_clusters
from gaisnet_opt.solvers.solve import solve
from tests.support.contracts import HEURISTIC_METHODS, assert_sound, assert_sound_or_explained, bound_holds, not_better
from tests.support.joint_cases import OBJECTIVES, brute_force, scenarios
from tests.support.worlds import tiny_scenario


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), objective=st.sampled_from(OBJECTIVES), tight=st.booleans())
def test_exact_methods_match_the_brute_force(scenario, objective, tight):
    if tight:  # a deadline halfway between the fastest and the slowest feasible round
        free = brute_force(scenario, Objective())
        if free is not None:
            objective = objective.model_copy(update={"deadline_s": free[0] * 1.5})
    expected = brute_force(scenario, objective, objective.deadline_s)
    results = {m: solve(scenario, method=m, objective=objective, params=SolveParams(time_limit_s=60, stop_at_floor=False)) for m in ("milp", "cpsat")}
    results["cpsat, floor stop"] = solve(scenario, method="cpsat", objective=objective, params=SolveParams(time_limit_s=60))
    for method, r in results.items():
        assert_sound_or_explained(scenario, r, objective)
        if expected is None:
            assert r.status == "infeasible", (method, r.reason)
        else:
            assert r.status == "optimal", (method, r.status, r.reason)
            assert r.objective == pytest.approx(expected[0], rel=1e-6, abs=1e-9), method
            assert bound_holds(r.objective, r.bound, objective)
    for method in HEURISTIC_METHODS:
        h = solve(scenario, method=method, objective=objective, params=SolveParams(seed=1, time_limit_s=5))
        if expected is None:
            assert h.plan is None and h.status in ("infeasible", "error") and h.reason, method
        elif objective.deadline_s is None or method == "local":  # a tight deadline may defeat a constructive heuristic
            assert_sound(scenario, h, objective)
            assert not_better(h.objective, expected[0], objective), method
        else:
            assert_sound_or_explained(scenario, h, objective)
            assert h.objective is None or not_better(h.objective, expected[0], objective), method


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(3, 8), seed=st.integers(0, 10_000), kind=st.sampled_from(["latency", "weighted"]))
def test_milp_and_cpsat_agree_on_generated_scenarios(n, seed, kind):
    scenario = generate(n, seed=seed)
    objective = Objective(kind=kind, alpha=1.0, beta=0.01)
    results = [solve(scenario, method=m, objective=objective, params=SolveParams(time_limit_s=60, stop_at_floor=False)) for m in ("milp", "cpsat")]
    for r in results:
        assert_sound_or_explained(scenario, r, objective)
    a, b = results
    assert a.status == b.status
    if a.status == "optimal":
        assert a.objective == pytest.approx(b.objective, rel=1e-6)
        for r in results:
            assert bound_holds(r.objective, r.bound, objective)
        for method in HEURISTIC_METHODS:
            h = solve(scenario, method=method, objective=objective, params=SolveParams(seed=seed))
            assert_sound(scenario, h, objective)
            assert not_better(h.objective, a.objective, objective)


def test_the_exact_methods_choose_the_edge_server():
    """c0 reaches e0 first (the cost model's default) but e1 over faster links: only a server choice finds e1."""
    base = tiny_scenario()
    c0, c1, e0 = base.nodes
    e1 = e0.model_copy(update={"id": "e1"})
    links = (ServerLink(client="c0", server="e0", uplink_bps=8, downlink_bps=16),
             ServerLink(client="c0", server="e1", uplink_bps=80, downlink_bps=160),
             ServerLink(client="c1", server="e0", uplink_bps=40, downlink_bps=80))
    scenario = tiny_scenario(nodes=(c0, c1.model_copy(update={"request": None}), e0, e1), server_links=links)
    default = solve(scenario, method="largest-first")
    best = brute_force(scenario, Objective())
    assert best is not None and best[1].clusters[0].server == "e1"
    for method in ("milp", "cpsat"):
        r = solve(scenario, method=method, params=SolveParams(stop_at_floor=False))
        assert r.status == "optimal" and r.plan.clusters[0].server == "e1", method
        assert r.objective == pytest.approx(best[0], rel=1e-6) and r.objective < default.objective
    local = solve(scenario, method="local", params=SolveParams(seed=1))  # its server move finds e1 too
    assert local.plan.clusters[0].server == "e1" and local.objective == pytest.approx(best[0], rel=1e-6)


def test_the_floor_proves_a_heuristic_plan_optimal_or_the_model_runs():
    scenario = generate(20, seed=1)
    fast, full = (solve(scenario, method="milp", clusters=3, params=SolveParams(stop_at_floor=stop)) for stop in (True, False))
    assert fast.status == full.status == "optimal"
    assert fast.objective == pytest.approx(full.objective, rel=1e-6)
    assert fast.bound <= full.objective * (1 + 1e-9) and full.params.get("proved_by") is None


@pytest.mark.slow
def test_time_out_returns_the_best_plan_with_a_bound():
    scenario, objective = generate(30, seed=4), Objective(kind="energy")
    r = solve(scenario, method="milp", objective=objective, clusters=3, params=SolveParams(time_limit_s=1.0))
    assert r.status in ("feasible", "optimal") and r.plan is not None
    assert_sound(with_clusters(scenario, 3), r, objective)
    assert r.bound is None or bound_holds(r.objective, r.bound, objective)
    assert r.gap is None or r.gap >= 0
    assert math.isfinite(r.params["heuristic_objective"])
