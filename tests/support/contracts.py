"""What every method's result must satisfy, shared by the solver tests (one place, not test modules importing each other)."""

from __future__ import annotations

from gaisnet_opt.checker import check
from gaisnet_opt.cost import objective_value, round_cost
from gaisnet_opt.result import Objective, SolveResult
from gaisnet_opt.scenario import Scenario

HEURISTIC_METHODS = ("largest-first", "roomiest-first", "fastest-first", "random", "local")
"""The joint heuristics (`local` improves the best constructive plan)."""

REL = 1e-9


def assert_sound(scenario: Scenario, result: SolveResult, objective: Objective) -> None:
    """A plan came back, it passes the checker, and its objective is the cost model's value of it."""
    assert result.plan is not None, (result.method, result.status, result.reason)
    assert not check(scenario, result.plan, objective.deadline_s)
    assert result.objective == objective_value(round_cost(scenario, result.plan), objective)


def assert_sound_or_explained(scenario: Scenario, result: SolveResult, objective: Objective) -> None:
    """As `assert_sound`, except that no plan is allowed with a status that says so and a reason."""
    if result.plan is None:
        assert result.status in ("infeasible", "timeout", "error") and result.reason
        return
    assert_sound(scenario, result, objective)


def assert_split_sound(scenario: Scenario, result: SolveResult) -> None:
    """A split plan came back, it passes the checker, its objective is the cost model's, and its server is the one named."""
    assert result.plan is not None and result.objective is not None
    assert check(scenario, result.plan, result.objective_spec.deadline_s) == []
    assert result.objective == objective_value(round_cost(scenario, result.plan), result.objective_spec)
    assert result.plan.clusters[0].server == result.params["server"]


def bound_holds(value: float, bound: float | None, objective: Objective, rel: float = 1e-7) -> bool:
    """The proven bound is on the right side of the plan's value (below it when minimizing)."""
    slack = rel * max(1.0, abs(value))
    return bound is not None and (bound >= value - slack if objective.maximize else bound <= value + slack)


def not_better(value: float, optimum: float, objective: Objective, rel: float = 1e-7) -> bool:
    """`value` does not beat `optimum` (beyond rounding)."""
    slack = rel * max(1.0, abs(optimum))
    return value <= optimum + slack if objective.maximize else value >= optimum - slack


def close(a: float, b: float, rel: float = REL) -> bool:
    """Equal to a relative `rel`."""
    return abs(a - b) <= rel * max(abs(a), abs(b)) + 1e-12
