"""`gaisnet-opt split`: tables for people, JSON for machines, exit 2 and nothing written on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gaisnet_opt.checker import check
from gaisnet_opt.cli import app
from gaisnet_opt.io import load, save
from gaisnet_opt.plan import Plan
from tests.support.worlds import tiny_scenario

runner = CliRunner()


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "scenario.json"
    save(tiny_scenario(), path)
    return path


@pytest.mark.parametrize("method", ["dp", "milp", "cpsat", "uniform", "proportional", "memory-fill", "balance-by-flops"])
def test_table_and_plan_file(scenario_file: Path, tmp_path: Path, method: str):
    out = tmp_path / "plan.json"
    res = runner.invoke(app, ["split", str(scenario_file), "--chain", "c0,c1,e0", "--method", method, "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert method in res.output and "latency (s)" in res.output and "embed" in res.output
    plan = load(Plan, out)
    assert check(tiny_scenario(), plan) == []


def test_json_is_the_solve_result(scenario_file: Path):
    res = runner.invoke(app, ["split", str(scenario_file), "--chain", "c1,c0", "--kind", "inference",
                              "--objective", "bottleneck", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["status"] == "optimal" and data["method"] == "dp"
    assert data["objective_spec"]["kind"] == "bottleneck"
    assert data["plan"]["clusters"][0]["kind"] == "inference"
    assert {"objective", "bound", "gap", "time_s", "params"} <= data.keys()


def test_scenario_from_stdin(scenario_file: Path):
    res = runner.invoke(app, ["split", "-", "--chain", "c0,e0", "--objective", "weighted", "--alpha", "1", "--beta", "0.1"],
                        input=scenario_file.read_text())
    assert res.exit_code == 0, res.output
    assert "weighted" in res.output


def test_deadline_option(scenario_file: Path):
    res = runner.invoke(app, ["split", str(scenario_file), "--chain", "c0,c1,e0", "--objective", "energy",
                              "--deadline", "1e-6"])
    assert res.exit_code == 1
    assert "the fastest split takes" in res.output and "deadline is 1e-06 s" in res.output


def test_infeasible_exits_1_with_reason(scenario_file: Path, tmp_path: Path):
    out = tmp_path / "plan.json"
    res = runner.invoke(app, ["split", str(scenario_file), "--chain", "c0,zz", "-o", str(out)])
    assert res.exit_code == 1
    assert "unknown node 'zz'" in res.output
    assert not out.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--chain", "c0,c1", "--method", "simplex"],
        ["--chain", "c0,c1", "--objective", "coverage"],
        ["--chain", "c0,c1", "--kind", "serve"],
        ["--chain", ","],
        ["--chain", "c0,c1", "--deadline", "0"],
    ],
)
def test_bad_arguments_exit_2_and_write_nothing(scenario_file: Path, tmp_path: Path, args: list[str]):
    out = tmp_path / "plan.json"
    res = runner.invoke(app, ["split", str(scenario_file), *args, "-o", str(out)])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert not out.exists()


def test_bad_scenario_exits_2(tmp_path: Path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"nodes": []}')
    out = tmp_path / "plan.json"
    res = runner.invoke(app, ["split", str(bad), "--chain", "c0", "-o", str(out)])
    assert res.exit_code == 2
    assert "nodes" in res.output
    assert not out.exists()
