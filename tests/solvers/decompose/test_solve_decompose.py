"""`solve(method="decompose")`: the decomposition through the one result path, sound against the MILP."""

from __future__ import annotations

import pytest

from gaisnet_opt import Objective, SolveParams, check, generate, solve
from gaisnet_opt.errors import InputError
from tests.support.contracts import bound_holds


def test_decompose_through_solve_is_checked_and_bounded_by_the_milp_optimum():
    scenario = generate(12, seed=3)
    objective = Objective(kind="latency")
    got = solve(scenario, "decompose", objective, params=SolveParams(time_limit_s=30))
    milp = solve(scenario, "milp", objective, params=SolveParams(time_limit_s=30))
    assert got.method == "decompose" and got.plan is not None and check(scenario, got.plan) == []
    assert "decompose_notes" in got.params and set(got.phases) >= {"precheck", "floor", "finish"}
    assert milp.status == "optimal" and got.bound is not None
    assert bound_holds(milp.objective, got.bound, objective)  # the decomposition's bound is a valid lower bound
    assert got.objective >= milp.objective * (1 - 1e-7)  # and its plan no better than the optimum
    if got.status == "optimal":
        assert got.objective == pytest.approx(milp.objective, rel=1e-6)


def test_trace_improves_monotonely_and_ends_at_the_result():
    scenario = generate(30, seed=5)
    got = solve(scenario, "decompose", Objective(kind="latency"), params=SolveParams(time_limit_s=30))
    assert got.trace, "the decomposition records its progress"
    times = [p.t_s for p in got.trace]
    plans = [p.objective for p in got.trace if p.objective is not None]
    bounds = [p.bound for p in got.trace if p.bound is not None]
    assert times == sorted(times) and times[-1] <= got.time_s
    assert plans == sorted(plans, reverse=True) and bounds == sorted(bounds)
    assert plans[-1] == pytest.approx(got.objective, rel=1e-9) and bounds[-1] == pytest.approx(got.bound, rel=1e-9)


@pytest.mark.parametrize("kind", ["coverage", "weighted", "bottleneck"])
def test_decompose_refuses_objectives_it_does_not_handle(kind):
    with pytest.raises(InputError, match=r"objective\.kind"):
        solve(generate(6, seed=1), "decompose", Objective(kind=kind))
