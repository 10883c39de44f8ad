"""A model written once as linear rows grouped by rule, the options every exact solver takes, and what it returns.

The joint model (`joint_model.py`) and the split model (`split_model.py`)
both fill a `LinearModel`; `milp.py` translates it for HiGHS and `cpsat.py`
for CP-SAT, so each rule is stated once and both solvers read the same rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from gaisnet_opt.budget import Budget
from gaisnet_opt.result import Status

Terms = list[tuple[int, float]]
"""(variable index, coefficient) pairs."""


@dataclass(frozen=True)
class LinearRow:
    """lo <= Σ coef·x[var] <= hi (None: unbounded on that side)."""

    terms: Terms
    lo: float | None
    hi: float | None


@dataclass(frozen=True)
class Rounding:
    """How many rounded coefficients one solution can sum, which CP-SAT's integer scaling needs to stay safe.

    `chain_terms`: the costed terms one chain can have non-zero in a row
    (its segments, hops and the maxima it feeds); `chains`: the chains a
    floor row sums; `goal_terms`: the rounded terms in one solution's objective.
    """

    chain_terms: int = 0
    chains: int = 1
    goal_terms: int = 0


@dataclass
class LinearModel:
    """Variables (binary, or continuous in [0, upper]), rows by group, and a linear objective.

    Groups in `costed` carry seconds or joules (CP-SAT scales them); the rest
    carry small integer counts. Upper sides of the groups in `caps` are
    deadlines: CP-SAT tightens them by its rounding slack so its plans never
    miss one. Lower sides of costed rows are valid floors, loosened likewise.
    """

    maximize: bool = False
    costed: frozenset[str] = frozenset()
    caps: frozenset[str] = frozenset({"deadline"})
    binary: list[bool] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    groups: defaultdict[str, list[LinearRow]] = field(default_factory=lambda: defaultdict(list))
    goal: Terms = field(default_factory=list)
    goal_constant: float = 0.0
    goal_costed: bool = True
    rounding: Rounding = Rounding()

    def add_var(self, name: str, binary: bool, upper: float) -> int:
        self.binary.append(binary)
        self.upper.append(upper)
        self.names.append(name)
        return len(self.binary) - 1

    def add(self, group: str, terms: Terms, lo: float | None = None, hi: float | None = None) -> None:
        self.groups[group].append(LinearRow(terms, lo, hi))

    @property
    def n_rows(self) -> int:
        return sum(len(rows) for rows in self.groups.values())

    def empty_row_broken(self) -> str | None:
        """The rule group of a row without variables that cannot hold (the pruned table left it nothing)."""
        for group, rows in self.groups.items():
            for row in rows:
                if not row.terms and ((row.lo is not None and row.lo > 0) or (row.hi is not None and row.hi < 0)):
                    return group
        return None


@dataclass(frozen=True)
class SolverOptions:
    """What every exact method accepts (docs/model.md §7): limit, parallelism, seed, gap, log file and warm start.

    `feasibility_tolerance` (None: the solver's default) is for models whose
    optimum must match another method's to 1e-9, as the split's does the DP's.
    `presolve` is HiGHS's (CP-SAT's stays off, see `cpsat_run`): off for the
    rows models, whose many implications it spends seconds probing for little
    (20 clients, 3 clusters: 2.8 s off vs 6.9 s on for latency, 11 s vs 17 s
    for energy); the schedule's MILP, another structure, runs with it.
    `budget` (the whole call's) is checked while the solver's own model is
    built, and what it has left then caps `time_limit_s` (`seconds`).
    """

    time_limit_s: float | None = None
    threads: int = 1
    seed: int = 0
    rel_gap: float = 1e-6
    log_file: str | None = None
    hint: list[float] | None = None
    feasibility_tolerance: float | None = None
    presolve: bool = False
    budget: Budget | None = None

    def tick(self) -> None:
        """Check the call's budget from a model-building loop (`OutOfTime`)."""
        if self.budget is not None:
            self.budget.tick()

    def seconds(self) -> float | None:
        """The solver's limit now: `time_limit_s`, cut to what the call's budget has left (None: no limit).
        Out of time already: `OutOfTime`."""
        if self.budget is None:
            return self.time_limit_s
        self.budget.check()
        left = self.budget.solver_seconds()
        limits = [t for t in (self.time_limit_s, left) if t is not None]
        return min(limits) if limits else None


@dataclass(frozen=True)
class ExactRun:
    """An exact solver's outcome: status, the incumbent's variable values, and its proven bound (objective units)."""

    status: Status
    x: list[float] | None
    bound: float | None
    detail: str = ""

    def ones(self, indices: range) -> list[int]:
        """The binaries among `indices` set to 1 in the incumbent."""
        assert self.x is not None
        return [i for i in indices if self.x[i] > 0.5]
