"""The energy decomposition through `solve`: on generated instances its bound never exceeds the MILP's
optimum, its plan is never better than it, and where it claims optimality it has the MILP's value."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaisnet_opt import Objective, SolveParams, check, generate, solve
from gaisnet_opt.solvers.service import with_clusters

ENERGY = Objective(kind="energy")


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(6, 16), seed=st.integers(0, 10**6), k=st.sampled_from([None, 2, 3]))
def test_the_energy_bound_and_plan_bracket_the_milp_optimum(n, seed, k):
    scenario = generate(n, seed=seed)
    if k is not None:
        scenario = with_clusters(scenario, k)
    milp = solve(scenario, "milp", ENERGY, params=SolveParams(time_limit_s=30))
    got = solve(scenario, "decompose", ENERGY, params=SolveParams(time_limit_s=20))
    if milp.status == "infeasible":
        assert got.plan is None
        return
    assert milp.status == "optimal" and got.plan is not None and check(scenario, got.plan) == []
    assert got.bound is not None and got.bound <= milp.objective * (1 + 1e-7)
    assert got.objective >= milp.objective * (1 - 1e-7)
    if got.status == "optimal":
        assert got.objective == pytest.approx(milp.objective, rel=1e-6)


def test_energy_through_solve_closes_the_gap_and_records_its_progress():
    scenario = generate(30, seed=5)
    got = solve(scenario, "decompose", ENERGY, params=SolveParams(time_limit_s=30))
    assert got.status == "optimal" and got.gap is not None and got.gap <= 1e-6
    bounds = [p.bound for p in got.trace if p.bound is not None]
    plans = [p.objective for p in got.trace if p.objective is not None]
    assert bounds == sorted(bounds) and plans == sorted(plans, reverse=True)
    assert bounds[-1] == pytest.approx(got.bound, rel=1e-9) and plans[-1] == pytest.approx(got.objective, rel=1e-9)
