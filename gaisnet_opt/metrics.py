"""Plain-data views of the cost model's results, for JSON output and for tables."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from gaisnet_opt.checker import Violation
from gaisnet_opt.cost import RoundCost


def _finite(value: Any) -> Any:
    """JSON has no infinity: an impossible figure (missing link) becomes null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def round_cost_dict(cost: RoundCost) -> dict[str, Any]:
    """Every figure of a RoundCost, clusters, members and hops included."""
    return _finite(dataclasses.asdict(cost))


def evaluation_dict(cost: RoundCost, violations: list[Violation]) -> dict[str, Any]:
    """What `evaluate --json` prints: feasibility, violations and all metrics."""
    return {
        "feasible": not violations,
        "violations": [dataclasses.asdict(v) for v in violations],
        "metrics": round_cost_dict(cost),
    }
