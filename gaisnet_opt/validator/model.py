"""The model the validator trains is the one the scenario's profile describes, or the run is refused.

The profile's provenance carries the prompted-ViT config it was made from, so
the validator builds that model (the profiler's `PromptedViT`, whose children
are the units) and then compares the profile's per-unit figures that a plan's
bytes and memory rest on with the model's own: unit names, smashed-data and
gradient bytes per sample, frozen and tunable parameter bytes. Any difference
means the plan was made for another model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch
from pydantic import ValidationError

from gaisnet_opt.errors import InputError
from gaisnet_opt.profile import ModelProfile
from gaisnet_opt.profile_catalog import builtin_profiles, load_profile
from gaisnet_opt.profilers.closed_form import closed_form_profile
from gaisnet_opt.profilers.config import DIGITS_VIT, VitConfig
from gaisnet_opt.profilers.prompted_vit import PromptedViT, build_model, load_checkpoint

PROFILE_MISMATCH = "profile mismatch"
"""The InputError source when the scenario's profile does not describe the model trained."""

Tune = Literal["prompts", "full"]
"""What fine-tuning trains: the prompts and head (VPT, backbone frozen) or every parameter (full fine-tuning)."""


def digits_profile() -> ModelProfile:
    """The profile of the tiny digits ViT: the shipped one if the package has it, else its closed form."""
    name = DIGITS_VIT.profile_name
    return load_profile(name) if name in builtin_profiles() else closed_form_profile(DIGITS_VIT)


def config_of(profile: ModelProfile) -> VitConfig:
    """The prompted-ViT config a profile was made from (its provenance), or an InputError."""
    try:
        return VitConfig.model_validate(profile.provenance.config)
    except ValidationError as exc:
        reason = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(config)'}: {e['msg']}" for e in exc.errors(include_url=False))
        raise InputError(PROFILE_MISMATCH, [(
            "scenario.profile.provenance.config",
            f"profile '{profile.name}' names no prompted-ViT config the validator can build ({reason})",
        )]) from None


def _problems(profile: ModelProfile, model: PromptedViT) -> list[tuple[str, str]]:
    units = model.units()
    names = [n for n, _ in units]
    if [u.name for u in profile.units] != names:
        return [("scenario.profile.units", f"profile '{profile.name}' has units {[u.name for u in profile.units]}, the model {names}")]
    cfg = model.cfg
    x = torch.zeros(1, cfg.in_chans, cfg.img_size, cfg.img_size)
    problems = []
    tunable_so_far = False
    with torch.no_grad():
        for k, ((name, unit), spec) in enumerate(zip(units, profile.units)):
            x = unit(x)
            tunable = sum(p.numel() * p.element_size() for p in unit.parameters() if p.requires_grad)
            frozen = sum(p.numel() * p.element_size() for p in unit.parameters() if not p.requires_grad)
            tunable_so_far |= tunable > 0
            out = x.numel() * x.element_size()
            grad = out if tunable_so_far and k < len(units) - 1 else 0
            for figure, actual in (("out_bytes", out), ("grad_bytes", grad),
                                   ("tunable_param_bytes", tunable), ("frozen_param_bytes", frozen)):
                if getattr(spec, figure) != actual:
                    problems.append((f"scenario.profile.units[{k}].{figure}",
                                     f"{name}: profile says {getattr(spec, figure):g}, the model has {actual}"))
    return problems


def build_for(profile: ModelProfile, checkpoint: str | Path | None, seed: int, tune: Tune = "prompts") -> PromptedViT:
    """The model `profile` describes, backbone from `checkpoint` (frozen), prompts seeded; refused on mismatch.

    A classifier the checkpoint lacks starts at zero, as a new task's head: a
    seeded one could coincide with the head the backbone was pre-trained
    against (same seed, same initial draw) and score before any fine-tuning.
    `tune="full"` then makes every backbone parameter tunable too (the paper's
    Fig. 7 baseline); the profile, and so the plan's predictions, stay those of VPT.
    """
    model = build_model(config_of(profile), None, seed)
    if checkpoint is not None:
        params = dict(model.named_parameters())
        with torch.no_grad():
            for name in load_checkpoint(model, checkpoint):
                if name.startswith("head."):
                    params[name].zero_()
    problems = _problems(profile, model)
    if problems:
        raise InputError(PROFILE_MISMATCH, problems)
    if tune == "full":
        for param in model.parameters():
            param.requires_grad_(True)
    return model
