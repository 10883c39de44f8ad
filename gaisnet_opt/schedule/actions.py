"""The decisions of one round, listed in the one tie-break order every policy uses.

An action is the set of models fine-tuned this round and how many of each
model's requests are served. `feasible_actions` lists them in the tie-break
order: fewer fine-tunings first (earn now, upgrade as late as the optimum
allows), then fine-tuned models by lower index, then more requests served,
then requests of lower-index models first. Every policy that meets a tie
takes the first action in this order, so its output is deterministic; with
the paper's Table V this order reproduces the paper's MLCP schedule.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from gaisnet_opt.schedule.instance import Core

IDLE_LABEL = "-"


@dataclass(frozen=True)
class Action:
    """Models fine-tuned (indices, ascending) and requests served per model (counts, length M)."""

    finetune: tuple[int, ...]
    serve: tuple[int, ...]

    def profit(self, core: Core, levels: np.ndarray) -> float:
        """Immediate profit: served requests earn v(m, ℓ_m) at the round's start levels, fine-tunings cost c_m."""
        earned = sum(n * core.table[m, levels[m]] for m, n in enumerate(self.serve) if n)
        return float(earned - sum(core.costs[m] for m in self.finetune))

    def apply(self, levels: np.ndarray) -> np.ndarray:
        """The levels at the next round's start."""
        out = levels.copy()
        out[list(self.finetune)] += 1
        return out

    def label(self, names: Sequence[str]) -> str:
        """The paper's notation: lowercase name = fine-tune it, uppercase = serve its request; '+' joins services."""
        parts = [names[m].lower() for m in self.finetune]
        parts += [names[m].upper() for m, n in enumerate(self.serve) for _ in range(n)]
        return "+".join(parts) or IDLE_LABEL


def feasible_actions(core: Core, levels: np.ndarray, requests: np.ndarray) -> Iterator[Action]:
    """Every action allowed at `levels` with `requests` (counts per model), in tie-break order."""
    below = [m for m in range(core.n_models) if levels[m] < core.caps[m]]
    total = int(requests.sum())
    k_max = core.capacity
    fewest = 0 if core.idle_allowed else min(max(k_max - total, 0), len(below))
    for n_ft in range(fewest, min(k_max, len(below)) + 1):
        slots = min(k_max - n_ft, total)
        sizes = range(slots, -1, -1) if core.idle_allowed else (slots,)
        for ft in combinations(below, n_ft):
            for size in sizes:
                for serve in _bounded_vectors(requests, size):
                    yield Action(ft, serve)


def _bounded_vectors(bounds: np.ndarray, total: int) -> Iterator[tuple[int, ...]]:
    """Vectors 0 <= s <= bounds summing to `total`, lexicographically largest first."""
    bounds_list = [int(b) for b in bounds]
    rest = [*np.cumsum(bounds_list[::-1])[::-1].tolist(), 0]

    def walk(i: int, left: int) -> Iterator[tuple[int, ...]]:
        if i == len(bounds_list):
            if left == 0:
                yield ()
            return
        for take in range(min(bounds_list[i], left), max(0, left - rest[i + 1]) - 1, -1):
            for tail in walk(i + 1, left - take):
                yield (take, *tail)

    return walk(0, total)


def parse_label(label: str, names: Sequence[str]) -> Action:
    """The action written as in the paper's Table V ('a', 'C', 'a+C', '-'); raises ValueError if unreadable."""
    by_lower = {n.lower(): i for i, n in enumerate(names)}
    finetune: list[int] = []
    serve = [0] * len(names)
    for part in ([] if label == IDLE_LABEL else label.split("+")):
        m = by_lower.get(part.lower())
        if m is None or part not in (names[m].lower(), names[m].upper()) or names[m].lower() == names[m].upper():
            raise ValueError(f"'{part}' in '{label}' names no model as fine-tune (lowercase) or serve (uppercase)")
        if part == names[m].lower():
            if m in finetune:
                raise ValueError(f"'{label}' fine-tunes '{names[m]}' twice in one round")
            finetune.append(m)
        else:
            serve[m] += 1
    return Action(tuple(sorted(finetune)), tuple(serve))
