"""Forecast requests: sampling, the rolling-horizon policy, and comparisons over sampled sequences."""

from __future__ import annotations

import numpy as np
import pytest

from gaisnet_opt.params import SolveParams
from gaisnet_opt.schedule import Forecast, ScheduleInstance, compare_policies, paper_table5, solve_schedule
from gaisnet_opt.schedule.examples import PAPER_MLCP, PAPER_MSIP


def forecast_only(probabilities: list[dict[str, float]], per_round: int = 1) -> ScheduleInstance:
    """The paper's models with requests known only as a forecast."""
    return ScheduleInstance(
        name="forecast",
        models=paper_table5().models,
        forecast=Forecast(probabilities=tuple(probabilities), requests_per_round=per_round),
    )


LATER_C = [{"A": 0.8, "B": 0.1}] * 3 + [{"C": 0.9, "A": 0.1}] * 7


def test_sampling_is_seeded_and_bounded() -> None:
    inst = forecast_only(LATER_C, per_round=3)
    first = inst.sample_demand(5)
    assert np.array_equal(first, inst.sample_demand(5))
    assert not all(np.array_equal(first, inst.sample_demand(s)) for s in range(6, 12))
    assert first.shape == (10, 3) and (first.sum(axis=1) <= 3).all()


def test_certain_forecast_makes_rolling_the_optimum() -> None:
    certain = [{r.requests[0]: 1.0} for r in solve_schedule(paper_table5(), "msip").rounds]
    inst = forecast_only(certain)
    result = solve_schedule(inst, "rolling", params=SolveParams(seed=0))
    assert " ".join(result.labels) == PAPER_MLCP
    assert result.total == 650.0


def test_one_round_window_is_greedy() -> None:
    certain = [{r.requests[0]: 1.0} for r in solve_schedule(paper_table5(), "msip").rounds]
    result = solve_schedule(forecast_only(certain), "rolling", window=1)
    assert " ".join(result.labels) == PAPER_MSIP


def test_rolling_never_beats_hindsight_and_beats_greedy_on_average() -> None:
    inst = forecast_only(LATER_C)
    comparison = compare_policies(inst, ["mlcp", "msip", "rolling"], seed=0, runs=50)
    mean = {s.policy: s.mean for s in comparison.summaries}
    for i in range(10):
        demand = inst.sample_demand(i)
        assert solve_schedule(inst, "rolling", demand=demand).total <= solve_schedule(inst, "mlcp", demand=demand).total
    assert mean["msip"] < mean["rolling"] <= mean["mlcp"]


def test_forecast_comparison_summarizes_every_policy_but_the_milp() -> None:
    comparison = compare_policies(forecast_only(LATER_C), seed=2, runs=5)
    assert [r.policy for r in comparison.results] == ["mlcp", "mlcp-milp", "msip", "rs", "rolling"]
    assert [s.policy for s in comparison.summaries] == ["mlcp", "msip", "rs", "rolling"]
    assert all(s.runs == 5 and s.seeds == "2..6" for s in comparison.summaries)


def test_rolling_needs_a_forecast() -> None:
    with pytest.raises(ValueError, match="no forecast"):
        solve_schedule(paper_table5(), "rolling")
