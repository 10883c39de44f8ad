"""Rolling horizon for requests known only as a forecast.

Each round the policy sees that round's actual requests, plans the rest of
its window by the DP on the forecast's expected request counts (a slot earns
the expected profit of the requests it would take; for the rule that no slot
stays unused, a round expecting N requests counts as ceil(N)), and commits only the
current round's action. Without a window the plan of the remaining rounds
does not depend on what was observed, so one backward pass serves all
rounds; with a window the DP is rerun every round.
"""

from __future__ import annotations

import time
from functools import cache

import numpy as np

from gaisnet_opt.schedule.dp import StateSpace, follow, value_functions
from gaisnet_opt.schedule.instance import ScheduleInstance
from gaisnet_opt.schedule.result import ScheduleResult, replay


def solve_rolling(instance: ScheduleInstance, demand: np.ndarray, window: int | None = None) -> ScheduleResult:
    """The rolling-horizon schedule on actual request counts `demand` (T, M), planning `window` rounds
    ahead including the current one (None: to the end)."""
    if instance.forecast is None:
        raise ValueError(f"instance '{instance.name}' has no forecast to plan on")
    if window is not None and window < 1:
        raise ValueError(f"window must be at least 1 round, got {window}")
    start = time.perf_counter()
    space = StateSpace(instance.core)
    expected = instance.expected_demand()
    if window is None:
        plan, _ = value_functions(space, expected)
        values_at = plan.__getitem__
    else:

        @cache
        def values_at(t: int) -> np.ndarray:
            return value_functions(space, expected[t : t + window - 1])[0][0]

    def future(t: int, levels: np.ndarray) -> float:
        return float(values_at(t)[space.index(levels)])

    actions = follow(instance, demand, future)
    return replay(instance, demand, actions, "rolling", {"window": window}, time_s=time.perf_counter() - start)
