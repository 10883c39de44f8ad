"""The floor from the exact chain search is never below the previous Pareto-sweep floor (kept as an oracle)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from gaisnet_opt.bounds.floor import floors
from gaisnet_opt.instances.split_table import TableCache
from gaisnet_opt.solvers.service import cluster_range
from tests.support.joint_cases import scenarios
from tests.support.old_floor import old_floors


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_the_floor_is_at_least_the_old_one(scenario):
    lo, _ = cluster_range(scenario)
    new = floors(scenario, lo)
    old = old_floors(scenario, TableCache(scenario), lo)
    for a, b in zip(new, old, strict=True):
        assert a >= b * (1 - 1e-9)


def test_a_spent_budget_stops_the_floor():
    from gaisnet_opt.budget import Budget, OutOfTime
    from gaisnet_opt.generator import generate

    scenario = generate(30, seed=5)
    ticks = iter(range(10**6))
    budget = Budget(0.5, clock=lambda: float(next(ticks)))  # one tick per reading: spent at the first check
    try:
        floors(scenario, 1, budget)
    except OutOfTime as stop:
        assert stop.phase == "setup"
    else:
        raise AssertionError("the floor ignored a spent budget")
