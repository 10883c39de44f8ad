"""MLCP by DP = MILP = brute force on short horizons; the heuristics never beat it."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaisnet_opt.schedule import EdgeModel, ScheduleInstance, solve_schedule
from gaisnet_opt.schedule.actions import Action, feasible_actions
from gaisnet_opt.schedule.examples import paper_table5
from gaisnet_opt.schedule.milp import solve_milp

EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


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


@EXAMPLES
@given(instances())
def test_dp_equals_milp_equals_brute_force(inst: ScheduleInstance) -> None:
    best, count = brute_force(inst)
    dp = solve_schedule(inst, "mlcp")
    milp = solve_schedule(inst, "mlcp-milp")
    assert dp.total == best
    assert milp.total == best
    assert milp.status == "optimal"
    assert dp.optimal_schedules is not None and dp.optimal_schedules.count == count
    assert dp.optimal_schedules.exact


@EXAMPLES
@given(instances(), st.data())
def test_feasible_actions_follow_the_rules(inst: ScheduleInstance, data: st.DataObject) -> None:
    levels = tuple(data.draw(st.integers(0, m.cap)) for m in inst.models)
    row = inst.demand()[0]
    listed = list(feasible_actions(inst.core, np.array(levels), row))
    assert len(listed) == len(set(listed)), "no action listed twice"
    assert set(listed) == rule_actions(inst, levels, row)


@EXAMPLES
@given(instances(max_rounds=6), st.integers(0, 2**32 - 1))
def test_heuristics_never_beat_mlcp(inst: ScheduleInstance, seed: int) -> None:
    best = solve_schedule(inst, "mlcp").total
    assert solve_schedule(inst, "msip").total <= best
    assert solve_schedule(inst, "rs", seed=seed).total <= best


def test_goal_size_solves_exactly() -> None:  # its time is benchmarks/schedule_bench.py's to measure
    rng = np.random.default_rng(7)
    models = tuple(
        EdgeModel(name=f"m{i}", cap=5, finetune_cost=float(rng.integers(10, 60)), profit=tuple(map(float, np.sort(rng.integers(0, 100, 6)))))
        for i in range(5)
    )
    requests = tuple((f"m{int(rng.integers(5))}",) for _ in range(200))
    result = solve_schedule(ScheduleInstance(models=models, requests=requests), "mlcp")
    assert result.status == "optimal"
    assert result.total >= solve_schedule(ScheduleInstance(models=models, requests=requests), "msip").total


def test_dp_handles_rounds_without_requests_and_full_caps() -> None:
    model = EdgeModel(name="A", cap=1, finetune_cost=10.0, profit=(5.0, 30.0))
    inst = ScheduleInstance(models=(model,), requests=((), ("A",), (), ("A",)))
    result = solve_schedule(inst, "mlcp")
    # round 1 must fine-tune (no request, a slot to fill); round 3 has nothing to do
    assert result.labels == ["a", "A", "-", "A"]
    assert result.total == -10.0 + 30.0 + 30.0


def test_milp_out_of_time_returns_a_feasible_schedule() -> None:
    inst = paper_table5()
    r = solve_milp(inst, time_limit_s=0.0)  # HiGHS stops before any incumbent
    assert r.status == "feasible" and r.policy == "mlcp-milp"
    assert "incumbent" in r.params
    assert r.total == solve_schedule(inst, "msip").total <= solve_schedule(inst, "mlcp").total
    assert r.bound is None or r.bound >= solve_schedule(inst, "mlcp").total - 1e-9
