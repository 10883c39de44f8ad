"""A fake clock for the time-limit tests: time stands still until a named phase begins, then races."""

from __future__ import annotations

from gaisnet_opt.budget import Budget

HOUR = 3600.0


class PhaseClock:
    """Reads 0 until the budget's running phase is `phase`; from then on every reading is an hour later."""

    def __init__(self, phase: str) -> None:
        self.phase, self.now = phase, 0.0
        self.budget: Budget | None = None

    def __call__(self) -> float:
        if self.budget is not None and self.budget.current == self.phase:
            self.now += HOUR
        return self.now


def running_out_in(phase: str, limit_s: float = 60.0) -> Budget:
    """A budget of `limit_s` seconds that runs out at the first clock reading inside `phase`."""
    clock = PhaseClock(phase)
    budget = Budget(limit_s, clock=clock)
    clock.budget = budget
    return budget
