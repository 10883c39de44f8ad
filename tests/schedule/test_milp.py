"""MLCP by the MILP (HiGHS): the brute force's optimum, and MSIP's schedule when time runs out first."""

from __future__ import annotations

from hypothesis import given

from gaisnet_opt.schedule import ScheduleInstance, solve_schedule
from gaisnet_opt.schedule.examples import paper_table5
from gaisnet_opt.schedule.milp import solve_milp
from tests.support.schedule_cases import EXAMPLES, brute_force, instances


@EXAMPLES
@given(instances())
def test_milp_equals_brute_force(inst: ScheduleInstance) -> None:
    best, _ = brute_force(inst)
    milp = solve_schedule(inst, "mlcp-milp")
    assert milp.total == best
    assert milp.status == "optimal"


def test_milp_out_of_time_returns_a_feasible_schedule() -> None:
    inst = paper_table5()
    r = solve_milp(inst, time_limit_s=0.0)  # HiGHS stops before any incumbent
    assert r.status == "feasible" and r.policy == "mlcp-milp"
    assert "incumbent" in r.params
    assert r.total == solve_schedule(inst, "msip").total <= solve_schedule(inst, "mlcp").total
    assert r.bound is None or r.bound >= solve_schedule(inst, "mlcp").total - 1e-9
