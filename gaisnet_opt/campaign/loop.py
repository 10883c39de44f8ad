"""The campaign loop (docs/model.md §9): T rounds of change, re-plan, decide, execute, learn, for each policy.

Each round: the network moves on (positions, churn, batteries, requests);
the planner re-plans a fine-tuning service per domain and a cluster per
request, from the last plan (`planner.replan`); the offers are priced and
the policy chooses (`service`); the chosen part of the plan is checked and
trained and served for real (`executor`); measured accuracy updates the
domain's curve, energy drains the batteries, the units moved update what the
clients store. Every policy meets the same exogenous dynamics (`dynamics`).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaisnet_opt.campaign.arrivals import Arrival
from gaisnet_opt.campaign.battery import Batteries, node_energy
from gaisnet_opt.campaign.curves import GainCurves
from gaisnet_opt.campaign.dynamics import BATTERY_STREAM, Trajectory, stream, trajectory
from gaisnet_opt.campaign.executor import DomainModel, Executed, backbone
from gaisnet_opt.campaign.migration import Store, migration_of, penalty, stored_after
from gaisnet_opt.campaign.network import round_scenario, with_service
from gaisnet_opt.campaign.planner import Replanned, replan
from gaisnet_opt.campaign.report import (
    CampaignResult,
    DomainRound,
    NetworkRound,
    PolicyRun,
    Replan,
    RoundRecord,
    Spent,
)
from gaisnet_opt.campaign.service import (
    Offer,
    RoundProblem,
    chosen,
    decide,
    offers,
    open_loop_levels,
    open_loop_schedule,
    round_problem,
)
from gaisnet_opt.campaign.spec import CampaignSpec, PolicyName
from gaisnet_opt.campaign.world import World, build_world
from gaisnet_opt.checker import check, deadline_for
from gaisnet_opt.cost import round_cost
from gaisnet_opt.host import host_description, package_versions
from gaisnet_opt.plan import Cluster, Plan
from gaisnet_opt.result import Objective
from gaisnet_opt.scenario import InferenceRequest, Scenario

ROUND_STREAM, DOMAIN_STREAM = 7, 8
VERSIONS = ("numpy", "torch", "timm", "ortools", "highspy", "gaisnet-opt")

Progress = Callable[[str, RoundRecord], None]
"""Called after every round with the policy and the round's record."""


def seed_of(seed: int, stream_id: int, index: int) -> int:
    """A derived integer seed (planner, RS, a domain's model) from the campaign's."""
    return int(np.random.SeedSequence([seed, stream_id, index]).generate_state(1)[0])


@dataclass
class PolicyState:
    """What a policy's campaign carries from round to round."""

    models: dict[str, DomainModel]
    curves: GainCurves
    batteries: Batteries
    store: Store = field(default_factory=dict)
    previous: Plan | None = None
    serve_price: dict[str, float] = field(default_factory=dict)
    open_loop: list[tuple[str, ...]] | None = None
    profit: float = 0.0
    time_s: float = 0.0
    energy_j: float = 0.0
    online: set[str] = field(default_factory=set)


def run_campaign(spec: CampaignSpec, *, policies: Sequence[PolicyName] | None = None,
                 progress: Progress | None = None) -> CampaignResult:
    """Every policy of `spec` (or `policies`) over the campaign's rounds, on the same seeded dynamics.

    Paths in `spec` are read as they are (`load_campaign` makes a document's relative to it).
    """
    world = build_world(spec)
    traj = trajectory(world, spec.dynamics, spec.rounds, spec.seed)
    with tempfile.TemporaryDirectory(prefix="gaisnet-campaign-") as work:
        ckpt = backbone(spec.validator, Path(work), spec.seed)
        runs = [_run_policy(p, spec, world, traj, ckpt, progress) for p in (policies or spec.policy.policies)]
    s = spec.planner
    settings: dict[str, float | int | str | bool | None] = {
        "capacity": spec.policy.capacity, "window": spec.policy.window, "objective": s.objective,
        "stability": s.stability, "time_limit_s": s.time_limit_s, "warm_start": s.warm_start,
        "per_second": spec.prices.per_second, "per_joule": spec.prices.per_joule, "clients": len(world.clients),
        "forecast": spec.policy.forecast, "gain_model": spec.policy.gain_model,
        "mobility": spec.dynamics.mobility.model, "checkpoint": None if ckpt is None else str(ckpt.name)}
    return CampaignResult(name=spec.name, seed=spec.seed, rounds=spec.rounds, domains=[d.name for d in world.domains],
                          settings=settings, runs=runs, host=host_description(), versions=package_versions(VERSIONS))


def _run_policy(policy: PolicyName, spec: CampaignSpec, world: World, traj: Trajectory, ckpt: Path | None,
                progress: Progress | None) -> PolicyRun:
    models = {d.name: DomainModel(d, world.base.profile, ckpt, spec.validator.lr, seed_of(spec.seed, DOMAIN_STREAM, i))
              for i, d in enumerate(world.domains)}
    state = PolicyState(
        models=models,
        curves=GainCurves({d.name: (models[d.name].accuracy,) for d in world.domains},
                          {d.name: d.spec.prior_gain for d in world.domains},
                          {d.name: d.spec.ceiling for d in world.domains}, spec.policy.gain_model),
        batteries=Batteries.drawn(world.clients, spec.dynamics.battery, stream(spec.seed, BATTERY_STREAM)),
        online=set(traj.online_ids(world, 1)))
    records = []
    for t in range(1, spec.rounds + 1):
        record = _round(policy, t, spec, world, traj, state)
        records.append(record)
        if progress is not None:
            progress(policy, record)
    return PolicyRun(policy=policy, rounds=records)


def _objective(spec: CampaignSpec) -> Objective:
    p = spec.planner
    return Objective(kind=p.objective, alpha=p.alpha, beta=p.beta)


def _present(t: int, spec: CampaignSpec, world: World, traj: Trajectory, state: PolicyState) -> tuple[Scenario, dict[str, str]]:
    """The round's scenario (clients online, charged and in reach; their requests) and each requester's domain."""
    reserve = spec.dynamics.battery.reserve_j if spec.dynamics.battery is not None else 0.0
    usable = state.batteries.usable(reserve)
    present = [c for c in traj.online_ids(world, t) if c in usable]
    arrivals = [a for a in traj.arrivals[t - 1] if a.client in usable]
    requests = {a.client: InferenceRequest(samples=a.samples) for a in arrivals}
    scn = round_scenario(world, traj.positions[t - 1], present, requests, world.base.finetune, f"{spec.name}-r{t}")
    return scn, {a.client: a.domain for a in arrivals if a.client in scn.node}


def _plan(policy: PolicyName, t: int, spec: CampaignSpec, world: World, scn: Scenario, state: PolicyState) -> Replanned:
    cap = spec.policy.cap or spec.rounds
    return replan(
        scn, _objective(spec), state.previous if spec.planner.warm_start else None, domain_of=world.domain_of,
        clusters={d.name: d.spec.clusters for d in world.domains if state.models[d.name].rounds < cap},
        penalty=penalty(scn, state.store), stability=spec.planner.stability,
        time_limit=spec.planner.time_limit_s, seed=seed_of(spec.seed, ROUND_STREAM, t), improve=policy != "fixed")


def _decide(policy: PolicyName, t: int, spec: CampaignSpec, world: World, offered: list[Offer],
            state: PolicyState) -> tuple[RoundProblem, list[Offer], str, float]:
    """The policy's choice among the round's offers: the problem, the offers taken, the label, the predicted profit."""
    cap = spec.policy.cap or spec.rounds
    left = {d.name: cap - state.models[d.name].rounds for d in world.domains}

    def problem(horizon: int, most: int) -> RoundProblem:
        levels = {m: min(n, most) for m, n in left.items()}
        return round_problem(world.domains, state.curves, offered, levels, horizon, spec.policy.capacity,
                             spec.policy.idle_allowed, state.serve_price, f"{spec.name}-r{t}")

    now = problem(min(spec.policy.window, spec.rounds - t + 1), cap)
    if policy == "fixed" and state.open_loop is None:
        state.open_loop = open_loop_schedule(problem(spec.rounds, open_loop_levels(len(world.domains))), spec.rounds)
    planned = state.open_loop[t - 1] if state.open_loop is not None else ()
    decision = decide(policy, now, seed_of(spec.seed, ROUND_STREAM, t), planned, spec.policy.forecast,
                      spec.policy.samples)
    return now, chosen(decision, now, world.domains, state.curves), decision.label, decision.profit


def _execute(t: int, world: World, scn: Scenario, taken: list[Offer], state: PolicyState) -> dict[str, Executed]:
    """Each domain's part of the executed plan, trained and served by the validator."""
    out = {}
    for d in world.domains:
        mine = [c for o in taken if o.domain == d.name for c in o.clusters]
        if not mine:
            continue
        tuned = sum(c.kind == "finetune" for c in mine)
        part = Plan(clusters=tuple(mine))
        out[d.name] = state.models[d.name].run(with_service(scn, tuned, deadline_for(scn)), part, t)
    return out


def _round(policy: PolicyName, t: int, spec: CampaignSpec, world: World, traj: Trajectory,
           state: PolicyState) -> RoundRecord:
    t0 = time.perf_counter()
    scn, asked = _present(t, spec, world, traj, state)
    planned = _plan(policy, t, spec, world, scn, state)
    store = state.store
    offered = offers(planned.scenario, planned.plan, world.domain_of, asked, spec.prices,
                     lambda cs: migration_of(planned.scenario, store, cs))
    problem, taken, label, predicted = _decide(policy, t, spec, world, offered, state)
    clusters: list[Cluster] = [c for o in taken for c in o.clusters]
    plan = Plan(clusters=tuple(clusters))
    exec_scn = with_service(scn, sum(c.kind == "finetune" for c in clusters), deadline_for(scn))
    violations = [str(v) for v in check(exec_scn, plan)]
    used = {d.name: state.curves.now(d.name) for d in world.domains}
    levels = {d.name: state.models[d.name].rounds for d in world.domains}
    done = _execute(t, world, exec_scn, taken, state)
    profit = _measured_profit(world, taken, done)
    cost, moved = round_cost(exec_scn, plan), migration_of(exec_scn, store, clusters)
    _learn(world, problem, taken, done, state)
    network = _settle(t, spec, world, traj, state, exec_scn, plan, len(scn.clients))
    state.previous = planned.plan
    state.profit += profit
    state.time_s += moved.seconds + cost.latency_s
    state.energy_j += cost.energy_j + moved.joules
    replanned = Replan(seconds=planned.time_s, kept=planned.kept, repaired=planned.repaired, grown=planned.grown,
                       broken=planned.carried.rules, unservable=len(planned.unserved))
    spent = Spent(latency_s=cost.latency_s, time_s=moved.seconds + cost.latency_s, energy_j=cost.energy_j + moved.joules,
                  cumulative_time_s=state.time_s, cumulative_energy_j=state.energy_j)
    return RoundRecord(
        round=t, action=label, predicted_profit=predicted, profit=profit, cumulative_profit=state.profit,
        network=network, replan=replanned, spent=spent, migration=moved, violations=violations,
        host_s=time.perf_counter() - t0, plan=plan,
        domains=_domain_rounds(world, traj.arrivals[t - 1], problem, taken, done, used, levels))


def _settle(t: int, spec: CampaignSpec, world: World, traj: Trajectory, state: PolicyState, scn: Scenario, plan: Plan,
            present: int) -> NetworkRound:
    """After the executed plan: what the clients store, their batteries, who came and went."""
    state.store = stored_after(scn, state.store, plan)
    battery = spec.dynamics.battery
    recharge = battery.recharge_w * spec.dynamics.round_s if battery is not None else 0.0
    state.batteries = state.batteries.after(node_energy(scn, plan), recharge)
    online = set(traj.online_ids(world, t))
    joined, left = len(online - state.online), len(state.online - online)
    state.online = online
    charge = [q for q in state.batteries.charge.values() if np.isfinite(q)]
    return NetworkRound(online=len(online), present=present, joined=joined, left=left,
                        battery_min_j=min(charge) if charge else None)


def _measured_profit(world: World, taken: list[Offer], done: dict[str, Executed]) -> float:
    """Right answers the validator measured, at each domain's value, less every service's price (migration included)."""
    profit = -sum(o.price for o in taken)
    for d in world.domains:
        if d.name in done:
            profit += d.spec.value_per_correct * sum(r.accuracy * r.samples for r in done[d.name].served)
    return profit


def _learn(world: World, problem: RoundProblem, taken: list[Offer], done: dict[str, Executed], state: PolicyState) -> None:
    """Measured accuracy extends the fine-tuned domains' curves; this round's serve prices become the next hint."""
    for d in world.domains:
        if any(o.kind == "finetune" and o.domain == d.name for o in taken):
            state.curves = state.curves.measure(d.name, done[d.name].accuracy)
        prices = [o.price for o in problem.offers if o.kind == "serve" and o.domain == d.name]
        if prices:
            state.serve_price[d.name] = float(np.mean(prices))


def _domain_rounds(world: World, arrived: Sequence[Arrival], problem: RoundProblem, taken: list[Offer],
                   done: dict[str, Executed], used: dict[str, float], levels: dict[str, int]) -> list[DomainRound]:
    out = []
    for d in world.domains:
        ran = done.get(d.name)
        served = ran.served if ran is not None else ()
        inputs = sum(r.samples for r in served)
        out.append(DomainRound(
            domain=d.name, level=levels[d.name], accuracy_used=used[d.name],
            accuracy=ran.accuracy if ran is not None else used[d.name],
            finetuned=any(o.kind == "finetune" and o.domain == d.name for o in taken),
            arrived=sum(a.domain == d.name for a in arrived),
            offered=sum(o.kind == "serve" and o.domain == d.name for o in problem.offers),
            served=len(served), inference_accuracy=sum(r.accuracy * r.samples for r in served) / inputs if inputs else None,
            train_loss=ran.train_loss if ran is not None else None))
    return out
