"""The service policy bridge: a round's plan and the accuracy curves as a service-priority instance, and its decision.

The round's plan holds a fine-tuning service per domain and an inference
cluster per request it could serve. Each is an offer, priced as its own
service (`schedule.pricing.plan_price` on its clusters: the cost model's
latency and energy at the document's prices) plus the migration it needs.
The policy (docs/model.md §6) sees them as a `ScheduleInstance` rebased at
the current levels: model m's level 0 is its current level ℓ_m, fine-tuning
costs its offer's price, and serving one of its requests earns
v(ℓ) = value_per_correct · acc_m(ℓ) · Q̄_m − p̄_m, with acc_m the model's
gain curve, Q̄_m the expected inputs of a request (the middle of the
domain's range: one table serves every round of the window, and this
round's few requests would bias the rounds after it) and p̄_m the mean price
of this round's requests for m (else of the last round that had some). The
current round's requests are known; the rest of the window is the Poisson
forecast (rate_m requests a round). Which of m's requests are served is
then the most profitable ones by their own inputs and price (`chosen`). A model with no fine-tuning
offer this round (no source in reach) has cap 0 in this round's instance.

Policies: `mlcp`, the exact long-term optimum of that window, re-planned every
round. Its future is either the forecast's expected request counts (`expected`:
`schedule.rolling` as it is, a certainty equivalent) or, by default, the mean
of the window's optimum over sampled Poisson request sequences, each solved
by the MLCP dynamic program (`sampled`: an anticipatory algorithm, P. Van
Hentenryck, R. Bent, "Online Stochastic Combinatorial Optimization", MIT
Press 2006). Expected counts hide the rounds in which one model's requests
are the only ones: with 2 slots and one request a round expected for each of
three models, the two best models always fill the slots and tuning the third
is worth nothing, which real arrivals deny. `msip`, the best immediate
profit; `rs`, a uniform feasible action (seeded per round); `fixed`, the
open-loop baseline: the fine-tunings MLCP schedules before round 1 for the
whole campaign on the prior curves, round 1's prices and the forecast,
never revised, each round's other slots serving by immediate profit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from gaisnet_opt.campaign.curves import GainCurves
from gaisnet_opt.campaign.migration import Migration
from gaisnet_opt.campaign.spec import Forecasting, PolicyName
from gaisnet_opt.campaign.world import DomainWorld
from gaisnet_opt.plan import Cluster, Plan
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.schedule.actions import feasible_actions
from gaisnet_opt.schedule.dp import MAX_STATES, StateSpace, lookahead_action, tolerance, value_functions
from gaisnet_opt.schedule.instance import EdgeModel, Forecast, ScheduleInstance
from gaisnet_opt.schedule.policies import solve_msip, solve_random
from gaisnet_opt.schedule.pricing import Prices, plan_price
from gaisnet_opt.schedule.result import RoundDecision, replay
from gaisnet_opt.schedule.rolling import solve_rolling


@dataclass(frozen=True)
class Offer:
    """A service the round's plan can perform: fine-tune a domain's model, or serve one request."""

    kind: Literal["finetune", "serve"]
    domain: str
    clusters: tuple[Cluster, ...]
    price: float
    client: str | None = None
    samples: int = 0


def offers(scenario: Scenario, plan: Plan, domain_of: Mapping[str, str], asked: Mapping[str, str], prices: Prices,
           migration: Callable[[Iterable[Cluster]], Migration]) -> list[Offer]:
    """Every service in `plan`, priced: one per domain with fine-tuning clusters, one per inference cluster.

    `asked` maps each requester to its request's domain.
    """
    out = []
    by_domain: dict[str, list[Cluster]] = {}
    for c in plan.clusters:
        if c.kind == "finetune":
            by_domain.setdefault(domain_of[c.start], []).append(c)
    for domain, clusters in by_domain.items():
        out.append(Offer("finetune", domain, tuple(clusters), _price(scenario, clusters, prices, migration)))
    for c in plan.clusters:
        if c.kind == "inference":
            request = scenario.node[c.start].request
            assert request is not None
            out.append(Offer("serve", asked[c.start], (c,), _price(scenario, [c], prices, migration), c.start,
                             request.samples))
    return out


def _price(scenario: Scenario, clusters: list[Cluster], prices: Prices,
           migration: Callable[[Iterable[Cluster]], Migration]) -> float:
    moved = migration(clusters)
    return (plan_price(scenario, Plan(clusters=tuple(clusters)), prices)
            + prices.per_second * moved.seconds + prices.per_joule * moved.joules)


def request_value(domain: DomainWorld, curves: GainCurves, offer: Offer) -> float:
    """What serving `offer` earns at the model's current level: right answers expected, less its price."""
    return domain.spec.value_per_correct * curves.now(domain.name) * offer.samples - offer.price


@dataclass(frozen=True)
class RoundProblem:
    """One round's decision problem: the rebased instance, this round's request counts, and the offers behind it."""

    instance: ScheduleInstance
    demand: np.ndarray
    offers: tuple[Offer, ...]
    rates: tuple[float, ...]
    """the Poisson rate of each model's requests, instance order"""


def round_problem(domains: Sequence[DomainWorld], curves: GainCurves, offered: Sequence[Offer],
                  levels_left: Mapping[str, int], horizon: int, capacity: int, idle_allowed: bool,
                  serve_price: Mapping[str, float], name: str) -> RoundProblem:
    """The instance over `horizon` rounds from now (this one first) at the current levels."""
    models, asked = [], []
    for d in domains:
        serve = [o for o in offered if o.kind == "serve" and o.domain == d.name]
        tune = next((o for o in offered if o.kind == "finetune" and o.domain == d.name), None)
        samples = sum(d.spec.requests.samples) / 2
        price = float(np.mean([o.price for o in serve])) if serve else serve_price.get(d.name, 0.0)
        cap = min(levels_left[d.name], horizon) if tune is not None else 0
        level = curves.level(d.name)
        value = [d.spec.value_per_correct * curves.at(d.name, level + j) * samples - price for j in range(cap + 1)]
        models.append(EdgeModel(name=d.name, cap=cap, finetune_cost=tune.price if tune else 0.0, profit=tuple(value)))
        asked += [d.name] * len(serve)
    rates = {d.name: d.spec.requests.rate for d in domains}
    per_round = max(1, math.ceil(sum(rates.values())))
    forecast = Forecast(probabilities=tuple({m: r / per_round for m, r in rates.items()} for _ in range(horizon)),
                        requests_per_round=per_round)
    instance = ScheduleInstance(name=name, models=tuple(models), capacity=capacity, idle_allowed=idle_allowed,
                                requests=(tuple(asked), *(() for _ in range(horizon - 1))), forecast=forecast)
    return RoundProblem(instance, instance.counts([list(asked)]), tuple(offered), tuple(rates.values()))


def decide(policy: PolicyName, problem: RoundProblem, seed: int, planned: Sequence[str] = (),
           forecast: Forecasting = "sampled", samples: int = 64) -> RoundDecision:
    """`policy`'s action for the round (`planned`: the fixed baseline's fine-tunings; `forecast`, `samples`: MLCP's)."""
    inst, demand = problem.instance, problem.demand
    match policy:
        case "mlcp" if forecast == "expected":
            return solve_rolling(inst, demand).rounds[0]
        case "mlcp":
            return _anticipatory(problem, seed, samples)
        case "msip":
            return solve_msip(inst, demand).rounds[0]
        case "rs":
            return solve_random(inst, seed, demand).rounds[0]
        case "fixed":
            return _fixed(inst, demand, planned)
    raise ValueError(f"unknown policy {policy!r}")


def _anticipatory(problem: RoundProblem, seed: int, samples: int) -> RoundDecision:
    """The first action maximizing its profit plus the window's optimum from its levels, averaged over `samples`
    Poisson request sequences for the rounds after this one (drawn from numpy's Generator seeded with `seed`)."""
    inst, demand = problem.instance, problem.demand
    core = inst.core
    space = StateSpace(core)
    ahead = inst.horizon - 1
    future = np.zeros(space.size)
    if ahead:
        draws = np.random.default_rng(seed).poisson(problem.rates, size=(samples, ahead, core.n_models))
        future = np.mean([value_functions(space, d.astype(float))[0][0] for d in draws], axis=0)
    action = lookahead_action(core, np.zeros(core.n_models, dtype=np.int64), demand[0], tolerance(core, inst.horizon),
                              lambda levels: float(future[space.index(levels)]))
    return replay(inst, demand, [action], "mlcp", {"forecast": "sampled", "samples": samples}).rounds[0]


def _fixed(inst: ScheduleInstance, demand: np.ndarray, planned: Sequence[str]) -> RoundDecision:
    """The best immediate action that fine-tunes what was planned and can be; MSIP's if none does."""
    core = inst.core
    levels = np.zeros(core.n_models, dtype=np.int64)
    wanted = tuple(sorted(inst.index[m] for m in planned if core.caps[inst.index[m]] > 0))
    best, best_value = None, -math.inf
    for action in feasible_actions(core, levels, demand[0]):
        if action.finetune == wanted and action.profit(core, levels) > best_value:
            best, best_value = action, action.profit(core, levels)
    if best is None:
        return solve_msip(inst, demand).rounds[0]
    return replay(inst, demand, [best], "fixed").rounds[0]


def open_loop_levels(models: int) -> int:
    """The most fine-tuning levels per model the open-loop schedule can plan for `models` models (MLCP's state space)."""
    per_model = int(MAX_STATES ** (1 / models)) + 1  # level vectors per model, from above
    while per_model**models > MAX_STATES:
        per_model -= 1
    return per_model - 1


def open_loop_schedule(problem: RoundProblem, rounds: int) -> list[tuple[str, ...]]:
    """The fixed baseline's fine-tunings per round, planned once on `problem` (round 1's, over all `rounds`)
    with the forecast's expected requests (rounded) after round 1."""
    inst = problem.instance
    expected = np.rint(inst.expected_demand()).astype(np.int64)
    demand = np.vstack([problem.demand, expected[1:rounds]])
    return [d.finetune for d in solve_rolling(inst, demand).rounds]


def chosen(decision: RoundDecision, problem: RoundProblem, domains: Sequence[DomainWorld],
           curves: GainCurves) -> list[Offer]:
    """The offers the decision takes: its fine-tunings, and for each model its most profitable requests."""
    out = [o for o in problem.offers if o.kind == "finetune" and o.domain in decision.finetune]
    for d in domains:
        n = decision.serve.count(d.name)
        serve = [o for o in problem.offers if o.kind == "serve" and o.domain == d.name]
        serve.sort(key=lambda o: (-request_value(d, curves, o), o.client or ""))
        out += serve[:n]
    return out
