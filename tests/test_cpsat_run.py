"""CP-SAT 9.15's presolve, kept honest: cases where it went wrong, and its infeasibility re-checked (or-tools#5274)."""

from __future__ import annotations

from pathlib import Path

import ortools
import pytest
from ortools.sat.python import cp_model

from gaisnet_opt.formulations.cpsat_run import PRESOLVE_RECHECK, solve_rechecked
from gaisnet_opt.io import load
from gaisnet_opt.result import Objective
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.solvers.solve import solve
from gaisnet_opt.solvers.split import solve_split
from tests.worlds import tiny_scenario

CASES = sorted((Path(__file__).parent / "data").glob("cpsat_presolve_*.json"))
"""Small joint cases (found by hypothesis) on which CP-SAT 9.15.6755 with probing level 0 returned a false
INFEASIBLE (or-tools#5274) or a wrong optimum."""


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_cpsat_agrees_with_the_milp_where_its_presolve_once_failed(case):
    scenario = load(Scenario, case)
    energy = Objective(kind="energy")
    cpsat = solve(scenario, method="cpsat", objective=energy, time_limit=60, stop_at_floor=False)
    milp = solve(scenario, method="milp", objective=energy, time_limit=60, stop_at_floor=False)
    assert milp.status == "optimal"
    assert cpsat.status == "optimal", cpsat.params["solver_status"]
    assert cpsat.objective == pytest.approx(milp.objective, rel=1e-9)


def test_the_recheck_overrules_a_false_infeasible(monkeypatch):
    """At probing level 0, 9.15.6755's presolve calls this feasible model infeasible; the re-check finds the optimum."""

    class ProbingOff(cp_model.CpSolver):
        def __init__(self) -> None:
            super().__init__()
            self.parameters.cp_model_probing_level = 0

    monkeypatch.setattr(cp_model, "CpSolver", ProbingOff)
    scenario = load(Scenario, Path(__file__).parent / "data" / "cpsat_presolve_false_infeasible.json")
    r = solve(scenario, method="cpsat", objective=Objective(kind="energy"), time_limit=60, stop_at_floor=False)
    assert r.status == "optimal"
    assert r.objective == pytest.approx(0.646, rel=1e-9)  # the MILP's and the brute force's optimum
    if ortools.__version__ == "9.15.6755":  # the version the bug was found in; a fixed one needs no re-check
        assert PRESOLVE_RECHECK in r.params["solver_status"]


def test_a_true_infeasible_stays_infeasible_after_the_recheck():
    model = cp_model.CpModel()
    x = model.new_bool_var("x")
    y = model.new_bool_var("y")
    model.add(x + y >= 2)
    model.add(x + y <= 1)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 5.0
    code, note = solve_rechecked(solver, model)
    assert code == cp_model.INFEASIBLE
    assert note == PRESOLVE_RECHECK
    assert not solver.parameters.cp_model_presolve


def test_a_split_result_says_when_its_infeasibility_was_rechecked():
    scenario = tiny_scenario()
    r = solve_split(scenario, ["c0", "c1"], method="cpsat", objective=Objective(deadline_s=1.0))  # 151.2 s at best
    assert r.status == "infeasible" and r.reason
    assert r.params["solver_note"] == PRESOLVE_RECHECK
