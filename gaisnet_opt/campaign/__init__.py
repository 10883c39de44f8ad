"""Integrated fine-tuning and inference over many rounds (docs/model.md §9): the campaign loop.

    from gaisnet_opt.campaign import load_campaign, run_campaign
    result = run_campaign(load_campaign("campaign.yaml"))

`run_campaign` needs the validator (the `torch` extra); it loads on first use,
so reading and checking a campaign document does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gaisnet_opt.campaign.document import load_campaign
from gaisnet_opt.campaign.spec import CampaignSpec

if TYPE_CHECKING:
    from gaisnet_opt.campaign.loop import run_campaign

__all__ = ["CampaignSpec", "load_campaign", "run_campaign"]


def __getattr__(name: str) -> Any:
    if name == "run_campaign":
        from gaisnet_opt.campaign.loop import run_campaign

        return run_campaign
    raise AttributeError(f"module 'gaisnet_opt.campaign' has no attribute {name!r}")
