"""The paper's §V experiments (arXiv:2401.02668, Figs. 6-8, Tables III-V) run for real with the validator, at digits scale.

    from gaisnet_opt.reproduce import reproduce
    reproduce("table3_noniid", "benchmarks/results/paper")   # writes .md, .csv, .png

Each experiment trains the tiny digits ViT with `gaisnet_opt.validator.validate`
on generated scenarios planned by the best-effort baseline, seeded, and writes a
table and a plot with the paper's numbers beside ours and a plain statement of
where the shape agrees and where it does not. This module imports no torch; an
experiment's module is imported only when it runs.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from gaisnet_opt.errors import InputError
from gaisnet_opt.host import host_description, package_versions

PACKAGES = ("torch", "timm", "numpy", "scikit-learn", "matplotlib", "gaisnet-opt")
"""Versions every results file records."""


class Experiment(NamedTuple):
    """Where an experiment's `run(ctx)` lives, and its results file's title."""

    module: str
    title: str


EXPERIMENTS: dict[str, Experiment] = {
    "fig6_pretraining": Experiment("gaisnet_opt.reproduce.fig6", "Fig. 6: pre-trained against scratch"),
    "fig7_peft_vs_full": Experiment("gaisnet_opt.reproduce.fig7", "Fig. 7: VPT against full fine-tuning"),
    "table3_noniid": Experiment("gaisnet_opt.reproduce.table3", "Table III: non-IID classes per client"),
    "table4_clusters": Experiment("gaisnet_opt.reproduce.table4", "Table IV: number of fine-tuning clusters"),
    "table5_schedule": Experiment("gaisnet_opt.reproduce.table5", "Table V / Fig. 8: service priority with measured gains"),
}
"""Experiment name (the results files' stem) -> its module and title."""


def default_preamble(name: str, quick: bool) -> list[str]:
    """The results file's opening when the caller gives none: title, command, date, host, versions."""
    return [f"# {EXPERIMENTS[name].title}", "",
            f"- command: `gaisnet-opt reproduce {name}{' --quick' if quick else ''}`",
            f"- date (UTC): {datetime.now(UTC):%Y-%m-%d %H:%M}",
            f"- host: {host_description()}",
            f"- versions: {', '.join(f'{k} {v}' for k, v in package_versions(PACKAGES).items())}", ""]


def reproduce(
    name: str, out_dir: str | Path, *, quick: bool = False, preamble: Sequence[str] | None = None, threads: int = 1,
) -> list[Path]:
    """Run experiment `name` and write `<name>.md`, `.csv` and `.png` into `out_dir`; returns the files written.

    `quick` runs a smoke-sized configuration (one round, one seed, a few
    samples) whose numbers mean nothing but exercise every step. `preamble`
    (markdown lines: title, command, host, versions) opens the results file.
    torch runs on `threads` threads during the experiment (1: the numbers do
    not depend on the host's core count).
    """
    if name not in EXPERIMENTS:
        raise InputError("reproduce", [("NAME", f"'{name}' is not one of {', '.join(EXPERIMENTS)}")])
    import torch

    from gaisnet_opt.reproduce.common import FULL, QUICK, Context, write_result

    module = importlib.import_module(EXPERIMENTS[name].module)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    start = time.perf_counter()
    try:
        with Context.temporary(QUICK if quick else FULL) as ctx:
            result = module.run(ctx)
    finally:
        torch.set_num_threads(before)
    opening = default_preamble(name, quick) if preamble is None else list(preamble)
    opening[-1:-1] = [f"- run time: {time.perf_counter() - start:.0f} s with {threads} torch thread(s)"]
    return write_result(result, name, Path(out_dir), opening)


__all__ = ["EXPERIMENTS", "PACKAGES", "Experiment", "default_preamble", "reproduce"]
