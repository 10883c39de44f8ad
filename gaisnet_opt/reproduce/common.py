"""What the §V experiments share: the run scale, the digits world, one validator run, and the results file.

The paper fine-tunes ViT-B/16 on flowers (batch 10, learning rate 0.001,
"epochs"). Here an epoch is one HFSL round in which each data source's
cluster makes one pass over its local samples (`samples / batch` local
iterations), on scenarios from the generator with the tiny digits ViT's
profile, planned by the best-effort baseline, with clients' memory capped so
chains have several members (as in `benchmarks/validator_bench.py`).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gaisnet_opt.generator import generate
from gaisnet_opt.io import csv_text, write_text
from gaisnet_opt.plan import Plan
from gaisnet_opt.plotting.figure_io import save_figure
from gaisnet_opt.scenario import Scenario, Training
from gaisnet_opt.solvers.best_effort import solve_best_effort
from gaisnet_opt.validator import ValidationReport, validate
from gaisnet_opt.validator.model import Tune, digits_profile
from gaisnet_opt.validator.pretrain import pretrain

CLIENTS = 20
"""clients per generated scenario: 30 % of them (6) hold data, enough for Table IV's six clusters"""
CLIENT_MEMORY_BYTES = 2.5e6
"""memory for the model on every client: small enough that chains need several members"""
LR = 1e-3
"""the paper's learning rate"""
OPTIMIZER = "adam"
CLUSTERS = 3
"""fine-tuning clusters the best-effort plan aims for, where the experiment does not vary it"""


@dataclass(frozen=True)
class Scale:
    """How big the runs are: `FULL` reproduces, `QUICK` only exercises every step."""

    rounds: int
    seeds: tuple[int, ...]
    pretrain_epochs: int
    samples: int
    """local samples per data source"""
    batch: int

    @property
    def local_iters(self) -> int:
        """One pass over the local samples per round: a round is an epoch."""
        return max(1, self.samples // self.batch)


FULL = Scale(rounds=10, seeds=(0, 1, 2), pretrain_epochs=40, samples=100, batch=10)
QUICK = Scale(rounds=1, seeds=(0,), pretrain_epochs=1, samples=10, batch=10)


@dataclass
class Context:
    """An experiment's scale and scratch directory; the pre-trained backbone is made once, on first use."""

    scale: Scale
    work: Path
    _backbone: Path | None = None
    _runs: int = 0

    @classmethod
    @contextlib.contextmanager
    def temporary(cls, scale: Scale) -> Iterator[Context]:
        """A context whose scratch directory (backbone, validator outputs) is removed afterwards."""
        with tempfile.TemporaryDirectory(prefix="gaisnet-reproduce-") as work:
            yield cls(scale, Path(work))

    def backbone(self) -> Path:
        """The cloud's pre-trained backbone (`pretrain`, seed 0) on the digits source split."""
        if self._backbone is None:
            self._backbone = self.work / "backbone.safetensors"
            pretrain(self._backbone, epochs=self.scale.pretrain_epochs, seed=0)
        return self._backbone

    def world(self, seed: int, classes: tuple[int, int] = (10, 10)) -> Scenario:
        """A generated scenario: every data source holds `samples` samples of `classes` (a range) random classes."""
        s = self.scale
        training = Training(batch_size=s.batch, local_iters=s.local_iters, optimizer=OPTIMIZER)
        scenario = generate(CLIENTS, seed, profile=digits_profile(), samples=(s.samples, s.samples),
                            classes_per_source=classes, training=training)
        data = scenario.model_dump()
        for node in data["nodes"]:
            if node["kind"] == "client":
                node["memory_bytes"] = min(node["memory_bytes"], CLIENT_MEMORY_BYTES)
        return Scenario.model_validate(data)

    def train(self, scenario: Scenario, plan: Plan, seed: int, *, rounds: int | None = None,
              pretrained: bool = True, tune: Tune = "prompts") -> ValidationReport:
        """One validator run of `plan`: HFSL fine-tuning and SL inference, measured."""
        self._runs += 1
        return validate(scenario, plan, rounds=rounds or self.scale.rounds, checkpoint=self.backbone() if pretrained else None,
                        seed=seed, out_dir=self.work / f"run{self._runs}", lr=LR, tune=tune)


def baseline_plan(scenario: Scenario, clusters: int = CLUSTERS) -> Plan:
    """The best-effort baseline plan aiming at `clusters` fine-tuning clusters (a RuntimeError if it is not feasible)."""
    result = solve_best_effort(scenario, clusters=clusters)
    if result.plan is None or result.status != "feasible":
        raise RuntimeError(f"best-effort plan for {scenario.name} not feasible: {result.reason}")
    return result.plan


def finetune_classes(scenario: Scenario, plan: Plan) -> int:
    """Distinct classes in the data the plan's fine-tuning clusters train on."""
    sources = [scenario.node[cl.start].data for cl in plan.clusters if cl.kind == "finetune"]
    return len({c for d in sources if d is not None for c in d.classes})


def accuracy(report: ValidationReport) -> list[float]:
    """Held-out accuracy after each round, round 0 (before fine-tuning) first."""
    return [r.test_accuracy for r in report.rounds]


def mean_curve(reports: Sequence[ValidationReport]) -> list[float]:
    """Accuracy per round averaged over runs (seeds)."""
    return np.mean([accuracy(r) for r in reports], axis=0).tolist()


def first_end(reports: Sequence[ValidationReport]) -> tuple[float, float, float, float]:
    """Mean and standard deviation over runs of the accuracy after round 1 (first) and after the last round (end)."""
    first = [accuracy(r)[1] for r in reports]
    end = [accuracy(r)[-1] for r in reports]
    return float(np.mean(first)), float(np.std(first)), float(np.mean(end)), float(np.std(end))


def verdict(agrees: bool, what: str, because: str) -> str:
    """One line of the results file's comparison: agrees or not, what, and why."""
    return f"- **{'Agrees' if agrees else 'Disagrees'}**: {what}. {because}"


Cell = str | int | float | None


@dataclass
class Result:
    """What an experiment produced: setup notes, a table (also the CSV), the comparison lines and the figure."""

    setup: list[str]
    rows: list[dict[str, Cell]]
    comparison: list[str]
    figure: Figure
    notes: list[str] = field(default_factory=list)


def _cell(value: Cell) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def markdown_table(rows: Sequence[Mapping[str, Cell]]) -> list[str]:
    """The rows as a markdown table (columns: the first row's keys)."""
    columns = list(rows[0])
    return ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |",
            *("| " + " | ".join(_cell(r[c]) for c in columns) + " |" for r in rows)]


def write_result(result: Result, name: str, out_dir: Path, preamble: Sequence[str]) -> list[Path]:
    """`<name>.md` (preamble, setup, table, notes, comparison), `<name>.csv` (the table) and `<name>.png` (the figure)."""
    md, table, png = out_dir / f"{name}.md", out_dir / f"{name}.csv", out_dir / f"{name}.png"
    write_text(table, csv_text(result.rows))
    save_figure(result.figure, png)
    lines = [*preamble, "## Setup", "", *result.setup, "",
             f"## Results (also `{table.name}`, plot `{png.name}`)", "", *markdown_table(result.rows), "",
             *result.notes, *([""] if result.notes else []),
             "## Against the paper", "", *result.comparison, ""]
    write_text(md, "\n".join(lines))
    return [md, table, png]


def seeds_note(scale: Scale) -> str:
    """The setup line every experiment shares."""
    return (f"- {len(scale.seeds)} seed(s) {', '.join(map(str, scale.seeds))} (scenario and validator); per round, each of a "
            f"cluster's {scale.samples} local samples is seen once ({scale.local_iters} iterations of batch {scale.batch}), so a "
            f"round is an epoch; Adam, learning rate {LR} (the paper's); backbone pre-trained {scale.pretrain_epochs} epochs on "
            f"the digits source split; accuracy on the held-out digits test split; mean ± standard deviation over seeds")


def scenario_note(classes: str, clusters: str) -> str:
    """The setup line naming the generated scenarios and plans."""
    return (f"- scenarios: `generate({CLIENTS}, seed, profile=digits_profile(), samples=(n, n), classes_per_source={classes})` "
            f"(6 data sources), client memory capped at {CLIENT_MEMORY_BYTES / 1e6:g} MB; plans: "
            f"`solve_best_effort(scenario, clusters={clusters})`")


def figure(panels: int = 2) -> tuple[Figure, list[Axes]]:
    """A figure with `panels` side-by-side axes (ours left, the paper's right)."""
    fig = Figure(figsize=(5.0 * panels, 3.8))
    return fig, [fig.add_subplot(1, panels, i + 1) for i in range(panels)]


def first_end_bars(labels: Sequence[str], panels: Sequence[tuple[str, Sequence[float], Sequence[float]]], xlabel: str) -> Figure:
    """First- and end-accuracy bars per setting, one panel per (title, first, end): ours, then the paper's."""
    fig, axes = figure(len(panels))
    x = np.arange(len(labels))
    for ax, (title, first, end) in zip(axes, panels):
        ax.bar(x - 0.2, first, 0.4, label="first")
        ax.bar(x + 0.2, end, 0.4, label="end")
        ax.set(xticks=x, xticklabels=list(labels), xlabel=xlabel, ylabel="accuracy", ylim=(0, 1.15), title=title)
        ax.set_yticks(np.linspace(0, 1, 6))
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(loc="upper left", ncol=2)  # above the bars: accuracy tops out at 1
    fig.tight_layout()
    return fig
