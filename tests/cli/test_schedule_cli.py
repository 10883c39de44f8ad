"""`gaisnet-opt schedule`: exit codes, outputs, and no file written on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from gaisnet_opt.cli import app

runner = CliRunner()

INSTANCE = {
    "name": "two-models",
    "models": [
        {"name": "A", "cap": 2, "finetune_cost": 50, "profit": [50, 75, 100]},
        {"name": "B", "cap": 1, "finetune_cost": 10, "profit": {"base": 5, "gain_per_level": 20}},
    ],
    "requests": [["A"], ["B"], ["A", "B"], ["A"], ["A"]],
}


def write(tmp_path: Path, data: dict, name: str = "inst.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def test_paper_example_prints_table_v_and_writes_fig8(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["schedule", "--example", "paper-table5", "--seeds", "20"])
    assert result.exit_code == 0, result.output
    for text in ("650", "500", "-75", "A/50", "c/-50", "C/100", "rs-paper"):
        assert text in result.stdout
    assert (tmp_path / "paper-table5-fig8.png").stat().st_size > 0


def test_paper_example_as_json(tmp_path: Path) -> None:
    plot = tmp_path / "fig8.svg"
    result = runner.invoke(app, ["schedule", "--example", "paper-table5", "--seeds", "20", "--json", "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    totals = {r["policy"]: r["total"] for r in data["results"]}
    assert totals == {"mlcp": 650.0, "mlcp-milp": 650.0, "msip": 500.0, "rs": totals["rs"], "rs-paper": -75.0}
    assert data["results"][0]["optimal_schedules"]["count"] == 3
    assert data["summaries"][0]["runs"] == 20
    assert plot.read_text().lstrip().startswith("<?xml")


def test_instance_file_with_one_policy(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schedule", str(write(tmp_path, INSTANCE)), "--policy", "msip", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [r["policy"] for r in data["results"]] == ["msip"]
    assert data["summaries"] == []


def test_instance_from_stdin_is_deterministic() -> None:
    args = ["schedule", "-", "--policy", "rs", "--seed", "4", "--seeds", "30", "--json"]
    first = runner.invoke(app, args, input=json.dumps(INSTANCE))
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, args, input=json.dumps(INSTANCE))

    def untimed(stdout: str) -> dict:
        data = json.loads(stdout)
        for r in data["results"]:
            r.pop("time_s"), r.pop("phases")  # wall seconds differ between runs
        return data

    assert untimed(first.stdout) == untimed(again.stdout)
    assert json.loads(first.stdout)["results"][0]["params"] == {"seed": 4}


def test_bad_instance_exits_2_names_the_field_and_writes_nothing(tmp_path: Path) -> None:
    bad = dict(INSTANCE, models=[dict(INSTANCE["models"][0], cap=-1), INSTANCE["models"][1]])
    plot = tmp_path / "out.png"
    result = runner.invoke(app, ["schedule", str(write(tmp_path, bad)), "--plot", str(plot)])
    assert result.exit_code == 2
    assert "models[0].cap" in result.stderr
    assert "Traceback" not in result.output
    assert not plot.exists()


def test_unknown_model_in_requests_exits_2(tmp_path: Path) -> None:
    bad = dict(INSTANCE, requests=[["A"], ["Z"]])
    result = runner.invoke(app, ["schedule", str(write(tmp_path, bad))])
    assert result.exit_code == 2
    assert "requests[1][0]" in result.stderr and "unknown model 'Z'" in result.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    path = str(write(tmp_path, INSTANCE))
    cases = {
        "INSTANCE": ["schedule"],
        "--example": ["schedule", "--example", "nope"],
        "--policy": ["schedule", path, "--policy", "best"],
        "forecast": ["schedule", path, "--policy", "rolling"],
    }
    for field, args in cases.items():
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert field in result.stderr, (args, result.stderr)
    assert runner.invoke(app, ["schedule", str(tmp_path / "missing.yaml")]).exit_code == 2


def test_too_many_level_vectors_exits_2(tmp_path: Path) -> None:
    huge = dict(INSTANCE, models=[{"name": f"m{i}", "cap": 30, "finetune_cost": 1, "profit": {"base": 1, "gain_per_level": 1}} for i in range(6)],
                requests=[["m0"]])
    result = runner.invoke(app, ["schedule", str(write(tmp_path, huge)), "--policy", "mlcp"])
    assert result.exit_code == 2
    assert "level vectors" in result.stderr


def test_forecast_instance_runs_rolling_over_sampled_sequences(tmp_path: Path) -> None:
    forecast = {k: v for k, v in INSTANCE.items() if k != "requests"}
    forecast["forecast"] = {"probabilities": [{"A": 0.6, "B": 0.3}] * 6, "requests_per_round": 2}
    result = runner.invoke(app, ["schedule", str(write(tmp_path, forecast)), "--seeds", "5", "--seed", "9", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [r["policy"] for r in data["results"]] == ["mlcp", "mlcp-milp", "msip", "rs", "rolling"]
    summaries = {s["policy"]: s for s in data["summaries"]}
    assert set(summaries) == {"mlcp", "msip", "rs", "rolling"}
    assert summaries["rolling"]["seeds"] == "9..13"
    assert summaries["rolling"]["mean"] <= summaries["mlcp"]["mean"]
