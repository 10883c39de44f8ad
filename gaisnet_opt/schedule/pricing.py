"""Costs and profits from the rest of the toolkit, so a schedule prices what the plans really cost.

c_m = price of the fine-tuning plan's round (latency and energy from the one
cost model, `gaisnet_opt.cost.round_cost`, weighted by the user's prices);
v(m, ℓ) = value_per_correct · accuracy(ℓ) · samples − price of the inference
plan's round, with accuracy(ℓ) an accuracy-gain curve (the accuracy after ℓ
fine-tuning rounds, ℓ = 0..cap), such as the validator measures.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveInt

from gaisnet_opt.cost import round_cost
from gaisnet_opt.errors import fail
from gaisnet_opt.plan import Plan
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.schedule.instance import EdgeModel

Accuracy = Annotated[float, Field(ge=0.0, le=1.0)]


class Prices(BaseModel):
    """What a second of round latency and a joule of energy cost, in profit units."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_second: NonNegativeFloat = 0.0
    per_joule: NonNegativeFloat = 0.0


class ProfitSpec(BaseModel):
    """How an edge model earns: value of a correct answer, accuracy per fine-tuning level, and the prices."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value_per_correct: NonNegativeFloat
    accuracy: tuple[Accuracy, ...] = Field(min_length=1, description="accuracy at levels 0..cap")
    samples: PositiveInt | None = Field(default=None, description="samples per inference service; None: the inference plan's requests")
    prices: Prices = Prices()


def plan_price(scenario: Scenario, plan: Plan, prices: Prices) -> float:
    """The price of one round of `plan`: its latency and energy by the cost model, weighted by `prices`."""
    cost = round_cost(scenario, plan)
    return prices.per_second * cost.latency_s + prices.per_joule * cost.energy_j


def requested_samples(scenario: Scenario, plan: Plan) -> int:
    """Samples the plan's inference clusters classify (their start points' requests)."""
    requests = (scenario.node[c.start].request for c in plan.clusters if c.kind == "inference")
    return sum(r.samples for r in requests if r is not None)


def edge_model_from_plans(name: str, scenario: Scenario, finetune_plan: Plan, inference_plan: Plan, spec: ProfitSpec) -> EdgeModel:
    """An edge model whose cap is the curve's last level, priced by the two plans."""
    samples = spec.samples or requested_samples(scenario, inference_plan)
    if samples == 0:
        fail("ProfitSpec", ("samples",), "the inference plan serves no request; give samples", 0)
    serve_price = plan_price(scenario, inference_plan, spec.prices)
    return EdgeModel(
        name=name,
        cap=len(spec.accuracy) - 1,
        finetune_cost=plan_price(scenario, finetune_plan, spec.prices),
        profit=tuple(spec.value_per_correct * acc * samples - serve_price for acc in spec.accuracy),
    )
