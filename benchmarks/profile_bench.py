"""Profiler benchmark: time to profile the shipped configurations, and our counts beside the raw counters'.

Writes benchmarks/results/profile.md. Run from the repository root:

    /work/venv/bin/python benchmarks/profile_bench.py

Raw counters are used as shipped: fvcore's FlopCountAnalysis (counts norms,
misses fused attention) and torch's FlopCounterMode (knows the CUDA attention
kernels, not the CPU one). Counts are MACs per sample; the timm model cards
quote GMACs of the plain models at 224 px, 1000 classes.
"""

from __future__ import annotations

import os
import platform
import shlex
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from gaisnet_opt.host import host_description, package_versions
from gaisnet_opt.io import write_text
from gaisnet_opt.profile import ModelProfile, Unit
from gaisnet_opt.profile_catalog import load_profile
from gaisnet_opt.profilers.closed_form import closed_form_profile
from gaisnet_opt.profilers.config import DIGITS_VIT, VitConfig, config_for
from gaisnet_opt.profilers.flops import fvcore_analysis
from gaisnet_opt.profilers.measured import profile_model
from gaisnet_opt.profilers.prompted_vit import build_model

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    import timm

RESULTS = Path(__file__).parent / "results" / "profile.md"
SHIPPED = [config_for(f"vit_{s}_patch16_224", prompts=50, deep=True, num_classes=102) for s in ("tiny", "small", "base", "large")]
SHIPPED.append(DIGITS_VIT)
MODEL_CARDS_GMACS = {"vit_tiny_patch16_224": 1.3, "vit_small_patch16_224": 4.6, "vit_base_patch16_224": 17.6}
G = 1e9


def raw_fvcore_macs(model: torch.nn.Module, images: torch.Tensor) -> float:
    """fvcore as shipped, whole model, per sample."""
    analysis = fvcore_analysis(model, (images,), complete=False)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        return analysis.total() / len(images)


def raw_torch_macs(model: torch.nn.Module, images: torch.Tensor) -> tuple[float, float]:
    """torch's FlopCounterMode as shipped: forward, then the frozen-backbone backward, per sample."""
    with FlopCounterMode(display=False) as fwd:
        logits = model(images)
    with FlopCounterMode(display=False) as bwd:
        logits.sum().backward()
    return fwd.get_total_flops() / 2 / len(images), bwd.get_total_flops() / 2 / len(images)


def totals(profile: ModelProfile) -> tuple[float, float]:
    return sum(u.fwd_macs for u in profile.units), sum(u.bwd_macs for u in profile.units)


def max_deviation(profile: ModelProfile, reference: ModelProfile, figure: str) -> float:
    devs = [abs(getattr(a, figure) / getattr(b, figure) - 1) for a, b in zip(profile.units, reference.units) if getattr(b, figure)]
    return max(devs, default=0.0)


def images_for(cfg: VitConfig, batch: int = 1) -> torch.Tensor:
    return torch.randn(batch, cfg.in_chans, cfg.img_size, cfg.img_size, generator=torch.Generator().manual_seed(0))


def shipped_section(lines: list[str]) -> ModelProfile:
    lines += [
        "## Shipped configurations (GMACs per sample)", "",
        "Ours = `profile_model` (fvcore forward + torch backward, attention handled). Raw counters on the same"
        " prompted model; backward = frozen backbone, prompts and head tunable.", "",
        "| profile | time to profile (s) | fwd ours | fwd closed form | fwd raw fvcore | fwd raw torch"
        " | bwd ours | bwd closed form | bwd raw torch | max unit dev fwd | max unit dev bwd | = shipped JSON |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    base = None
    for cfg in SHIPPED:
        start = time.perf_counter()
        ours = profile_model(cfg)
        seconds = time.perf_counter() - start
        closed = closed_form_profile(cfg)
        model = build_model(cfg)
        fvc = raw_fvcore_macs(model, images_for(cfg))
        tf, tb = raw_torch_macs(model, images_for(cfg))
        of, ob = totals(ours)
        cf, cb = totals(closed)
        shipped = load_profile(cfg.profile_name)
        same = all(a.fwd_flops == b.fwd_flops and a.bwd_flops == b.bwd_flops for a, b in zip(ours.units, shipped.units))
        lines.append(
            f"| {cfg.profile_name} | {seconds:.1f} | {of / G:.4f} | {cf / G:.4f} | {fvc / G:.4f} | {tf / G:.4f}"
            f" | {ob / G:.4f} | {cb / G:.4f} | {tb / G:.4f} | {max_deviation(ours, closed, 'fwd_macs'):.2e}"
            f" | {max_deviation(ours, closed, 'bwd_macs'):.2e} | {'yes' if same else 'NO'} |"
        )
        if cfg.name == "vit_base_patch16_224":
            base = ours
    assert base is not None
    return base


def model_card_section(lines: list[str]) -> None:
    lines += [
        "", "## Plain timm models, no prompts, 1000 classes (forward GMACs per sample)", "",
        "Raw counters on `timm.create_model(name, pretrained=False)`; ours on the unit chain of the same config.", "",
        "| model | timm card | closed form | ours | raw fvcore | raw torch | raw fvcore vs closed | raw torch vs closed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in ("vit_tiny_patch16_224", "vit_small_patch16_224", "vit_base_patch16_224", "vit_large_patch16_224"):
        cfg = config_for(name)
        images = images_for(cfg)
        closed = totals(closed_form_profile(cfg))[0]
        ours = totals(profile_model(cfg, batch=1, repeats=1))[0]
        vit = timm.create_model(name, pretrained=False).eval()
        fvc = raw_fvcore_macs(vit, images)
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            vit(images)
        tor = counter.get_total_flops() / 2
        card = MODEL_CARDS_GMACS.get(name)
        lines.append(
            f"| {name} | {card if card else 'n/a'} | {closed / G:.3f} | {ours / G:.3f} | {fvc / G:.3f} | {tor / G:.3f}"
            f" | {fvc / closed - 1:+.2%} | {tor / closed - 1:+.2%} |"
        )


def per_unit_section(lines: list[str], profile: ModelProfile) -> None:
    cfg = VitConfig.model_validate(profile.provenance.config)
    lines += [
        "", f"## Per unit: {profile.name} (GFLOP per sample; deviation from closed form)", "",
        "| unit | fwd GFLOP | dev | bwd GFLOP | dev | out MB | train act MB | infer act MB | fwd ms | bwd ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for ours, ref in zip(profile.units, closed_form_profile(cfg).units):
        def dev(figure: str, ours: Unit = ours, ref: Unit = ref) -> str:
            value, reference = getattr(ours, figure), getattr(ref, figure)
            return f"{value / reference - 1:+.1e}" if reference else ("both 0" if not value else f"{value:g} vs 0")
        lines.append(
            f"| {ours.name} | {ours.fwd_flops / G:.4f} | {dev('fwd_flops')} | {ours.bwd_flops / G:.4f} | {dev('bwd_flops')}"
            f" | {ours.out_bytes / 1e6:.4f} | {ours.train_mem_bytes / 1e6:.3f} | {ours.infer_mem_bytes / 1e6:.3f}"
            f" | {ours.fwd_time_s * 1e3:.2f} | {ours.bwd_time_s * 1e3:.2f} |"
        )


def main() -> None:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    command = " ".join(shlex.quote(a) for a in [Path(sys.executable).as_posix(), *sys.argv])
    lines = [
        "# Profiler benchmark", "",
        f"- command: `{command}` (cwd `{os.getcwd()}`)",
        f"- started: {started}; 1-min load average at start {os.getloadavg()[0]:.2f} (the host is shared: times are noisy)",
        f"- host: {host_description()}; {platform.platform()}",
        f"- versions: {', '.join(f'{k} {v}' for k, v in package_versions(('torch', 'timm', 'fvcore')).items())}",
        "", "Counts are MACs (1 MAC = 2 FLOPs) per sample of matrix products only (linear, convolution, attention);"
        " the closed form is `gaisnet_opt.profilers.closed_form`.", "",
    ]
    base = shipped_section(lines)
    model_card_section(lines)
    per_unit_section(lines, base)
    lines += ["", f"Finished {datetime.now(UTC).isoformat(timespec='seconds')}."]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    write_text(RESULTS, "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
