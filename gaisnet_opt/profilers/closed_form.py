"""Closed-form per-unit figures of a prompted ViT: the reference every measured count is checked against.

Per sample, a Transformer layer over n tokens of width D with MLP width M does
  MACs_fwd = n·(4·D² + 2·D·M)  [qkv 3nD², proj nD², fc1 nDM, fc2 nMD]
           + 2·n²·D             [Q·Kᵀ and A·V]
(Vaswani et al. 2017; Dosovitskiy et al. 2021, Table 1 sizes). With frozen
weights the backward computes only input gradients: each linear costs its
forward MACs once more, each attention matmul twice (gradients of both
operands), and fused attention (timm's `scaled_dot_product_attention`, flash
kernels on CPU and GPU) keeps no n×n matrix, so its backward recomputes Q·Kᵀ
first: MACs_bwd = n·(4·D² + 2·D·M) + 5·n²·D. Tunable tensors add their
weight gradients (the head's D·C). Only multiply-accumulates are counted
(FLOPs = 2·MACs); norms, softmax, GELU and additions are left out: under 1 %
of the work from ViT-Ti/16 up, a few % for the 64-wide digits ViT.
VPT (Jia et al. 2022) adds P prompt tokens: deep replaces them before every
layer (their outputs are dropped, so they never cross a hop), shallow inserts
them once before layer 1 and carries them through.

Saved activations (`train_mem_bytes`) follow the same kernels: a frozen layer
keeps both norm inputs with their means and reciprocal deviations, the qkv
output (q, k, v are views of it), the attention output with its per-head
log-sum-exp, and the GELU input: n·(6·D + M) + (H + 4)·n values. The head keeps
its input, the normalised input for the classifier's weight gradient and the
norm statistics, or only the normalised input when no gradient flows further
back. `infer_mem_bytes` is an estimate of the peak working set; the measured
profiler replaces it.
"""

from __future__ import annotations

from datetime import date

from gaisnet_opt.profile import ModelProfile, Provenance, Unit
from gaisnet_opt.profilers.config import VitConfig


def _unit(name: str, fwd_macs: float, bwd_macs: float, **figures: float) -> Unit:
    return Unit(name=name, fwd_macs=fwd_macs, bwd_macs=bwd_macs, fwd_flops=2 * fwd_macs, bwd_flops=2 * bwd_macs, **figures)


def layer_macs(cfg: VitConfig) -> tuple[float, float]:
    """Forward and frozen-weight backward MACs of one Transformer layer per sample."""
    n, d, m = cfg.seq_len, cfg.embed_dim, cfg.mlp_dim
    linear = n * (4 * d * d + 2 * d * m)
    return linear + 2 * n * n * d, linear + 5 * n * n * d


def closed_form_profile(cfg: VitConfig, bytes_per_value: int = 4) -> ModelProfile:
    """The ModelProfile of `cfg` from the formulas above."""
    d, m, n, c, h = cfg.embed_dim, cfg.mlp_dim, cfg.seq_len, cfg.num_classes, cfg.num_heads
    tokens = 1 + cfg.patches  # class token + patches: what embed emits
    bpv = bytes_per_value
    patch_macs = cfg.patches * cfg.in_chans * cfg.patch_size**2 * d
    units = [
        _unit(
            "embed", patch_macs, 0.0,
            out_bytes=tokens * d * bpv, grad_bytes=0.0,
            frozen_param_bytes=(cfg.in_chans * cfg.patch_size**2 * d + d + d + tokens * d) * bpv,
            tunable_param_bytes=0.0, train_mem_bytes=0.0,
            infer_mem_bytes=(cfg.in_chans * cfg.img_size**2 + tokens * d) * bpv,
        )
    ]
    fwd, bwd = layer_macs(cfg)
    frozen_layer = 4 * d * d + 2 * d * m + 9 * d + m
    tunable_seen = False
    for i in range(1, cfg.depth + 1):
        prompt = cfg.has_prompt(i)
        tunable_seen |= prompt
        last = i == cfg.depth
        kept = 1 if last else (tokens if cfg.deep else n)
        out = kept * d * bpv
        units.append(
            _unit(
                f"block_{i}", fwd, bwd if tunable_seen else 0.0,
                out_bytes=out, grad_bytes=out if tunable_seen else 0.0,
                frozen_param_bytes=frozen_layer * bpv,
                tunable_param_bytes=(cfg.prompts * d if prompt else 0) * bpv,
                train_mem_bytes=(n * (6 * d + m) + (h + 4) * n) * bpv if tunable_seen else 0.0,
                infer_mem_bytes=(n * d + max(3 * n * d + h * n * n, n * m)) * bpv,
            )
        )
    units.append(
        _unit(
            "head", d * c, d * c * (2 if tunable_seen else 1),
            out_bytes=c * bpv, grad_bytes=0.0,
            frozen_param_bytes=2 * d * bpv, tunable_param_bytes=(d * c + c) * bpv,
            train_mem_bytes=(2 * d + 2 if tunable_seen else d) * bpv, infer_mem_bytes=(d + c) * bpv,
        )
    )
    return ModelProfile(
        name=cfg.profile_name,
        bytes_per_value=bpv,
        units=tuple(units),
        provenance=Provenance(
            method="closed-form",
            model=cfg.name,
            config=cfg.model_dump(),
            date=date.today().isoformat(),
            note="closed-form MAC counts; activation memory estimated, not measured",
        ),
    )
