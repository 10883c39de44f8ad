"""Profilers of prompted ViTs: closed form (no torch) and measured (torch, timm, fvcore).

`profile_model` is imported on first use, so this package, its configs and the
closed form work where torch is not installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gaisnet_opt.profilers.closed_form import closed_form_profile, layer_macs
from gaisnet_opt.profilers.config import DIGITS_VIT, NAMED_CONFIGS, VitConfig, config_for

if TYPE_CHECKING:
    from gaisnet_opt.profilers.measured import profile_model

__all__ = ["DIGITS_VIT", "NAMED_CONFIGS", "VitConfig", "closed_form_profile", "config_for", "layer_macs", "profile_model"]


def __getattr__(name: str) -> Any:
    if name == "profile_model":
        from gaisnet_opt.profilers.measured import profile_model

        return profile_model
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
