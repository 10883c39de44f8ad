"""Accuracy-gain curves: what an edge model's accuracy is after ℓ fine-tuning rounds, measured so far and expected beyond.

Up to the model's current level the curve is what the validator measured
(level 0: before any fine-tuning). Beyond it, each further round is expected
to close a share g of the gap to the ceiling c, the exponential learning
curve (see T. Viering, M. Loog, "The Shape of Learning Curves: A Review",
IEEE TPAMI 2023): acc(L + k) = acc(L) + (c - acc(L))·(1 - (1 - g)^k). g starts at the
domain's prior and is re-estimated from every measured step, each step's
share (acc(i+1) - acc(i)) / (c - acc(i)), clipped to [0, 1], averaged with
the prior counted as one step. So the accuracy the policy uses at the current
level is always the last one measured, and a model whose rounds stopped
paying is expected to stop paying.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

GAP_FLOOR = 1e-9
"""Gaps to the ceiling below this say nothing about the gain rate."""


@dataclass(frozen=True)
class GainCurve:
    """Measured accuracy at levels 0..L, the prior gain rate and the ceiling."""

    measured: tuple[float, ...]
    prior_gain: float
    ceiling: float = 1.0

    @property
    def level(self) -> int:
        """The current level L: fine-tuning rounds done."""
        return len(self.measured) - 1

    def gain(self) -> float:
        """The expected share of the gap a further round closes."""
        steps = [min(1.0, max(0.0, (b - a) / (self.ceiling - a)))
                 for a, b in zip(self.measured, self.measured[1:]) if self.ceiling - a > GAP_FLOOR]
        return (self.prior_gain + sum(steps)) / (1 + len(steps))

    def at(self, level: int) -> float:
        """Accuracy after `level` rounds: measured up to L, expected beyond (never below the last measured)."""
        if level <= self.level:
            return self.measured[level]
        last = self.measured[-1]
        if last >= self.ceiling:
            return last
        return last + (self.ceiling - last) * (1.0 - (1.0 - self.gain()) ** (level - self.level))

    def measure(self, accuracy: float) -> GainCurve:
        """The curve after one more fine-tuning round measured at `accuracy`."""
        return replace(self, measured=(*self.measured, accuracy))
