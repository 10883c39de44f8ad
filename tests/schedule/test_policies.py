"""MSIP and RS never beat MLCP's optimum."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gaisnet_opt.params import SolveParams
from gaisnet_opt.schedule import ScheduleInstance, solve_schedule
from tests.support.schedule_cases import EXAMPLES, instances


@EXAMPLES
@given(instances(max_rounds=6), st.integers(0, 2**32 - 1))
def test_heuristics_never_beat_mlcp(inst: ScheduleInstance, seed: int) -> None:
    best = solve_schedule(inst, "mlcp").total
    assert solve_schedule(inst, "msip").total <= best
    assert solve_schedule(inst, "rs", params=SolveParams(seed=seed)).total <= best
