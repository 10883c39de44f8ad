"""A latency-energy Pareto front of one round, by the ε-constraint method over the exact solver.

The two ends are the least energy at the exact minimum round latency (a
second solve, with that latency as the deadline) and the exact minimum of the
energy without a deadline; between them the energy is
minimized subject to round-latency deadlines spread evenly over that range
(`Objective(kind="energy", deadline_s=d)`; V. Chankong, Y. Y. Haimes,
"Multiobjective Decision Making", 1983, ch. 4). Points no other point
dominates form the front. Each point keeps the solver's status: a point whose
solve ran out of time is a feasible plan, not a proven optimum, and its place
on the front is only an upper estimate.

For a campaign, the round is that of one service choice: fine-tune one
domain's model and serve the round's requests, on the network the dynamics
bring (batteries full, as no policy has drained them).
"""

from __future__ import annotations

from dataclasses import dataclass

from gaisnet_opt.campaign.dynamics import trajectory
from gaisnet_opt.campaign.network import round_scenario, with_service
from gaisnet_opt.campaign.planner import Method, solve_exact
from gaisnet_opt.campaign.spec import CampaignSpec
from gaisnet_opt.campaign.world import build_world
from gaisnet_opt.cost import round_cost
from gaisnet_opt.params import SolveParams
from gaisnet_opt.plan import Plan
from gaisnet_opt.result import Objective
from gaisnet_opt.scenario import InferenceRequest, Scenario

DEADLINE_SLACK = 1e-6
"""Relative slack on the minimum latency when it becomes the deadline (the solvers meet deadlines to a tolerance)."""


@dataclass(frozen=True)
class FrontPoint:
    """One solve: its deadline (None: an end of the range), the plan's latency and energy, status and seconds."""

    deadline_s: float | None
    objective: str
    latency_s: float
    energy_j: float
    status: str
    time_s: float
    plan: Plan


def _point(scenario: Scenario, objective: Objective, method: Method, params: SolveParams) -> FrontPoint | None:
    res = solve_exact(scenario, method, objective, params)
    if res.plan is None:
        return None
    cost = round_cost(scenario, res.plan)
    return FrontPoint(objective.deadline_s, objective.kind, cost.latency_s, cost.energy_j, res.status, res.time_s, res.plan)


def epsilon_front(scenario: Scenario, points: int = 6, method: Method = "cpsat", *,
                  params: SolveParams = SolveParams(time_limit_s=10.0)) -> list[FrontPoint]:
    """Every solve of the ε-constraint sweep, fastest end first (at most `points` of them, at least the two ends;
    each solve gets `params`)."""
    fast = _point(scenario, Objective(kind="latency"), method, params)
    frugal = _point(scenario, Objective(kind="energy"), method, params)
    ends = [p for p in (fast, frugal) if p is not None]
    if fast is None or frugal is None or frugal.latency_s <= fast.latency_s:
        return ends
    lo, hi = fast.latency_s, frugal.latency_s
    fast = _point(scenario, Objective(kind="energy", deadline_s=lo * (1 + DEADLINE_SLACK)), method, params) or fast
    inner = []
    for k in range(1, max(2, points) - 1):
        deadline = lo + (hi - lo) * k / (max(2, points) - 1)
        p = _point(scenario, Objective(kind="energy", deadline_s=deadline), method, params)
        if p is not None:
            inner.append(p)
    return [fast, *inner, frugal]


def nondominated(points: list[FrontPoint]) -> list[FrontPoint]:
    """The points no other point beats in latency and energy at once (one of equal pairs), by latency."""
    out: list[FrontPoint] = []
    for p in sorted(points, key=lambda p: (p.latency_s, p.energy_j)):
        if not out or p.energy_j < out[-1].energy_j:
            out.append(p)
    return out


def campaign_round(spec: CampaignSpec, domain: str, t: int = 1) -> Scenario:
    """Round `t`'s scenario of fine-tuning `domain`'s model and serving the round's requests (batteries full)."""
    world = build_world(spec)
    traj = trajectory(world, spec.dynamics, t, spec.seed)
    requests = {a.client: InferenceRequest(samples=a.samples) for a in traj.arrivals[t - 1]}
    scn = round_scenario(world, traj.positions[t - 1], traj.online_ids(world, t), requests, world.base.finetune,
                         f"{spec.name}-r{t}-{domain}")
    sources = set(world.domain(domain).sources)
    nodes = tuple(n.model_copy(update={"data": n.data if n.id in sources else None}) for n in scn.nodes)
    clusters = world.domain(domain).spec.clusters if any(n.data is not None for n in nodes) else 0
    return with_service(scn.model_copy(update={"nodes": nodes}), clusters,
                        scn.finetune.deadline_s if scn.finetune is not None else None)
