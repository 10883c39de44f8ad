"""The decomposition's anytime record: each time the best plan or the bound improves, when and to what.

A city planner stopping early needs to know how soon the gap closes, not
only where it ended; `scale_bench` reads the time to 5/2/1 % gap from it
(docs/model.md §7.4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from gaisnet_opt.budget import Budget
from gaisnet_opt.result import Progress, relative_gap


@dataclass
class Trace:
    """Best plan value and lower bound so far, with a `Progress` point per improvement (seconds on `budget`)."""

    budget: Budget
    best: float = math.inf
    bound: float = -math.inf
    points: list[Progress] = field(default_factory=list)

    def plan(self, value: float) -> None:
        """A plan of objective `value` was found (recorded if it beats the best)."""
        if value < self.best:
            self.best = value
            self._record()

    def lower(self, value: float) -> None:
        """`value` was proven a lower bound for the whole problem (recorded if it raises the bound)."""
        if math.isfinite(value) and value > self.bound:
            self.bound = value
            self._record()

    def _record(self) -> None:
        best = self.best if math.isfinite(self.best) else None
        bound = self.bound if math.isfinite(self.bound) else None
        self.points.append(Progress(t_s=self.budget.elapsed(), objective=best, bound=bound))


def time_to_gap(points: tuple[Progress, ...] | list[Progress], gap: float) -> float | None:
    """Seconds to the first point whose (plan − bound) / plan is within `gap` (None: never reached)."""
    for p in points:
        reached = relative_gap(p.objective, p.bound)
        if reached is not None and reached <= gap:
            return p.t_s
    return None
