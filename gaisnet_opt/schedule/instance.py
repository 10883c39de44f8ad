"""A service-priority instance (docs/model.md §6): edge models, their costs and profits, and the requests per round.

Rules every policy obeys (the paper's Table V, generalized):

- Model m has a fine-tuning level ℓ_m in 0..cap_m, starting at 0.
- A round performs at most `capacity` services. A service either fine-tunes
  one model below its cap (cost c_m; ℓ_m rises by one from the next round:
  services of a round run side by side, so they all see the levels at the
  round's start; a model is fine-tuned at most once per round) or serves one
  of the round's requests for model m (profit v(m, ℓ_m)).
- Unserved requests are lost, not queued.
- Unless `idle_allowed`, a round uses every slot it can: it performs
  min(capacity, requests + models below cap) services, as in the paper where
  each round serves exactly one service.

Requests are either known (`requests`: the model names asked for, per round)
or only forecast (`forecast`: a probability per model per round).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    FiniteFloat,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveInt,
    Tag,
    model_validator,
)

from gaisnet_opt.errors import FieldProblem, raise_problems

PROBABILITY_SLACK = 1e-9
"""Rounding allowed when a round's forecast probabilities add up to more than 1."""


class ProfitCurve(BaseModel):
    """v(ℓ) = base + gain_per_level · min(ℓ, saturation_level): profit grows with fine-tuning, then saturates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base: FiniteFloat
    gain_per_level: FiniteFloat
    saturation_level: NonNegativeInt | None = Field(default=None, description="None: no saturation")

    def at(self, level: int) -> float:
        top = level if self.saturation_level is None else min(level, self.saturation_level)
        return self.base + self.gain_per_level * top


def _profit_kind(value: object) -> str:
    return "curve" if isinstance(value, dict | ProfitCurve) else "table"


ProfitTable = tuple[FiniteFloat, ...]
Profit = Annotated[
    Annotated[ProfitTable, Tag("table")] | Annotated[ProfitCurve, Tag("curve")],
    Discriminator(_profit_kind),
]
"""A list is a table, a mapping a curve: errors then name one reading, not both."""


class EdgeModel(BaseModel):
    """An edge model: how far it can be fine-tuned, what a fine-tuning round costs, what an inference earns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="lowercase in a label = fine-tune, uppercase = serve")
    cap: NonNegativeInt = Field(description="highest fine-tuning level")
    finetune_cost: NonNegativeFloat = Field(allow_inf_nan=False, description="c_m, cost of one fine-tuning service")
    profit: Profit = Field(
        description="v(m, ℓ) for ℓ = 0..cap as a table of cap+1 values, or a curve"
    )

    @model_validator(mode="after")
    def _table_length(self) -> EdgeModel:
        if isinstance(self.profit, tuple) and len(self.profit) != self.cap + 1:
            raise_problems(
                "EdgeModel",
                [FieldProblem(("profit",), f"needs cap+1 = {self.cap + 1} values (levels 0..{self.cap}), got {len(self.profit)}", len(self.profit))],
            )
        return self

    @property
    def profits(self) -> tuple[float, ...]:
        """v(m, ℓ) for ℓ = 0..cap."""
        if isinstance(self.profit, ProfitCurve):
            return tuple(self.profit.at(level) for level in range(self.cap + 1))
        return self.profit


class Forecast(BaseModel):
    """Requests known only in distribution: each round draws `requests_per_round` independent requests,
    each for model m with probability probabilities[t][m] (no request with the remaining probability)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    probabilities: tuple[dict[str, float], ...] = Field(min_length=1, description="per round: model name -> probability")
    requests_per_round: PositiveInt = 1


class ScheduleInstance(BaseModel):
    """Models, capacity and the (known or forecast) requests of every round."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "schedule"
    models: tuple[EdgeModel, ...] = Field(min_length=1)
    capacity: PositiveInt = Field(default=1, description="services per round (the paper: 1)")
    idle_allowed: bool = Field(default=False, description="may a round leave a slot unused")
    requests: tuple[tuple[str, ...], ...] | None = Field(default=None, description="per round, the model names requested")
    forecast: Forecast | None = None

    @model_validator(mode="after")
    def _cross_references(self) -> ScheduleInstance:
        raise_problems("ScheduleInstance", list(_instance_problems(self)))
        return self

    @property
    def horizon(self) -> int:
        """Number of rounds T."""
        if self.requests is not None:
            return len(self.requests)
        assert self.forecast is not None
        return len(self.forecast.probabilities)

    @cached_property
    def index(self) -> dict[str, int]:
        """Model position by name."""
        return {m.name: i for i, m in enumerate(self.models)}

    @cached_property
    def core(self) -> Core:
        """The numeric arrays every solver works on."""
        caps = np.array([m.cap for m in self.models], dtype=np.int64)
        table = np.full((len(self.models), int(caps.max()) + 1), np.nan)
        for i, m in enumerate(self.models):
            table[i, : m.cap + 1] = m.profits
        return Core(
            names=tuple(m.name for m in self.models),
            caps=caps,
            costs=np.array([m.finetune_cost for m in self.models], dtype=float),
            table=table,
            capacity=self.capacity,
            idle_allowed=self.idle_allowed,
        )

    def demand(self) -> np.ndarray:
        """The known requests as counts, shape (T, M)."""
        if self.requests is None:
            raise ValueError(f"instance '{self.name}' has only a forecast; sample a request sequence first")
        return self.counts(self.requests)

    def counts(self, rounds: tuple[tuple[str, ...], ...] | list[list[str]]) -> np.ndarray:
        """Request names per round as counts, shape (T, M)."""
        out = np.zeros((len(rounds), len(self.models)), dtype=np.int64)
        for t, names in enumerate(rounds):
            for name in names:
                out[t, self.index[name]] += 1
        return out

    def forecast_probabilities(self) -> np.ndarray:
        """Forecast probability per round and model, shape (T, M)."""
        if self.forecast is None:
            raise ValueError(f"instance '{self.name}' has no forecast")
        out = np.zeros((self.horizon, len(self.models)))
        for t, row in enumerate(self.forecast.probabilities):
            for name, p in row.items():
                out[t, self.index[name]] = p
        return out

    def expected_demand(self) -> np.ndarray:
        """Expected request counts per round and model under the forecast, shape (T, M)."""
        assert self.forecast is not None
        return self.forecast.requests_per_round * self.forecast_probabilities()

    def sample_demand(self, seed: int) -> np.ndarray:
        """One request sequence drawn from the forecast, as counts (T, M); same seed, same sequence."""
        rng = np.random.default_rng(seed)
        probs = self.forecast_probabilities()
        assert self.forecast is not None
        rest = np.clip(1.0 - probs.sum(axis=1, keepdims=True), 0.0, 1.0)
        full = np.hstack([probs, rest])
        full /= full.sum(axis=1, keepdims=True)
        draws = np.array([rng.multinomial(self.forecast.requests_per_round, row) for row in full])
        return draws[:, :-1].astype(np.int64)


@dataclass(frozen=True, eq=False)
class Core:
    """An instance as arrays: caps (M,), costs (M,), table (M, max cap + 1; NaN past a model's cap)."""

    names: tuple[str, ...]
    caps: np.ndarray
    costs: np.ndarray
    table: np.ndarray
    capacity: int
    idle_allowed: bool

    @property
    def n_models(self) -> int:
        return len(self.names)


def _instance_problems(inst: ScheduleInstance) -> Iterator[FieldProblem]:
    seen: dict[str, int] = {}
    for i, m in enumerate(inst.models):
        key = m.name.lower()
        if key in seen:
            yield FieldProblem(("models", i, "name"), f"duplicate model name '{m.name}' (names differ by more than case; first at models.{seen[key]})", m.name)
        seen.setdefault(key, i)
    known = {m.name for m in inst.models}
    if inst.requests is None and inst.forecast is None:
        yield FieldProblem(("requests",), "give the requests per round, or a forecast", None)
    if inst.requests is not None:
        if not inst.requests:
            yield FieldProblem(("requests",), "empty horizon: at least one round is needed", [])
        for t, names in enumerate(inst.requests):
            for j, name in enumerate(names):
                if name not in known:
                    yield FieldProblem(("requests", t, j), f"unknown model '{name}' (models: {', '.join(sorted(known))})", name)
    if inst.forecast is not None:
        yield from _forecast_problems(inst, known)


def _forecast_problems(inst: ScheduleInstance, known: set[str]) -> Iterator[FieldProblem]:
    assert inst.forecast is not None
    rows = inst.forecast.probabilities
    if inst.requests is not None and len(rows) != len(inst.requests):
        yield FieldProblem(("forecast", "probabilities"), f"covers {len(rows)} rounds, requests cover {len(inst.requests)}", len(rows))
    for t, row in enumerate(rows):
        for name, p in row.items():
            if name not in known:
                yield FieldProblem(("forecast", "probabilities", t, name), f"unknown model '{name}'", name)
            if not 0.0 <= p <= 1.0:
                yield FieldProblem(("forecast", "probabilities", t, name), "a probability lies in [0, 1]", p)
        if sum(row.values()) > 1.0 + PROBABILITY_SLACK:
            yield FieldProblem(("forecast", "probabilities", t), f"probabilities add up to {sum(row.values()):g} > 1", sum(row.values()))
