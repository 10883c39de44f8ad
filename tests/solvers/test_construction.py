"""The joint heuristics: feasible plans the checker accepts, the cost model's objective, seeded and repeatable."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaisnet_opt.generator import generate
from gaisnet_opt.params import SolveParams
from gaisnet_opt.result import Objective
from gaisnet_opt.solvers.precheck import precheck
from gaisnet_opt.solvers.service import deadline_of, with_clusters
from gaisnet_opt.solvers.solve import solve
from tests.support.contracts import HEURISTIC_METHODS, assert_sound

OBJECTIVES = [Objective(), Objective(kind="energy"), Objective(kind="weighted", alpha=1.0, beta=0.01),
              Objective(kind="coverage", deadline_s=200.0), Objective(kind="coverage", coverage_of="classes")]


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(5, 80), seed=st.integers(0, 10_000), k=st.integers(1, 4), objective=st.sampled_from(OBJECTIVES))
def test_every_heuristic_plan_passes_the_checker(n, seed, k, objective):
    scenario = generate(n, seed=seed)
    fixed = with_clusters(scenario, k)
    hopeless = precheck(fixed, k, deadline_of(fixed, objective))  # a reason why no plan exists, or None
    for method in HEURISTIC_METHODS:
        r = solve(scenario, method=method, objective=objective, clusters=k, params=SolveParams(seed=seed, time_limit_s=3))
        if hopeless is not None:
            assert r.plan is None and r.status == "infeasible" and hopeless in r.reason, method
            continue
        assert_sound(fixed, r, objective)
        assert sum(c.kind == "finetune" for c in r.plan.clusters) == k
        assert {c.start for c in r.plan.clusters if c.kind == "inference"} == {x.id for x in scenario.requesters}


@pytest.mark.parametrize("method", HEURISTIC_METHODS)
def test_seeded_runs_repeat(method):
    s = generate(40, seed=2)
    a, b = (solve(s, method=method, clusters=3, params=SolveParams(seed=7)) for _ in range(2))
    assert a.plan == b.plan and a.objective == b.objective
