"""The solver contract shared by every entry point: one vocabulary of errors and statuses, one result builder."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gaisnet_opt import SolveParams, compare, solve, solve_schedule, solve_split
from gaisnet_opt.result import Status
from gaisnet_opt.schedule.examples import paper_table5
from gaisnet_opt.solvers.split_heuristics import HEURISTICS as SPLIT_HEURISTICS
from tests.support.worlds import tiny_scenario


@pytest.mark.parametrize("call", [
    lambda: solve(tiny_scenario(), "simplex"),  # type: ignore[arg-type]
    lambda: solve_split(tiny_scenario(), ["c0", "c1"], "finetune", "simplex"),  # type: ignore[arg-type]
    lambda: solve_schedule(paper_table5(), "simplex"),  # type: ignore[arg-type]
])
def test_an_unknown_method_is_a_value_error_naming_the_field(call):
    with pytest.raises(ValueError, match=r"(method|policy): unknown 'simplex'"):
        call()


def test_compare_names_its_methods_field():
    with pytest.raises(ValueError, match=r"methods: unknown simplex"):
        compare(tiny_scenario(), methods=["simplex"])


def test_bad_params_name_the_field():
    with pytest.raises(ValidationError, match="time_limit_s"):
        SolveParams(time_limit_s=-1)
    with pytest.raises(ValidationError, match="threads"):
        SolveParams(threads=0)
    with pytest.raises(TypeError):
        solve(tiny_scenario(), "cpsat", time_limit_s=1)  # type: ignore[call-arg]  # options are keyword-only params


def test_results_carry_params_phases_and_one_status_vocabulary():
    statuses = set(Status.__args__)  # type: ignore[attr-defined]
    results = [solve(tiny_scenario(), m, params=SolveParams(time_limit_s=5)) for m in ("cpsat", "largest-first")]
    results += [solve_split(tiny_scenario(), ["c0", "c1", "e0"], "finetune", m) for m in ("dp", *SPLIT_HEURISTICS)]
    for r in results:
        assert r.status in statuses and r.phases and "finish" in r.phases
        assert r.time_s >= sum(r.phases.values()) - 1e-6
        assert r.params["time_limit_s"] in (5, 30.0) and "seed" in r.params
    sched = solve_schedule(paper_table5(), "mlcp-milp", params=SolveParams(time_limit_s=20))
    assert sched.status in statuses and "solver" in sched.phases
