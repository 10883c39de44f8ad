"""MLCP, the exact long-term optimum, by backward dynamic programming over level vectors.

The state of round t is the vector of levels (ℓ_1..ℓ_M): Π (cap_m + 1)
states. Requests do not depend on decisions, so for a known request sequence
V_t(ℓ) = max over fine-tune sets F of [ -c(F) + G_t(ℓ, capacity - |F|) + V_{t+1}(ℓ + e_F) ],
where G_t(ℓ, k) is the best way to fill k slots with round t's requests,
which is to take them by decreasing profit (serving never changes a state).
Each round is one numpy pass over all states per fine-tune set.

The same recursion runs on fractional (expected) request counts: a slot then
earns the expected profit of the requests it would take. The rolling-horizon
policy plans that way.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, partial
from itertools import combinations

import numpy as np

from gaisnet_opt.schedule.actions import Action, feasible_actions
from gaisnet_opt.schedule.instance import Core, ScheduleInstance
from gaisnet_opt.schedule.result import OptimalSchedules, ScheduleResult, replay

COUNT_CEILING = 2.0**60
"""Optimal-schedule counts saturate here (they grow like actions**rounds)."""

TIE_BREAK = (
    "first optimal action in the order: fewer fine-tunings, fine-tuned models by lower index, "
    "more requests served, requests of lower-index models first"
)


MAX_STATES = 5_000_000
"""Level vectors the DP holds at once (each round keeps a float per state); more is refused, not swapped."""


class TooManyStates(ValueError):
    """The instance has more level vectors than the DP holds."""


@dataclass(frozen=True, eq=False)
class StateSpace:
    """All level vectors of a core, flattened in C order, and the fine-tune sets a round may choose."""

    core: Core

    def __post_init__(self) -> None:
        states = math.prod(int(c) + 1 for c in self.core.caps)
        if states > MAX_STATES:
            raise TooManyStates(f"{states:,} level vectors (product of cap+1 over models) exceed the DP's {MAX_STATES:,}")

    @cached_property
    def strides(self) -> np.ndarray:
        dims = self.core.caps + 1
        return np.array([int(np.prod(dims[m + 1 :])) for m in range(len(dims))], dtype=np.int64)

    @cached_property
    def levels(self) -> np.ndarray:
        """Levels of every state, shape (S, M)."""
        dims = tuple(int(d) for d in self.core.caps + 1)
        return np.indices(dims).reshape(len(dims), -1).T

    @property
    def size(self) -> int:
        return len(self.levels)

    @cached_property
    def below_cap(self) -> np.ndarray:
        """How many models each state can still fine-tune, shape (S,)."""
        return (self.levels < self.core.caps).sum(axis=1)

    @cached_property
    def moves(self) -> list[tuple[tuple[int, ...], float, np.ndarray, np.ndarray]]:
        """Per fine-tune set F (tie-break order): F, its cost, the states where it is allowed, their successors."""
        out = []
        m_all = range(self.core.n_models)
        for n_ft in range(min(self.core.capacity, self.core.n_models) + 1):
            for ft in combinations(m_all, n_ft):
                cols = list(ft)
                allowed = np.all(self.levels[:, cols] < self.core.caps[cols], axis=1)
                nxt = np.arange(self.size) + int(self.strides[cols].sum())
                out.append((ft, float(self.core.costs[cols].sum()), allowed, np.where(allowed, nxt, 0)))
        return out

    def index(self, levels: np.ndarray) -> int:
        return int(levels @ self.strides)


def value_functions(space: StateSpace, demand: np.ndarray, count: bool = False) -> tuple[list[np.ndarray], np.ndarray | None]:
    """V_0..V_T over all states for request counts `demand` (T, M; may be fractional), and, if asked,
    the number of optimal action sequences from every state at round 0 (integer demand only)."""
    core = space.core
    horizon = len(demand)
    values = [np.zeros(space.size) for _ in range(horizon + 1)]
    ways = np.ones(space.size) if count else None
    tol = tolerance(core, horizon)
    for t in range(horizon - 1, -1, -1):
        fill, fill_ways = _serve_tables(space, demand[t], count)
        lower = _fewest_finetunes(space, demand[t])
        nxt_v = values[t + 1]
        qs = []
        for ft, cost, allowed, nxt in space.moves:
            q = fill[core.capacity - len(ft)] - cost + nxt_v[nxt]
            qs.append(np.where(allowed & (len(ft) >= lower), q, -np.inf))
        best = np.max(qs, axis=0)
        values[t] = best
        if ways is not None:
            assert fill_ways is not None
            new = np.zeros(space.size)
            for q, (ft, _, _, nxt) in zip(qs, space.moves):
                hit = q >= best - tol
                new += np.where(hit, fill_ways[core.capacity - len(ft)] * ways[nxt], 0.0)
            ways = np.minimum(new, COUNT_CEILING)
    return values, ways


def tolerance(core: Core, horizon: int) -> float:
    """Two totals closer than this are a tie (float sums of the same profits in another order)."""
    scale = float(np.nanmax(np.abs(core.table))) + float(core.costs.max(initial=0.0))
    return 1e-9 * (1.0 + horizon * scale)


def _fewest_finetunes(space: StateSpace, row: np.ndarray) -> np.ndarray:
    """Per state, the fine-tunings a round must perform so that no slot stays unused (0 if idling is allowed)."""
    core = space.core
    if core.idle_allowed:
        return np.zeros(space.size, dtype=np.int64)
    requests = math.ceil(float(row.sum()) - 1e-9)
    return np.minimum(max(core.capacity - requests, 0), space.below_cap)


def _serve_tables(space: StateSpace, row: np.ndarray, count: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """For k = 0..capacity slots: the best serving profit per state, shape (K+1, S), and, if asked,
    how many serve choices reach it."""
    core = space.core
    k_all = core.capacity + 1
    asked = np.flatnonzero(row > 0)
    fill = np.zeros((k_all, space.size))
    ways = np.ones((k_all, space.size)) if count else None
    if len(asked) == 0:
        return fill, ways
    profits = core.table[asked, space.levels[:, asked]]
    gain = np.maximum(profits, 0.0) if core.idle_allowed else profits
    order = np.argsort(-gain, axis=1, kind="stable")
    gain_sorted = np.take_along_axis(gain, order, axis=1)
    weight_sorted = row[asked][order]
    before = np.cumsum(weight_sorted, axis=1) - weight_sorted
    for k in range(k_all):
        fill[k] = (gain_sorted * np.clip(k - before, 0.0, weight_sorted)).sum(axis=1)
    if ways is not None:
        counts = [round(float(c)) for c in row[asked]]
        # the profits of a state depend only on the asked models' levels: solve once per distinct level tuple
        key = space.levels[:, asked] @ np.cumprod(np.concatenate([[1], core.caps[asked][:-1] + 1]))
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        for k in range(k_all):
            per_key = [_fill_ways(profits[i].tolist(), counts, k, core.idle_allowed) for i in first]
            ways[k] = np.asarray(per_key, dtype=float)[inverse]
    return fill, ways


def _fill_ways(profits: list[float], counts: list[int], slots: int, idle: bool) -> int:
    """How many request-count vectors fill `slots` at the best profit (idle slots are interchangeable)."""
    items = list(zip(profits, counts))
    if idle:
        items.append((0.0, slots))
    else:
        slots = min(slots, sum(counts))
    for value in sorted({v for v, _ in items}, reverse=True):
        group = [c for v, c in items if v == value]
        if sum(group) >= slots:
            return _bounded_compositions(group, slots)
        slots -= sum(group)
    return 1


def _bounded_compositions(bounds: list[int], total: int) -> int:
    """Number of x with 0 <= x_i <= bounds_i and Σ x = total."""
    poly = [1]
    for b in bounds:
        grown = [0] * (len(poly) + b)
        for i, c in enumerate(poly):
            for j in range(b + 1):
                grown[i + j] += c
        poly = grown
    return poly[total] if total < len(poly) else 0


def lookahead_action(
    core: Core, levels: np.ndarray, row: np.ndarray, tol: float, future: Callable[[np.ndarray], float] | None = None
) -> Action:
    """The first action (tie-break order) maximizing immediate profit + future(next levels); MSIP when future is None."""
    best, best_q = None, -np.inf
    for action in feasible_actions(core, levels, row):
        q = action.profit(core, levels) + (future(action.apply(levels)) if future else 0.0)
        if q > best_q + tol:
            best, best_q = action, q
    assert best is not None, "every state has a feasible action"
    return best


def follow(
    instance: ScheduleInstance, demand: np.ndarray, future: Callable[[int, np.ndarray], float] | None = None
) -> list[Action]:
    """The actions of the lookahead policy with value future(t, levels) of starting round t at `levels`."""
    core = instance.core
    tol = tolerance(core, len(demand))
    levels = np.zeros(core.n_models, dtype=np.int64)
    actions = []
    for t, row in enumerate(demand):
        ahead = None if future is None else partial(future, t + 1)
        action = lookahead_action(core, levels, row, tol, ahead)
        actions.append(action)
        levels = action.apply(levels)
    return actions


def solve_dp(instance: ScheduleInstance, demand: np.ndarray | None = None) -> ScheduleResult:
    """MLCP by dynamic programming on the known requests (or on `demand` counts (T, M)), with the number
    of optimal schedules and the first one in tie-break order."""
    start = time.perf_counter()
    demand = instance.demand() if demand is None else demand
    core = instance.core
    space = StateSpace(core)
    values, ways = value_functions(space, demand.astype(float), count=True)
    assert ways is not None
    actions = follow(instance, demand, lambda t, lv: float(values[t][space.index(lv)]))
    n_optimal = float(ways[0])
    result = replay(
        instance,
        demand,
        actions,
        "mlcp",
        {"method": "dp", "states": space.size},
        status="optimal",
        bound=float(values[0][0]),
        time_s=time.perf_counter() - start,
        optimal_schedules=OptimalSchedules(count=int(n_optimal), exact=n_optimal < 2.0**53, tie_break=TIE_BREAK),
    )
    assert abs(result.total - values[0][0]) <= tolerance(core, len(demand)), "the tie-break path reaches the optimum"
    return result
