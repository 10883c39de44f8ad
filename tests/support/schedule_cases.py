"""Small service-priority instances and a brute force over every action sequence, for the schedule tests."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from gaisnet_opt.schedule import EdgeModel, ScheduleInstance
from gaisnet_opt.schedule.actions import Action

EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
"""Examples per schedule property test."""


@st.composite
def instances(draw, max_rounds: int = 4) -> ScheduleInstance:
    """Small instances with integer profits and costs, so ties are exact."""
    n_models = draw(st.integers(1, 3))
    models = []
    for i in range(n_models):
        cap = draw(st.integers(0, 2))
        table = draw(st.lists(st.integers(-20, 100), min_size=cap + 1, max_size=cap + 1))
        models.append(EdgeModel(name="ABC"[i], cap=cap, finetune_cost=draw(st.integers(0, 60)), profit=tuple(map(float, table))))
    rounds = draw(st.lists(st.lists(st.sampled_from("ABC"[:n_models]), max_size=2), min_size=1, max_size=max_rounds))
    return ScheduleInstance(
        models=tuple(models),
        capacity=draw(st.integers(1, 2)),
        idle_allowed=draw(st.booleans()),
        requests=tuple(tuple(r) for r in rounds),
    )


def rule_actions(inst: ScheduleInstance, levels: tuple[int, ...], row: np.ndarray) -> set[Action]:
    """The round's actions straight from the rules in instance.py, written independently of actions.py."""
    m_all = range(len(inst.models))
    out = set()
    below = [m for m in m_all if levels[m] < inst.models[m].cap]
    room = min(inst.capacity, int(row.sum()) + len(below))
    for ft_mask in itertools.product((0, 1), repeat=len(inst.models)):
        finetune = tuple(m for m in m_all if ft_mask[m])
        if any(m not in below for m in finetune):
            continue
        for serve in itertools.product(*(range(int(n) + 1) for n in row)):
            used = len(finetune) + sum(serve)
            if used <= inst.capacity and (inst.idle_allowed or used == room):
                out.add(Action(finetune, tuple(serve)))
    return out


def brute_force(inst: ScheduleInstance) -> tuple[float, int]:
    """Best total over every action sequence, and how many sequences reach it."""
    demand = inst.demand()
    best, count = -np.inf, 0

    def walk(t: int, levels: tuple[int, ...], total: float) -> None:
        nonlocal best, count
        if t == len(demand):
            if total > best:
                best, count = total, 1
            elif total == best:
                count += 1
            return
        for a in rule_actions(inst, levels, demand[t]):
            gain = sum(n * inst.models[m].profits[levels[m]] for m, n in enumerate(a.serve))
            gain -= sum(inst.models[m].finetune_cost for m in a.finetune)
            walk(t + 1, tuple(lv + (m in a.finetune) for m, lv in enumerate(levels)), total + gain)

    walk(0, (0,) * len(inst.models), 0.0)
    return best, count
