"""When each step of a round ran, per process: compute spans and the two ends of every message.

Every process stamps its own steps with `time.perf_counter` (CLOCK_MONOTONIC
on Linux, one clock for every process of one host), so rank 0 can join a
sender's stamp with its receiver's: a transfer lasts from the start of the
send to the completion of the receive. A step is named by what it is, the
member or hop it belongs to (`k`) and its number within the round (`seq`), so
both ends of a message name it alike without telling each other.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

Event = tuple[str, int, int, float, float]
"""(what, k, seq, start, end): what is a compute phase (forward, backward, step) or "send:<kind>" / "recv:<kind>"."""


def now() -> float:
    """The trace clock."""
    return time.perf_counter()


@dataclass
class Trace:
    """One process's events of one chain, since the last `clear`."""

    events: list[Event] = field(default_factory=list)
    _seq: Counter[tuple[str, int]] = field(default_factory=Counter)

    def add(self, what: str, k: int, start: float, end: float) -> None:
        """Stamp the next `what` of member or hop `k`."""
        seq = self._seq[(what, k)]
        self._seq[(what, k)] += 1
        self.events.append((what, k, seq, start, end))

    def clear(self) -> None:
        """A new round (or turn): numbering starts again."""
        self.events.clear()
        self._seq.clear()
