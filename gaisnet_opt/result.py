"""What every solver returns (docs/model.md §7), and the objective it was asked for (docs/model.md §5)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveFloat

from gaisnet_opt.plan import Plan

Status = Literal["optimal", "feasible", "infeasible", "timeout", "error"]
"""`timeout` is "no solution in time": the limit passed before any plan was found."""

ObjectiveKind = Literal["latency", "energy", "weighted", "coverage", "bottleneck"]


class Objective(BaseModel):
    """What to optimize. `coverage` is maximized, every other kind minimized.

    latency: the round latency (slowest cluster). energy: total joules.
    weighted: alpha * latency_s + beta * energy_j. coverage: samples or classes
    of the fine-tuning start points' data. bottleneck: the slowest stage of a
    chain including its outgoing hop (pipelined split learning).
    `deadline_s` bounds the round latency for every kind.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ObjectiveKind = "latency"
    alpha: NonNegativeFloat = 1.0
    beta: NonNegativeFloat = 1.0
    deadline_s: PositiveFloat | None = None
    coverage_of: Literal["samples", "classes"] = "samples"

    @property
    def maximize(self) -> bool:
        return self.kind == "coverage"


class SolveResult(BaseModel):
    """A solver's answer: plan, objective, status, bound and gap, time, method."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Status
    objective: float | None = None
    bound: float | None = Field(default=None, description="best proven bound on the optimum (exact methods)")
    gap: float | None = Field(default=None, description="|objective - bound| / max(|objective|, 1e-12)")
    time_s: NonNegativeFloat = 0.0
    method: str
    params: dict[str, Any] = Field(default_factory=dict)
    objective_spec: Objective = Objective()
    plan: Plan | None = None
    reason: str | None = Field(default=None, description="why infeasible, timed out or failed")


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """The gap reported by every exact method, from one formula."""
    if objective is None or bound is None:
        return None
    return abs(objective - bound) / max(abs(objective), 1e-12)
