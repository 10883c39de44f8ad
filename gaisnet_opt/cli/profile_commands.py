"""`gaisnet-opt profile`: measure a prompted ViT's per-unit profile (needs the torch extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gaisnet_opt.cli.common import console, err_console, reports_bad_input
from gaisnet_opt.io import STDIO, save
from gaisnet_opt.profile import ModelProfile

GIGA = 1e9
MEGA = 1e6
MILLI = 1e-3


def profile_table(profile: ModelProfile) -> Table:
    """Per-unit figures (per sample) with their units, and the model's total."""
    columns = (
        ("fwd GFLOP", "fwd_flops", GIGA), ("bwd GFLOP", "bwd_flops", GIGA),
        ("out MB", "out_bytes", MEGA), ("grad MB", "grad_bytes", MEGA),
        ("frozen MB", "frozen_param_bytes", MEGA), ("tunable MB", "tunable_param_bytes", MEGA),
        ("train act MB", "train_mem_bytes", MEGA), ("infer act MB", "infer_mem_bytes", MEGA),
        ("fwd ms", "fwd_time_s", MILLI), ("bwd ms", "bwd_time_s", MILLI),
    )
    table = Table(title=f"{profile.name} ({profile.provenance.method}, per sample)")
    table.add_column("unit")
    for header, _, _ in columns:
        table.add_column(header, justify="right")

    def cells(values: list[float | None]) -> list[str]:
        return ["-" if v is None else f"{v / scale:.4g}" for v, (_, _, scale) in zip(values, columns)]

    for unit in profile.units:
        table.add_row(unit.name, *cells([getattr(unit, attr) for _, attr, _ in columns]))
    additive = {"fwd_flops", "bwd_flops", "frozen_param_bytes", "tunable_param_bytes", "train_mem_bytes", "fwd_time_s", "bwd_time_s"}
    totals = [
        sum(getattr(u, attr) or 0.0 for u in profile.units) if attr in additive else None for _, attr, _ in columns
    ]
    table.add_row("total", *cells(totals), style="bold")
    return table


def register(app: typer.Typer) -> None:
    """Add the profile command to `app`."""

    @app.command("profile")
    @reports_bad_input
    def profile(
        model: Annotated[str, typer.Option(help="timm ViT/DeiT name (e.g. vit_base_patch16_224) or vit_digits_patch2_8")] = "vit_base_patch16_224",
        prompts: Annotated[int | None, typer.Option(help="prompt tokens per prompt module (default: the model's own; timm names: 0)")] = None,
        deep: Annotated[bool | None, typer.Option("--deep/--shallow", help="VPT-deep or VPT-shallow (default: the model's own; timm names: deep)")] = None,
        classes: Annotated[int | None, typer.Option(help="classifier outputs (default: the model's own; timm names: 1000)")] = None,
        checkpoint: Annotated[Path | None, typer.Option(help="local weights (.safetensors, or torch.save'd state dict)")] = None,
        repeats: Annotated[int, typer.Option(help="timed steps; the median is kept")] = 5,
        batch: Annotated[int, typer.Option(help="images per measured step; figures are per sample")] = 2,
        output: Annotated[str | None, typer.Option("--output", "-o", help="write the profile JSON/YAML here ('-': stdout)")] = None,
    ) -> None:
        """Measure per-unit FLOPs, smashed-data and parameter bytes, activation memory and times of a prompted ViT."""
        from gaisnet_opt.profilers.measured import profile_model

        result = profile_model(
            model, prompts=prompts, deep=deep, num_classes=classes, checkpoint=checkpoint, batch=batch, repeats=repeats,
        )
        (err_console if output == STDIO else console).print(profile_table(result))
        if output is not None:
            save(result, output)
