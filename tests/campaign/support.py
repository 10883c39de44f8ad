"""A small digits campaign for the tests: 12 generated clients, two domains (digits 0-4 and 5-9), everything moving."""

from __future__ import annotations

from typing import Any

from gaisnet_opt.campaign.spec import CampaignSpec


def small_spec(**changes: Any) -> CampaignSpec:
    """Three rounds, Random Waypoint, churn and small batteries; `changes` replace top-level fields."""
    doc: dict[str, Any] = {
        "name": "small",
        "scenario": {"clients": 12, "seed": 6001, "client_memory_bytes": 2.5e6,
                     "training": {"batch_size": 8, "local_iters": 3}},
        "domains": [
            {"name": "A", "classes": [0, 1, 2, 3, 4], "sources": 3, "samples": 24,
             "requests": {"rate": 1.0, "samples": [4, 8]}},
            {"name": "B", "classes": [5, 6, 7, 8, 9], "sources": 3, "samples": 24,
             "requests": {"rate": 1.0, "samples": [4, 8]}},
        ],
        "dynamics": {"mobility": {"model": "random-waypoint", "speed_mps": [1.0, 3.0], "pause_s": [0.0, 10.0]},
                     "churn": {"leave": 0.15, "join": 0.5},
                     "battery": {"capacity_j": [0.5, 1.0], "reserve_j": 0.01}},
        "policy": {"capacity": 2, "window": 3},
        "planner": {"time_limit_s": 2.0},
        "rounds": 3,
        "seed": 6001,
    }
    doc.update(changes)
    return CampaignSpec.model_validate(doc)
