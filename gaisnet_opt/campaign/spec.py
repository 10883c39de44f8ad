"""The campaign document (docs/model.md §9): a scenario, the edge models' domains, the dynamics and the policy settings.

A campaign references a scenario file, embeds one, or asks the generator for
one; it adds the domains (one edge model each, with its own data sources and
request stream), the network's dynamics (mobility, churn, batteries), the
service policies to compare, the prices, the planner's and the validator's
settings. Every field is validated with its path, like every other document
(`gaisnet_opt.io`); what needs the scenario (known node ids, class labels of
the profile) is checked when the campaign's world is built (`world.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    Tag,
    model_validator,
)

from gaisnet_opt.campaign.curves import GainModel
from gaisnet_opt.errors import FieldProblem, raise_problems
from gaisnet_opt.scenario import Scenario, Training
from gaisnet_opt.schedule.dp import MAX_STATES
from gaisnet_opt.schedule.pricing import Prices

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
PolicyName = Literal["mlcp", "msip", "rs", "fixed"]
Forecasting = Literal["sampled", "expected"]
POLICY_NAMES: tuple[PolicyName, ...] = ("mlcp", "msip", "rs", "fixed")


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _ordered(pair: tuple[float, float], field: str, title: str) -> None:
    if pair[0] > pair[1]:
        raise_problems(title, [FieldProblem((field,), f"low end {pair[0]} exceeds high end {pair[1]}", list(pair))])


class RequestStream(_Doc):
    """A domain's inference requests: a Poisson process of `rate` requests per round, each of `samples` inputs."""

    rate: NonNegativeFloat = Field(default=1.0, allow_inf_nan=False, description="mean requests per round (Poisson)")
    samples: tuple[PositiveInt, PositiveInt] = Field(default=(8, 32), description="inputs per request, uniform in [lo, hi]")

    @model_validator(mode="after")
    def _range(self) -> RequestStream:
        _ordered(self.samples, "samples", "RequestStream")
        return self


class Domain(_Doc):
    """One edge model: its task (classes of a data set), its data sources, its requests, what a right answer earns."""

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$",
                      description="starts with a letter: lowercase fine-tunes, uppercase serves in schedule labels")
    data: str = Field(default="digits", description="'digits' or an ImageFolder directory (relative to the document)")
    classes: tuple[NonNegativeInt, ...] | None = Field(
        default=None, min_length=1, description="the task's class labels (digits: a subset of 0..9); None: every class")
    sources: PositiveInt | tuple[str, ...] | None = Field(
        default=None, description="data-source clients: a count drawn from the clients (seeded), their ids, or None: "
        "the scenario's own data sources dealt to the domains in turn")
    samples: PositiveInt = Field(default=100, description="local samples per data source")
    clusters: PositiveInt = Field(default=1, description="fine-tuning clusters a fine-tuning service of this model forms")
    requests: RequestStream = RequestStream()
    value_per_correct: NonNegativeFloat = Field(default=1.0, allow_inf_nan=False, description="profit of one right answer")
    prior_gain: Probability = Field(default=0.5, description="share of the gap to `ceiling` one fine-tuning round is "
                                    "expected to close before any is measured")
    ceiling: Annotated[float, Field(gt=0.0, le=1.0)] = Field(default=1.0, description="accuracy the curve tends to")


class RandomWaypoint(_Doc):
    """Random Waypoint (Johnson & Maltz 1996; Camp, Boleng & Davies 2002): go to a uniform point at a uniform speed, pause."""

    model: Literal["random-waypoint"] = "random-waypoint"
    speed_mps: tuple[PositiveFloat, PositiveFloat] = Field(
        default=(0.5, 1.5), description="uniform in [lo, hi]; lo > 0 (Yoon, Liu & Noble 2003: a zero minimum decays)")
    pause_s: tuple[NonNegativeFloat, NonNegativeFloat] = (0.0, 30.0)

    @model_validator(mode="after")
    def _ranges(self) -> RandomWaypoint:
        _ordered(self.speed_mps, "speed_mps", "RandomWaypoint")
        _ordered(self.pause_s, "pause_s", "RandomWaypoint")
        return self


class GaussMarkov(_Doc):
    """Gauss-Markov (Liang & Haas 1999; Camp et al. 2002 §2.5): speed and direction are AR(1) around their means."""

    model: Literal["gauss-markov"] = "gauss-markov"
    mean_speed_mps: PositiveFloat = 1.0
    memory: Probability = Field(default=0.75, description="alpha: 0 is a random walk, 1 a straight line")
    speed_sd_mps: NonNegativeFloat = 0.5
    direction_sd_rad: NonNegativeFloat = 0.5
    step_s: PositiveFloat = Field(default=1.0, description="seconds between updates")


class Static(_Doc):
    """Nobody moves."""

    model: Literal["static"] = "static"


Mobility = Annotated[RandomWaypoint | GaussMarkov | Static, Field(discriminator="model")]


class Churn(_Doc):
    """Clients come and go: each is online or offline, a two-state Markov chain per round (the on/off churn model)."""

    leave: Probability = Field(default=0.0, description="P(online -> offline) per round")
    join: Probability = Field(default=0.0, description="P(offline -> online) per round")
    initially_offline: Probability = Field(default=0.0, description="share of the clients offline in round 1")


class Battery(_Doc):
    """An energy budget per client, drained by the energy the cost model charges it; below `reserve_j` it sits out."""

    capacity_j: tuple[PositiveFloat, PositiveFloat] = Field(description="initial charge, uniform in [lo, hi] joules")
    reserve_j: NonNegativeFloat = Field(default=0.0, description="a client below this charge takes no part")
    recharge_w: NonNegativeFloat = Field(default=0.0, description="watts a client gains in every round it is not planned")

    @model_validator(mode="after")
    def _range(self) -> Battery:
        _ordered(self.capacity_j, "capacity_j", "Battery")
        return self


class Dynamics(_Doc):
    """How the network changes between rounds; every draw is seeded by the campaign's seed."""

    round_s: PositiveFloat = Field(default=60.0, description="seconds between the starts of two rounds (mobility)")
    mobility: Mobility = Static()
    churn: Churn = Churn()
    battery: Battery | None = None
    area_m: tuple[PositiveFloat, PositiveFloat] | None = Field(
        default=None, description="width and height clients move in; None: the generator's square, else the nodes' box")


class PolicySettings(_Doc):
    """The service policies compared (docs/model.md §6) and the rules of a round's services."""

    policies: tuple[PolicyName, ...] = Field(default=POLICY_NAMES, min_length=1)
    capacity: PositiveInt = Field(default=1, description="services per round (the paper: 1)")
    window: PositiveInt = Field(default=5, description="MLCP's rolling horizon, rounds ahead including the current one")
    idle_allowed: bool = False
    cap: PositiveInt | None = Field(default=None, description="highest fine-tuning level of a model; None: the rounds")
    forecast: Forecasting = Field(default="sampled", description="MLCP's future requests: 'sampled' Poisson sequences "
                                  "(the mean of their optima) or the 'expected' counts (schedule.rolling)")
    samples: PositiveInt = Field(default=64, description="request sequences MLCP samples a round ('sampled')")
    gain_model: GainModel = Field(default="pooled", description="how accuracy beyond the measured is expected: "
                                  "'pooled' (each round's gain as every model measured it) or 'own' (one rate per model)")

    @model_validator(mode="after")
    def _unique(self) -> PolicySettings:
        seen = [p for i, p in enumerate(self.policies) if p in self.policies[:i]]
        if seen:
            raise_problems("PolicySettings", [FieldProblem(("policies",), f"'{seen[0]}' is listed twice", seen[0])])
        return self


class PlannerSettings(_Doc):
    """How each round is planned: objective, time, and the weight of stability (migration) against it."""

    objective: Literal["latency", "energy", "weighted"] = "latency"
    alpha: NonNegativeFloat = 1.0
    beta: NonNegativeFloat = 1.0
    time_limit_s: NonNegativeFloat = Field(
        default=5.0, description="cap on a re-plan's local search, which ends sooner when its iterated search does "
        "(the plan then depends on the seed alone, not on the host's speed); 0: construct only")
    stability: NonNegativeFloat = Field(
        default=0.0, description="weight of the migration added to the round's objective, in its units: the air "
        "seconds of the deliveries (latency), their joules (energy), or alpha·seconds + beta·joules (weighted)")
    warm_start: bool = Field(default=True, description="start each re-plan from the last plan (False: from scratch)")


class ValidatorSettings(_Doc):
    """How the chosen plans are trained for real (docs/model.md §8)."""

    checkpoint: str | None = Field(default=None, description="pre-trained backbone (relative to the document)")
    pretrain_epochs: NonNegativeInt = Field(default=0, description="without a checkpoint: pre-train this many epochs first")
    lr: PositiveFloat = 1e-2


class GenerateSpec(_Doc):
    """A scenario from the generator (`gaisnet_opt.generator.generate`), its clients' memory optionally capped."""

    clients: PositiveInt
    seed: int = 0
    profile: str | None = Field(default=None, description="a built-in profile name; None: the tiny digits ViT's")
    client_memory_bytes: PositiveFloat | None = Field(default=None, description="cap on every client's memory")
    area_per_client_m2: PositiveFloat = 2500.0
    edge_slots: NonNegativeInt = 2
    training: Training = Training(batch_size=10, local_iters=10)


def _scenario_kind(value: object) -> str:
    if isinstance(value, str):
        return "path"
    if isinstance(value, Scenario) or (isinstance(value, dict) and "nodes" in value):
        return "scenario"
    return "generate"


ScenarioSource = Annotated[
    Annotated[str, Tag("path")] | Annotated[Scenario, Tag("scenario")] | Annotated[GenerateSpec, Tag("generate")],
    Discriminator(_scenario_kind),
]
"""A path (relative to the document), an embedded scenario (it has `nodes`), or generator arguments."""


class CampaignSpec(_Doc):
    """Everything a campaign needs; `gaisnet-opt schema campaign` would print its JSON Schema."""

    name: str = "campaign"
    scenario: ScenarioSource
    domains: tuple[Domain, ...] = Field(min_length=1)
    dynamics: Dynamics = Dynamics()
    policy: PolicySettings = PolicySettings()
    planner: PlannerSettings = PlannerSettings()
    prices: Prices = Prices(per_second=1.0, per_joule=1.0)
    validator: ValidatorSettings = ValidatorSettings()
    rounds: PositiveInt = 10
    seed: int = 0

    @model_validator(mode="after")
    def _cross_references(self) -> CampaignSpec:
        raise_problems("CampaignSpec", list(_problems(self)))
        return self


def _problems(spec: CampaignSpec) -> Iterator[FieldProblem]:
    names = [d.name.lower() for d in spec.domains]
    owner: dict[str, int] = {}
    for i, d in enumerate(spec.domains):
        if names.index(names[i]) < i:
            yield FieldProblem(("domains", i, "name"), f"'{d.name}' repeats domains.{names.index(names[i])}'s name "
                               "(case aside)", d.name)
        if isinstance(d.sources, tuple):
            for j, node in enumerate(d.sources):
                if node in owner:
                    yield FieldProblem(("domains", i, "sources", j), f"'{node}' is already a source of domains.{owner[node]}",
                                       node)
                owner.setdefault(node, i)
    states = (spec.policy.window + 1) ** len(spec.domains)
    if states > MAX_STATES:
        yield FieldProblem(("policy", "window"), f"(window + 1)^domains = {states:,} level vectors exceed the MLCP "
                           f"dynamic program's {MAX_STATES:,}", spec.policy.window)
    if any(d.sources is None for d in spec.domains) and not all(d.sources is None for d in spec.domains):
        first = next(i for i, d in enumerate(spec.domains) if d.sources is None)
        yield FieldProblem(("domains", first, "sources"), "give every domain its sources, or none (the scenario's own "
                           "data sources are then dealt to the domains)", None)
