"""The measured profile: every figure of docs/model.md §1 taken from a real split-learning pass over the unit modules.

The pass runs the units hop by hop as the validator does: each unit gets a
detached copy of the previous unit's output (requiring a gradient only if
something upstream is tunable), and the backward goes unit by unit from the
head, each handing the gradient of its input back. So out_bytes and
grad_bytes are the sizes of the tensors that actually crossed, and each
unit's backward FLOPs, saved tensors and times are its own.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import torch
from pydantic import ValidationError
from torch import nn

from gaisnet_opt.errors import InputError
from gaisnet_opt.host import host_description, package_versions
from gaisnet_opt.profile import ModelProfile, Provenance, Unit
from gaisnet_opt.profilers.config import VitConfig, config_for
from gaisnet_opt.profilers.flops import counted_macs, forward_macs
from gaisnet_opt.profilers.memory import peak_bytes, saved_bytes
from gaisnet_opt.profilers.prompted_vit import PromptedViT, build_model


def _nbytes(t: torch.Tensor | None) -> int:
    return 0 if t is None else t.numel() * t.element_size()


class SplitPass:
    """One training step over the units, hop by hop; forward(k) and backward(k) run unit k alone."""

    def __init__(self, units: list[tuple[str, nn.Module]], images: torch.Tensor, grad_logits: torch.Tensor):
        self.units = units
        n = len(units)
        tunable = [any(p.requires_grad for p in unit.parameters()) for _, unit in units]
        self.input_grad = [any(tunable[:k]) for k in range(n)]
        """whether unit k must send a gradient back into its input"""
        self.has_backward = [t or g for t, g in zip(tunable, self.input_grad)]
        self.images = images
        self.inputs: list[torch.Tensor] = []
        self.outputs: list[torch.Tensor] = []
        self.grads: list[torch.Tensor | None] = [None] * (n - 1) + [grad_logits]
        """grads[k]: the gradient into unit k's output (the last one is the loss gradient)"""

    def forward(self, k: int) -> None:
        received = self.images if k == 0 else self.outputs[k - 1]
        self.inputs.append(received.detach().requires_grad_(self.input_grad[k]))
        self.outputs.append(self.units[k][1](self.inputs[k]))

    def backward(self, k: int) -> None:
        torch.autograd.backward(self.outputs[k], self.grads[k])
        if self.input_grad[k]:
            self.grads[k - 1] = self.inputs[k].grad

    def run(self) -> None:
        for k in range(len(self.units)):
            self.forward(k)
        for k in reversed(range(len(self.units))):
            if self.has_backward[k]:
                self.backward(k)


def _timed(step: Callable[[int], None], k: int) -> float:
    start = time.perf_counter()
    step(k)
    return time.perf_counter() - start


def _median_times(model: PromptedViT, make_pass: Callable[[], SplitPass], repeats: int) -> tuple[list[float], list[float]]:
    """Median forward and backward seconds per unit over `repeats` steps (after one warm-up)."""
    n = len(model.units())
    fwd: list[list[float]] = [[] for _ in range(n)]
    bwd: list[list[float]] = [[] for _ in range(n)]
    for rep in range(repeats + 1):
        step = make_pass()
        f = [_timed(step.forward, k) for k in range(n)]
        b = {k: _timed(step.backward, k) for k in reversed(range(n)) if step.has_backward[k]}
        model.zero_grad(set_to_none=True)
        if rep:
            for k in range(n):
                fwd[k].append(f[k])
                bwd[k].append(b.get(k, 0.0))
    return [statistics.median(t) for t in fwd], [statistics.median(t) for t in bwd]


def profile_model(
    model: str | VitConfig,
    *,
    prompts: int | None = None,
    deep: bool | None = None,
    num_classes: int | None = None,
    checkpoint: str | Path | None = None,
    batch: int = 2,
    repeats: int = 5,
    seed: int = 0,
) -> ModelProfile:
    """Measure the ModelProfile of a prompted ViT (a timm name, a named config or a VitConfig).

    Counts and bytes are per sample from one batch of `batch` random images;
    times are medians of `repeats` steps on this host. Weights are random
    unless `checkpoint` is given (they do not change counts or sizes).
    """
    try:
        cfg = config_for(model, prompts=prompts, deep=deep, num_classes=num_classes)
    except ValidationError as exc:
        raise InputError.from_validation("model", exc) from None
    if batch < 1 or repeats < 1:
        raise InputError("profile", [("batch" if batch < 1 else "repeats", "must be at least 1")])
    net = build_model(cfg, checkpoint, seed).eval()
    units = net.units()
    params = list(net.parameters())
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(batch, cfg.in_chans, cfg.img_size, cfg.img_size, generator=generator)
    grad_logits = torch.randn(batch, cfg.num_classes, generator=generator)

    def make_pass() -> SplitPass:
        return SplitPass(units, images, grad_logits)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    step = make_pass()
    train_mem = [saved_bytes(partial(step.forward, k), params) for k in range(len(units))]
    bwd_macs = {k: counted_macs(partial(step.backward, k)) for k in reversed(range(len(units))) if step.has_backward[k]}
    net.zero_grad(set_to_none=True)
    fwd_times, bwd_times = _median_times(net, make_pass, repeats)

    out: list[Unit] = []
    for k, (name, unit) in enumerate(units):
        received = step.inputs[k].detach()
        fwd = forward_macs(unit, (received,))
        bwd = bwd_macs.get(k, 0)
        with torch.no_grad():
            infer_mem = peak_bytes(unit, received, params)
        tunable = sum(_nbytes(p) for p in unit.parameters() if p.requires_grad)
        frozen = sum(_nbytes(p) for p in unit.parameters() if not p.requires_grad)
        out.append(Unit(
            name=name, fwd_macs=fwd / batch, bwd_macs=bwd / batch, fwd_flops=2 * fwd / batch, bwd_flops=2 * bwd / batch,
            out_bytes=_nbytes(step.outputs[k]) / batch,
            grad_bytes=_nbytes(step.grads[k]) / batch if k < len(units) - 1 else 0.0,
            frozen_param_bytes=frozen, tunable_param_bytes=tunable,
            train_mem_bytes=train_mem[k] / batch, infer_mem_bytes=infer_mem / batch,
            fwd_time_s=fwd_times[k] / batch, bwd_time_s=bwd_times[k] / batch,
        ))
    return ModelProfile(
        name=cfg.profile_name,
        bytes_per_value=images.element_size(),
        units=tuple(out),
        provenance=Provenance(
            method="measured", model=cfg.name, config=cfg.model_dump(), versions=package_versions(("torch", "timm", "fvcore", "gaisnet-opt")),
            host=host_description(f"{torch.get_num_threads()} torch threads"), date=datetime.now(UTC).isoformat(timespec="seconds"),
            note=(
                f"FLOPs: fvcore forward, torch FlopCounterMode backward, fused attention counted; per sample from a batch of"
                f" {batch} random images (seed {seed}); times: median of {repeats} steps, 1-min load average {load:.2f} at start; memory: saved tensors (train) and peak"
                f" live tensors (inference)" + (f"; weights from {Path(checkpoint).name}" if checkpoint else "; random weights")
            ),
        ),
    )
