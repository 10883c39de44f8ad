"""Accuracy-gain curves: each edge model's accuracy after ℓ fine-tuning rounds, measured so far and expected beyond.

Up to a model's current level L the curve is what the validator measured
(level 0: before any fine-tuning). Beyond it, fine-tuning round j is expected
to close a share g(j) of the gap to the ceiling c:
acc(j) = acc(j-1) + (c - acc(j-1))·g(j). With one g for every round this is
the exponential learning curve (T. Viering, M. Loog, "The Shape of Learning
Curves: A Review", IEEE TPAMI 2023). A measured round j contributes its
share (acc(j) - acc(j-1)) / (c - acc(j-1)), clipped to [0, 1]; an estimate
averages the measured shares with the domain's prior counted as one.

- `own`: one g per model, from its own measured rounds.
- `pooled` (default): g(j) from round j as every model measured it. The
  models share the pre-trained backbone and differ in prompts and head, so a
  first round that lifted one model says more about another's first round
  than the document's prior does, and a second round that stopped paying
  says the same of later ones. A round j nobody has measured takes the last
  measured round's g.

The accuracy the policy uses at the current level is always the last one
measured, whichever model predicts beyond it.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

GainModel = Literal["pooled", "own"]

GAP_FLOOR = 1e-9
"""Gaps to the ceiling below this say nothing about the gain rate."""


@dataclass(frozen=True)
class GainCurves:
    """Every model's measured accuracy at levels 0..L, its prior gain share and ceiling, and how to predict."""

    measured: Mapping[str, tuple[float, ...]]
    prior: Mapping[str, float]
    ceiling: Mapping[str, float]
    model: GainModel = "pooled"

    def level(self, name: str) -> int:
        """Fine-tuning rounds model `name` has had."""
        return len(self.measured[name]) - 1

    def shares(self, name: str) -> list[float | None]:
        """The share of the gap each of the model's measured rounds closed (None where it started at the ceiling)."""
        c = self.ceiling[name]
        return [min(1.0, max(0.0, (b - a) / (c - a))) if c - a > GAP_FLOOR else None
                for a, b in itertools.pairwise(self.measured[name])]

    def gain(self, name: str, step: int) -> float:
        """The expected share g of fine-tuning round `step` (1-based) of model `name`."""
        prior = self.prior[name]
        if self.model == "own":
            return _blend(prior, self.shares(name))
        every = [self.shares(m) for m in self.measured]
        for j in range(step, 0, -1):
            seen = [s[j - 1] for s in every if len(s) >= j]
            if any(x is not None for x in seen):
                return _blend(prior, seen)
        return prior

    def at(self, name: str, level: int) -> float:
        """Accuracy of model `name` after `level` rounds: measured up to L, expected beyond (never below the last)."""
        acc, top = self.measured[name], self.level(name)
        if level <= top:
            return acc[level]
        value, c = acc[-1], self.ceiling[name]
        for step in range(top + 1, level + 1):
            if value < c:
                value += (c - value) * self.gain(name, step)
        return value

    def now(self, name: str) -> float:
        """The last accuracy measured for model `name`."""
        return self.measured[name][-1]

    def measure(self, name: str, accuracy: float) -> GainCurves:
        """The curves after one more round of model `name`, measured at `accuracy`."""
        return replace(self, measured={**self.measured, name: (*self.measured[name], accuracy)})


def _blend(prior: float, shares: Sequence[float | None]) -> float:
    """The mean of the measured shares with the prior counted as one more."""
    known = [x for x in shares if x is not None]
    return (prior + sum(known)) / (1 + len(known))
