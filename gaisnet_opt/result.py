"""What every solver returns (docs/model.md §7), and the objective it was asked for (docs/model.md §5)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveFloat

from gaisnet_opt.plan import Plan

Status = Literal["optimal", "feasible", "infeasible", "timeout", "error"]
"""The one status vocabulary of `solve`, `solve_split` and `solve_schedule` (docs/model.md §7, README "Solver contract").

optimal: a plan within the gap of a bound valid for the whole problem. feasible: a plan, nothing more proven
(also a heuristic's plan, or the best plan when time ran out). infeasible: proven that no plan exists (pre-check
or an exact method). timeout: the limit passed before any plan was found. error: no plan and nothing proven
(a heuristic that found none, a solver failure, a plan the checker rejected); `reason` says which.
"""

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


class Restriction(BaseModel):
    """The candidate limit an exact model was built under: the caller's, or one the arc cap forced."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    candidates: int | None = Field(default=None, description="candidate clients per cluster (None: no limit)")
    radius: int | None = Field(default=None, description="hops from the start point (None: no limit)")
    by: Literal["params", "max_arcs"] = Field(description="who set it: the caller's params, or the arc cap")


class Progress(BaseModel):
    """One point of an anytime method's record: seconds into the call, best plan value and bound then."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    t_s: NonNegativeFloat
    objective: float | None = None
    bound: float | None = None


class SolveResult(BaseModel):
    """A solver's answer: plan, objective, status, bound and gap, seconds per phase, method, restriction."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Status
    objective: float | None = None
    bound: float | None = Field(default=None, description="best proven bound on the optimum (exact methods)")
    gap: float | None = Field(default=None, description="|objective - bound| / max(|objective|, 1e-12)")
    time_s: NonNegativeFloat = 0.0
    phases: dict[str, float] = Field(default_factory=dict, description="wall seconds per phase of the call")
    timed_out_in: str | None = Field(default=None, description="the phase the time limit ran out in (None: it did not)")
    restricted: bool = Field(default=False, description="the exact model saw only some candidate members")
    restriction: Restriction | None = None
    bound_is_global: bool | None = Field(
        default=None, description="the bound holds for the whole problem, not only the restricted model (None: no bound)")
    method: str
    params: dict[str, Any] = Field(default_factory=dict)
    objective_spec: Objective = Objective()
    plan: Plan | None = None
    reason: str | None = Field(default=None, description="why infeasible, timed out or failed")
    trace: tuple[Progress, ...] = Field(
        default=(), description="anytime record: each improvement of plan or bound, when (decompose only)")


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """The gap reported by every exact method, from one formula."""
    if objective is None or bound is None:
        return None
    return abs(objective - bound) / max(abs(objective), 1e-12)
