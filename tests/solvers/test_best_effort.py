"""The best-effort plan (largest-first, requests optional): its plans pass the checker and repeat."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaisnet_opt.checker import check
from gaisnet_opt.cost import objective_value, round_cost
from gaisnet_opt.generator import generate
from gaisnet_opt.result import Objective
from gaisnet_opt.solvers.best_effort import solve_best_effort


@settings(max_examples=25, deadline=None)
@given(n=st.integers(5, 60), seed=st.integers(0, 10_000), k=st.integers(1, 4))
def test_returned_plans_pass_the_checker(n, seed, k):
    s = generate(n, seed=seed)
    result = solve_best_effort(s, clusters=k)
    if result.status == "feasible":
        assert result.plan is not None and check(s, result.plan) == []
        assert result.objective == pytest.approx(objective_value(round_cost(s, result.plan), Objective()))
    else:
        assert result.plan is None and result.reason and result.reason.startswith("the best-effort plan breaks a rule: [")


def test_deterministic():
    s = generate(50, seed=5)
    assert solve_best_effort(s, clusters=3).plan == solve_best_effort(s, clusters=3).plan
