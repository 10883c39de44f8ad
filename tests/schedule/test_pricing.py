"""Costs and profits derived from the toolkit's plans and cost model."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gaisnet_opt.cost import round_cost
from gaisnet_opt.plan import Plan, cluster_from_counts
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.schedule import ScheduleInstance, solve_schedule
from gaisnet_opt.schedule.pricing import Prices, ProfitSpec, edge_model_from_plans


@pytest.fixture
def setting(scenario: Scenario) -> tuple[Scenario, Plan, Plan]:
    """The shared tiny world: c0 holds data, c1 asks to classify 4 samples, e0 is the edge server."""
    finetune = Plan(clusters=(cluster_from_counts("finetune", ["c0", "e0"], [1, 2]),))
    inference = Plan(clusters=(cluster_from_counts("inference", ["c1", "e0"], [1, 2]),))
    return scenario, finetune, inference


def test_costs_and_profits_come_from_the_cost_model(setting) -> None:
    scenario, finetune, inference = setting
    prices = Prices(per_second=2.0, per_joule=0.5)
    spec = ProfitSpec(value_per_correct=3.0, accuracy=(0.90, 0.95, 0.97), prices=prices)
    model = edge_model_from_plans("A", scenario, finetune, inference, spec)
    ft, inf = round_cost(scenario, finetune), round_cost(scenario, inference)
    assert ft.latency_s > 0 and ft.energy_j > 0 and inf.latency_s > 0
    assert model.cap == 2
    assert model.finetune_cost == pytest.approx(2.0 * ft.latency_s + 0.5 * ft.energy_j)
    serve = 2.0 * inf.latency_s + 0.5 * inf.energy_j
    assert model.profits == pytest.approx(tuple(3.0 * acc * 4 - serve for acc in spec.accuracy))


def test_a_derived_model_is_scheduled(setting) -> None:
    scenario, finetune, inference = setting
    spec = ProfitSpec(value_per_correct=100.0, accuracy=(0.5, 0.9), samples=4, prices=Prices(per_second=1.0))
    model = edge_model_from_plans("A", scenario, finetune, inference, spec)
    assert model.profits[1] - model.profits[0] == pytest.approx(100.0 * 0.4 * 4)
    inst = ScheduleInstance(models=(model,), requests=(("A",),) * 6)
    result = solve_schedule(inst, "mlcp")
    gain = 5 * (model.profits[1] - model.profits[0])
    assert result.labels[0] == ("a" if gain > model.finetune_cost + model.profits[0] else "A")


def test_bad_profit_spec_is_named() -> None:
    with pytest.raises(ValidationError) as info:
        ProfitSpec(value_per_correct=-1.0, accuracy=(0.5, 1.2))
    where = {tuple(e["loc"]) for e in info.value.errors()}
    assert where == {("value_per_correct",), ("accuracy", 1)}


def test_inference_plan_without_requests_needs_samples(setting) -> None:
    scenario, finetune, _ = setting
    with pytest.raises(ValidationError, match="samples"):
        edge_model_from_plans("A", scenario, finetune, Plan(), ProfitSpec(value_per_correct=1.0, accuracy=(0.5,)))
