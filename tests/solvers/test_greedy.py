"""The nearest-neighbour greedy baseline: its plans pass the checker and repeat."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaisnet_opt.checker import check
from gaisnet_opt.cost import objective_value, round_cost
from gaisnet_opt.generator import generate
from gaisnet_opt.result import Objective
from gaisnet_opt.solvers.greedy_chains import solve_greedy, uniform_counts


@settings(max_examples=25, deadline=None)
@given(n=st.integers(5, 60), seed=st.integers(0, 10_000), k=st.integers(1, 4))
def test_returned_plans_pass_the_checker(n, seed, k):
    s = generate(n, seed=seed)
    result = solve_greedy(s, clusters=k)
    if result.status == "feasible":
        assert result.plan is not None and check(s, result.plan) == []
        assert result.objective == pytest.approx(objective_value(round_cost(s, result.plan), Objective()))
    else:
        assert result.plan is None and result.reason and result.reason.startswith("greedy plan breaks: [")


def test_deterministic():
    s = generate(50, seed=5)
    assert solve_greedy(s, clusters=3).plan == solve_greedy(s, clusters=3).plan


def test_uniform_counts():
    assert uniform_counts(14, 3) == [5, 5, 4]
    assert uniform_counts(3, 3) == [1, 1, 1]
