"""`gaisnet-opt solve` on files and on stdin/stdout, with the exit statuses schedulers rely on."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from gaisnet_opt.checker import check
from gaisnet_opt.cli.solve import register
from gaisnet_opt.generator import generate
from gaisnet_opt.io import dumps, load
from gaisnet_opt.plan import Plan
from gaisnet_opt.result import SolveResult
from tests.support.worlds import tiny_scenario

app = typer.Typer()
register(app)
app.command("noop")(lambda: None)
runner = CliRunner()


@pytest.fixture
def scenario_file(tmp_path):
    path = tmp_path / "scenario.json"
    path.write_text(dumps(generate(8, seed=1)))
    return path


@pytest.mark.parametrize("method", ["largest-first", "cpsat", "milp"])
def test_writes_a_checked_plan(tmp_path, scenario_file, method):
    out, log = tmp_path / "plan.json", tmp_path / "solver.log"
    r = runner.invoke(app, ["solve", str(scenario_file), "--method", method, "--time-limit", "30", "-o", str(out),
                            "--log", str(log)])
    assert r.exit_code == 0, r.output
    assert not check(generate(8, seed=1), load(Plan, out))
    assert "round latency (s)" in r.output
    if method != "largest-first":
        assert log.stat().st_size > 0


def test_stdin_to_stdout_json(scenario_file):
    r = runner.invoke(app, ["solve", "-", "--method", "cpsat", "--objective", "energy"], input=scenario_file.read_text())
    assert r.exit_code == 0, r.output
    result = SolveResult.model_validate(json.loads(r.output))
    assert result.status == "optimal" and result.objective_spec.kind == "energy" and result.plan is not None


def test_infeasible_exits_1_with_the_reason(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(dumps(tiny_scenario()))
    r = runner.invoke(app, ["solve", str(path), "--clusters", "3", "--method", "milp", "--json"])
    assert r.exit_code == 1
    assert "K=3 clusters need 3 data sources, 1 exist" in json.loads(r.output)["reason"]


def test_bad_input_exits_2_without_traceback(tmp_path, scenario_file):
    path = tmp_path / "s.json"
    path.write_text('{"nodes": []}')
    r = runner.invoke(app, ["solve", str(path)])
    assert r.exit_code == 2 and "Traceback" not in r.output and "nodes" in r.output
    r = runner.invoke(app, ["solve", str(scenario_file), "--objective", "weighted", "--alpha", "-1"])
    assert r.exit_code == 2 and "alpha" in r.output


def test_warm_start_from_a_plan_file_and_a_memory_cap(tmp_path, scenario_file):
    first = tmp_path / "first.json"
    assert runner.invoke(app, ["solve", str(scenario_file), "--method", "largest-first", "-o", str(first)]).exit_code == 0
    r = runner.invoke(app, ["solve", str(scenario_file), "--method", "cpsat", "--time-limit", "5", "--initial-plan",
                            str(first), "--max-arcs", "500", "--json"])
    assert r.exit_code == 0, r.output
    result = SolveResult.model_validate_json(r.stdout)
    assert result.params["initial_plan"] == "used as it is" and result.params["max_arcs"] == 500
    assert result.phases and (result.restricted or result.params.get("proved_by") == "floor")


def test_a_broken_initial_plan_file_exits_2(tmp_path, scenario_file):
    bad = tmp_path / "bad.json"
    bad.write_text("{\"clusters\": 3}")
    r = runner.invoke(app, ["solve", str(scenario_file), "--initial-plan", str(bad)])
    assert r.exit_code == 2 and "clusters" in r.output
