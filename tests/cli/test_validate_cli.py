"""`pretrain` and `validate` from the command line: exit 2 on bad input, nothing written."""

from __future__ import annotations

import json
import math

import pytest

torch = pytest.importorskip("torch")

import typer  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from gaisnet_opt.cli.validate import register  # noqa: E402
from gaisnet_opt.io import save  # noqa: E402
from gaisnet_opt.plan import Plan, cluster_from_counts  # noqa: E402
from tests.support.validator_runs import wall_clock_guard  # noqa: E402
from tests.support.validator_worlds import digits_world  # noqa: E402

torch.set_num_threads(1)

B = cluster_from_counts("finetune", ["c1", "c3"], [1, 5])
TIMEOUT_S = 15.0


@pytest.fixture
def guard():
    with wall_clock_guard(80):
        yield


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:
        """A second command, so typer keeps sub-command names."""

    return app


def test_cli_pretrain_then_validate(tmp_path):
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:
        """A second command, so typer keeps sub-command names."""

    runner = CliRunner()
    ckpt = tmp_path / "backbone.safetensors"
    r = runner.invoke(app, ["pretrain", "--epochs", "1", "-o", str(ckpt)])
    assert r.exit_code == 0, r.output
    scenario, plan = tmp_path / "s.json", tmp_path / "p.json"
    save(digits_world(), scenario)
    save(Plan(clusters=(B,)), plan)
    out = tmp_path / "run"
    r = runner.invoke(app, ["validate", str(scenario), str(plan), "--rounds", "1", "--checkpoint", str(ckpt), "--out", str(out)])
    assert r.exit_code == 0, r.output
    body = json.loads((out / "report.json").read_text())
    assert body["config"]["checkpoint"] == str(ckpt)
    assert body["rounds"][0]["test_loss"] == pytest.approx(math.log(10))  # the new task's head starts at zero
    save(Plan(clusters=(cluster_from_counts("finetune", ["c2"], [6]),)), plan)
    r = runner.invoke(app, ["validate", str(scenario), str(plan), "--out", str(tmp_path / "bad")])
    assert r.exit_code == 2 and "start-point" in r.output and not (tmp_path / "bad").exists()


@pytest.mark.usefixtures("guard")
def test_cli_distributed_engine(tmp_path):
    scenario, plan = tmp_path / "s.json", tmp_path / "p.json"
    save(digits_world(), scenario)
    save(Plan(clusters=(B,)), plan)  # 3 processes: e0 aggregates, c1 and c3 train
    runner = CliRunner()
    r = runner.invoke(_app(), ["validate", str(scenario), str(plan), "--engine", "distributed", "--nprocs", "4",
                               "--out", str(tmp_path / "never")])
    assert r.exit_code == 2 and "the plan needs 3 processes (e0, c1, c3)" in r.output and not (tmp_path / "never").exists()
    out = tmp_path / "run"
    r = runner.invoke(_app(), ["validate", str(scenario), str(plan), "--rounds", "1", "--engine", "distributed",
                               "--nprocs", "3", "--timeout", str(TIMEOUT_S), "--out", str(out)])
    assert r.exit_code == 0, r.output
    body = json.loads((out / "report.json").read_text())
    assert [h["fwd_bytes"] == h["fwd_bytes_pred"] > 0 for h in body["hops"]] == [True]
    assert body["rounds"][1]["train_loss"] is not None and body["rounds"][1]["failures"] == []


def test_cli_refuses_an_emulated_network_it_cannot_build(tmp_path, monkeypatch):
    """Without root or iproute2 (here: as if), `--network emulate` exits 2 with the reason and writes nothing."""
    import gaisnet_opt.validator.distributed.launch as launch

    monkeypatch.setattr(launch, "available", lambda: "not root (network namespaces and tc need CAP_NET_ADMIN)")
    scenario, plan = tmp_path / "s.json", tmp_path / "p.json"
    save(digits_world(), scenario)
    save(Plan(clusters=(B,)), plan)
    runner = CliRunner()
    for extra, reason in ((["--engine", "distributed"], "--network: emulate: not root"),
                          ([], "--network: emulate needs engine 'distributed'")):
        r = runner.invoke(_app(), ["validate", str(scenario), str(plan), "--network", "emulate", *extra,
                                   "--out", str(tmp_path / "never")])
        assert r.exit_code == 2 and reason in " ".join(r.output.split()), r.output
    for bad, reason in ((["--fault", "one:c3"], "--fault: 'one:c3'"), (["--time-scale", "0"], "--time-scale: 0.0: must be positive"),
                        (["--network", "wifi"], "--network: 'wifi' is not one of loopback, emulate")):
        r = runner.invoke(_app(), ["validate", str(scenario), str(plan), *bad, "--out", str(tmp_path / "never")])
        assert r.exit_code == 2 and reason in " ".join(r.output.split()), r.output
    assert not (tmp_path / "never").exists()


def test_cli_calibrate_writes_the_calibration_validate_reads(tmp_path, monkeypatch):
    from gaisnet_opt.io import load
    from gaisnet_opt.validator import calibration

    measured = []

    def fake(profile, **options):  # the measurement itself is `test_calibration`'s; here: what the CLI does with it
        measured.append(options)
        fit = calibration.SpeedFit(flops_per_s=3e10, pass_overhead_s=2e-4, rms_s=1e-4, rms_relative_error=0.05)
        return calibration.HostCalibration(host="h", versions={}, measured_at="now", profile=profile.name, batch=8,
                                           threads=1, steps=4, repeats=1, load_average=0.5, points=[], single=fit,
                                           fit=fit)

    monkeypatch.setattr(calibration, "calibrate_host", fake)
    r = CliRunner().invoke(_app(), ["calibrate", "-o", str(tmp_path / "host.json"), "--batch", "8", "--steps", "4"])
    assert r.exit_code == 0, r.output
    assert measured == [{"batch": 8, "threads": 1, "steps": 4}]
    assert load(calibration.HostCalibration, tmp_path / "host.json").fit.flops_per_s == 3e10
    r = CliRunner().invoke(_app(), ["calibrate", "-o", str(tmp_path / "never.json"), "--steps", "1"])
    assert r.exit_code == 2 and "--steps: 1: at least 2" in r.output and not (tmp_path / "never.json").exists()
