"""The decomposition: its bound never exceeds the optimum, its plan passes the checker, and where it claims a
closed gap its optimum is the MILP's (generated instances) and the brute force's (tiny random ones)."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaisnet_opt.budget import Budget
from gaisnet_opt.checker import check
from gaisnet_opt.cost import objective_value, round_cost
from gaisnet_opt.generator import generate
from gaisnet_opt.params import SolveParams
from gaisnet_opt.result import Objective
from gaisnet_opt.solvers.decompose.decompose import decompose
from gaisnet_opt.solvers.service import deadline_of, with_clusters
from gaisnet_opt.solvers.solve import solve
from tests.support.joint_cases import brute_force, scenarios

TOL = 1e-6


def _sound(scenario, objective, d, optimum):
    assert d.bound is None or optimum is None or d.bound <= optimum * (1 + TOL) + 1e-12
    if d.plan is not None:
        assert not check(scenario, d.plan, deadline_of(scenario, objective))
        assert math.isclose(d.objective, objective_value(round_cost(scenario, d.plan), objective), rel_tol=1e-12)
        assert optimum is None or d.objective >= optimum * (1 - TOL) - 1e-12
    if d.gap is not None and d.gap <= TOL:
        assert optimum is not None and math.isclose(d.objective, optimum, rel_tol=1e-5, abs_tol=1e-9)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(6, 20), seed=st.integers(0, 10**6), kind=st.sampled_from(["latency", "energy"]),
       k=st.sampled_from([None, 2]))
def test_on_generated_instances_the_decomposition_meets_the_milp(n, seed, kind, k):
    scenario = generate(n, seed=seed)
    if k is not None:
        scenario = with_clusters(scenario, k)
    objective = Objective(kind=kind)
    milp = solve(scenario, "milp", objective, params=SolveParams(time_limit_s=20))
    optimum = milp.objective if milp.status == "optimal" else None
    d = decompose(scenario, objective, budget=Budget(20), seed=0)
    _sound(scenario, objective, d, optimum)
    if optimum is not None and kind == "latency":
        assert d.gap is not None and d.gap <= TOL  # the threshold search proves the latency optimum here


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), kind=st.sampled_from(["latency", "energy"]))
def test_on_tiny_instances_the_bound_holds_and_a_closed_gap_is_the_optimum(scenario, kind):
    objective = Objective(kind=kind)
    best = brute_force(scenario, objective)
    d = decompose(scenario, objective, budget=Budget(10), seed=0)
    _sound(scenario, objective, d, None if best is None else best[0])
    if best is None:
        assert d.plan is None
