"""What a schedule policy returns, and the one replay that turns a list of actions into it.

Every policy only chooses actions; `replay` checks each against the rules and
computes the per-round and cumulative profits, so no policy can report a
profit its decisions do not earn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from gaisnet_opt.result import Status
from gaisnet_opt.schedule.actions import Action, feasible_actions
from gaisnet_opt.schedule.instance import ScheduleInstance


class RoundDecision(BaseModel):
    """One round: what was asked, what was done, what it earned."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    round: int = Field(description="1-based")
    requests: tuple[str, ...]
    finetune: tuple[str, ...]
    serve: tuple[str, ...]
    label: str = Field(description="paper notation: lowercase = fine-tune, uppercase = serve, '-' = idle")
    profit: float
    cumulative: float
    levels: dict[str, int] = Field(description="levels after the round")


class OptimalSchedules(BaseModel):
    """How many schedules reach the optimum; the one shown is the first in tie-break order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    count: int = Field(description="optimal action sequences")
    exact: bool = Field(description="False if the count exceeded 2**53 and is rounded")
    tie_break: str

    @property
    def unique(self) -> bool:
        return self.count == 1


class ScheduleResult(BaseModel):
    """A policy's schedule on one request sequence."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: str
    params: dict[str, Any] = Field(default_factory=dict)
    instance: str
    status: Status = Field(default="feasible", description="optimal: proven (the DP, or HiGHS to a zero gap); "
                           "feasible: a policy's schedule, or the MILP's best when time ran out")
    rounds: tuple[RoundDecision, ...]
    total: float
    bound: float | None = Field(default=None, description="best proven upper bound on the optimum (exact methods)")
    time_s: float = 0.0
    phases: dict[str, float] = Field(default_factory=dict, description="wall seconds per phase (as SolveResult's)")
    optimal_schedules: OptimalSchedules | None = None

    @property
    def labels(self) -> list[str]:
        return [r.label for r in self.rounds]

    @property
    def cumulative(self) -> list[float]:
        """Cumulative profit after each round, starting from 0 before round 1."""
        return [0.0] + [r.cumulative for r in self.rounds]


class PolicySummary(BaseModel):
    """A policy's total profit over several runs (seeds, or sampled request sequences)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: str
    params: dict[str, Any] = Field(default_factory=dict)
    runs: int
    seeds: str = Field(description="which seeds, e.g. '0..999'")
    mean: float
    std: float = Field(description="population standard deviation")
    min: float
    max: float

    @classmethod
    def of(cls, policy: str, params: dict[str, Any], first_seed: int, totals: Sequence[float]) -> PolicySummary:
        arr = np.asarray(totals, dtype=float)
        return cls(
            policy=policy,
            params=params,
            runs=len(arr),
            seeds=f"{first_seed}..{first_seed + len(arr) - 1}",
            mean=float(arr.mean()),
            std=float(arr.std()),
            min=float(arr.min()),
            max=float(arr.max()),
        )


class PolicyComparison(BaseModel):
    """Several policies on one instance: single schedules and summaries over seeds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    instance: str
    results: tuple[ScheduleResult, ...]
    summaries: tuple[PolicySummary, ...] = ()


def replay(
    instance: ScheduleInstance,
    demand: np.ndarray,
    actions: Sequence[Action],
    policy: str,
    params: dict[str, Any] | None = None,
    *,
    status: Status = "feasible",
    bound: float | None = None,
    time_s: float = 0.0,
    optimal_schedules: OptimalSchedules | None = None,
) -> ScheduleResult:
    """The result of taking `actions` on the request counts `demand` (T, M); ValueError on a breach of the rules."""
    core = instance.core
    if len(actions) != len(demand):
        raise ValueError(f"{len(actions)} actions for {len(demand)} rounds")
    levels = np.zeros(core.n_models, dtype=np.int64)
    total, rounds = 0.0, []
    for t, (action, row) in enumerate(zip(actions, demand)):
        if action not in set(feasible_actions(core, levels, row)):
            raise ValueError(f"round {t + 1}: '{action.label(core.names)}' is not allowed at levels {levels.tolist()}")
        profit = action.profit(core, levels)
        total += profit
        levels = action.apply(levels)
        rounds.append(
            RoundDecision(
                round=t + 1,
                requests=tuple(core.names[m] for m, n in enumerate(row) for _ in range(int(n))),
                finetune=tuple(core.names[m] for m in action.finetune),
                serve=tuple(core.names[m] for m, n in enumerate(action.serve) for _ in range(n)),
                label=action.label(core.names),
                profit=profit,
                cumulative=total,
                levels=dict(zip(core.names, levels.tolist())),
            )
        )
    return ScheduleResult(
        policy=policy,
        params=params or {},
        instance=instance.name,
        status=status,
        rounds=tuple(rounds),
        total=total,
        bound=bound,
        time_s=time_s,
        optimal_schedules=optimal_schedules,
    )
