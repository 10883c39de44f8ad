"""The heuristics the paper compares MLCP with: MSIP (greedy) and RS (random), and replaying a written schedule."""

from __future__ import annotations

import time

import numpy as np

from gaisnet_opt.schedule.actions import feasible_actions, parse_label
from gaisnet_opt.schedule.dp import follow
from gaisnet_opt.schedule.instance import ScheduleInstance
from gaisnet_opt.schedule.result import PolicySummary, ScheduleResult, replay


def solve_msip(instance: ScheduleInstance, demand: np.ndarray | None = None) -> ScheduleResult:
    """MSIP: each round the action of highest immediate profit, ties by the tie-break order
    (`gaisnet_opt.schedule.actions`): it never sacrifices a round to fine-tune unless forced."""
    start = time.perf_counter()
    demand = instance.demand() if demand is None else demand
    actions = follow(instance, demand)
    return replay(instance, demand, actions, "msip", {}, time_s=time.perf_counter() - start)


def solve_random(instance: ScheduleInstance, seed: int, demand: np.ndarray | None = None) -> ScheduleResult:
    """RS: each round an action drawn uniformly among the feasible ones, from numpy's Generator seeded with `seed`."""
    start = time.perf_counter()
    demand = instance.demand() if demand is None else demand
    core, rng = instance.core, np.random.default_rng(seed)
    levels = np.zeros(core.n_models, dtype=np.int64)
    actions = []
    for row in demand:
        options = list(feasible_actions(core, levels, row))
        action = options[int(rng.integers(len(options)))]
        actions.append(action)
        levels = action.apply(levels)
    return replay(instance, demand, actions, "rs", {"seed": seed}, time_s=time.perf_counter() - start)


def random_summary(instance: ScheduleInstance, seed: int, runs: int, demand: np.ndarray | None = None) -> PolicySummary:
    """RS totals over seeds seed..seed+runs-1 on one request sequence."""
    totals = [solve_random(instance, seed + i, demand).total for i in range(runs)]
    return PolicySummary.of("rs", {}, seed, totals)


def replay_labels(instance: ScheduleInstance, labels: str, policy: str = "given", demand: np.ndarray | None = None) -> ScheduleResult:
    """A schedule written in the paper's notation ('a b a C ...'), checked against the rules and scored."""
    demand = instance.demand() if demand is None else demand
    actions = [parse_label(label, instance.core.names) for label in labels.split()]
    return replay(instance, demand, actions, policy, {"schedule": labels})
