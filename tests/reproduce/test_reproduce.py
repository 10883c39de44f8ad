"""The paper's experiments in their `--quick` configuration: every table, plot and comparison is written; same seed, same numbers."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import typer  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from gaisnet_opt.cli.reproduce import register  # noqa: E402
from gaisnet_opt.reproduce import EXPERIMENTS, reproduce  # noqa: E402

FIRST_END = ["first", "first sd", "end", "end sd"]
COLUMNS = {
    "fig6_pretraining": (["arm", "first", "first sd", "after 4", "end (4)", "end sd"], 2),
    "fig7_peft_vs_full": (["arm", "tunable parameters", *FIRST_END, "GFLOP per epoch", "s per epoch", "paper s per epoch"], 2),
    "table3_noniid": (["classes per source", "classes covered", *FIRST_END, "paper first", "paper end"], 5),
    "table4_clusters": (["clusters", "non-IID classes covered", "non-IID first", "non-IID end", "non-IID end sd",
                         "IID first", "IID end", "IID end sd", "EcoGen first", "EcoGen end"], 6),
    "table5_schedule": (["policy", "schedule", "total", "paper schedule", "paper total"], 4),
}
"""Quick runs: the CSV's columns and number of rows (fig6 runs 4× the quick scale's one round)."""


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("paper")
    for name in EXPERIMENTS:
        reproduce(name, out, quick=True)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_quick_run_writes_table_plot_and_comparison(quick_runs: Path, name: str):
    columns, n_rows = COLUMNS[name]
    rows = _rows(quick_runs / f"{name}.csv")
    assert list(rows[0]) == columns
    assert len(rows) == n_rows
    assert (quick_runs / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = (quick_runs / f"{name}.md").read_text()
    assert text.startswith(f"# {EXPERIMENTS[name].title}")
    assert "## Against the paper" in text
    assert "**Agrees**" in text or "**Disagrees**" in text


def test_same_seed_same_numbers(quick_runs: Path, tmp_path: Path):
    reproduce("table3_noniid", tmp_path, quick=True)
    assert (tmp_path / "table3_noniid.csv").read_text() == (quick_runs / "table3_noniid.csv").read_text()


def test_cli_runs_an_experiment_and_refuses_an_unknown_one(tmp_path: Path):
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    done = runner.invoke(app, ["table5_schedule", "--quick", "--out", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "table5_schedule.md").read_text().splitlines()[2] == "- command: `gaisnet-opt reproduce table5_schedule --quick`"
    refused = runner.invoke(app, ["fig99", "--out", str(tmp_path)])
    assert refused.exit_code == 2
    assert "fig99" in refused.output


def test_listing_the_experiments_imports_no_torch():
    code = ("import sys, gaisnet_opt.cli.reproduce; "
            "sys.exit(1 if any(m in sys.modules for m in ('torch', 'timm')) else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_full_fine_tuning_makes_the_whole_model_tunable(tmp_path: Path):
    from gaisnet_opt.validator import validate
    from gaisnet_opt.validator.model import build_for, digits_profile
    from tests.support.validator_worlds import digits_world, two_cluster_plan

    vpt, full = build_for(digits_profile(), None, 0), build_for(digits_profile(), None, 0, "full")
    assert not all(p.requires_grad for p in vpt.parameters())
    assert all(p.requires_grad for p in full.parameters())
    scenario, plan = digits_world(), two_cluster_plan()
    runs = {tune: validate(scenario, plan, rounds=1, out_dir=tmp_path / tune, tune=tune) for tune in ("prompts", "full")}
    assert runs["full"].config.tune == "full"
    assert runs["full"].rounds[1].train_loss != runs["prompts"].rounds[1].train_loss
