"""MLCP by the DP: the brute force's optimum and count of optimal schedules; edge cases of the rules."""

from __future__ import annotations

import numpy as np
from hypothesis import given

from gaisnet_opt.schedule import EdgeModel, ScheduleInstance, solve_schedule
from tests.support.schedule_cases import EXAMPLES, brute_force, instances


@EXAMPLES
@given(instances())
def test_dp_equals_brute_force(inst: ScheduleInstance) -> None:
    best, count = brute_force(inst)
    dp = solve_schedule(inst, "mlcp")
    assert dp.total == best and dp.status == "optimal"
    assert dp.optimal_schedules is not None and dp.optimal_schedules.count == count
    assert dp.optimal_schedules.exact


def test_goal_size_solves_exactly() -> None:  # its time is benchmarks/schedule_bench.py's to measure
    rng = np.random.default_rng(7)
    models = tuple(
        EdgeModel(name=f"m{i}", cap=5, finetune_cost=float(rng.integers(10, 60)), profit=tuple(map(float, np.sort(rng.integers(0, 100, 6)))))
        for i in range(5)
    )
    requests = tuple((f"m{int(rng.integers(5))}",) for _ in range(200))
    result = solve_schedule(ScheduleInstance(models=models, requests=requests), "mlcp")
    assert result.status == "optimal"
    assert result.total >= solve_schedule(ScheduleInstance(models=models, requests=requests), "msip").total


def test_dp_handles_rounds_without_requests_and_full_caps() -> None:
    model = EdgeModel(name="A", cap=1, finetune_cost=10.0, profit=(5.0, 30.0))
    inst = ScheduleInstance(models=(model,), requests=((), ("A",), (), ("A",)))
    result = solve_schedule(inst, "mlcp")
    # round 1 must fine-tune (no request, a slot to fill); round 3 has nothing to do
    assert result.labels == ["a", "A", "-", "A"]
    assert result.total == -10.0 + 30.0 + 30.0
