"""One wall-clock budget for a whole call: every phase draws on what is left, and says how long it took.

A scheduler calling `solve` each round needs the limit to bound the call,
not only the solver inside it (docs/model.md §7). Phases that loop check
the budget (`check`) and raise `OutOfTime`; the caller then returns the best
it has. The clock is injectable so tests can run a phase out of time
without waiting.

The promise: a call returns within `limit_s · (1 + MARGIN_SHARE) + MARGIN_S`.
The margin covers what cannot stop midway: a hot loop between two checks
(`tick` checks every `TICK_EVERY` calls), the checker and cost model on the
plan returned, and a solver's own overshoot of the seconds it was given
(`solver_seconds` keeps `SOLVER_RESERVE_*` back for reading its answer).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

MARGIN_S = 0.1
MARGIN_SHARE = 0.05
"""A call ends by limit·(1 + MARGIN_SHARE) + MARGIN_S (docs/model.md §7)."""
SOLVER_RESERVE_S = 0.05
SOLVER_RESERVE_SHARE = 0.03
"""Seconds kept back from a solver for reading its answer, mapping it to a plan and checking it."""
TICK_EVERY = 256
"""Calls of `tick` per clock reading: hot loops check the clock without paying for it on every pass."""


class OutOfTime(Exception):
    """The budget ran out inside `phase`."""

    def __init__(self, phase: str) -> None:
        super().__init__(f"the time limit ran out during {phase}")
        self.phase = phase


@dataclass
class Budget:
    """`limit_s` seconds from creation (None: no limit), measured on `clock`."""

    limit_s: float | None
    clock: Callable[[], float] = time.perf_counter
    t0: float = field(default=math.nan)
    phases: dict[str, float] = field(default_factory=dict)
    current: str = "setup"
    ticks: int = 0

    def __post_init__(self) -> None:
        if math.isnan(self.t0):
            self.t0 = self.clock()

    def elapsed(self) -> float:
        return self.clock() - self.t0

    def left(self) -> float:
        """Seconds left (infinite without a limit, never negative)."""
        return math.inf if self.limit_s is None else max(0.0, self.limit_s - self.elapsed())

    def expired(self) -> bool:
        return self.left() <= 0.0

    def check(self) -> None:
        """Raise `OutOfTime` naming the running phase once the budget is spent."""
        if self.expired():
            raise OutOfTime(self.current)

    def tick(self) -> None:
        """`check` on the first call in a phase and every `TICK_EVERY` calls after, for loops too hot to read
        the clock on every pass."""
        self.ticks += 1
        if self.ticks % TICK_EVERY == 1:
            self.check()

    def solver_seconds(self) -> float | None:
        """Seconds a solver may take now: what is left less the reserve for reading its answer (None: no limit)."""
        if self.limit_s is None:
            return None
        return max(0.0, self.left() - SOLVER_RESERVE_S - SOLVER_RESERVE_SHARE * self.limit_s)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time a phase into `phases` (seconds, summed over repeats), also when it runs out of time."""
        outer, start = self.current, self.clock()
        self.current, self.ticks = name, 0
        try:
            yield
        finally:
            self.phases[name] = self.phases.get(name, 0.0) + self.clock() - start
            self.current = outer
