"""Every applicable method on one problem under the same limit, measured against one bound (`compare`).

Named `comparison`, not `compare`: a submodule named like the package's
`compare` function would replace it on `gaisnet_opt` once imported.

The gap of every row is taken to the same reference: the best bound any exact
method proved (the largest lower bound when minimizing, the smallest upper
bound for coverage), so rows compare with each other and not each with its
own solver's bound. Figures come from the cost model; every plan passes the
checker (solvers never return one that does not).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

from gaisnet_opt.cost import RoundCost, round_cost
from gaisnet_opt.errors import InputError
from gaisnet_opt.io import csv_text
from gaisnet_opt.params import SolveParams
from gaisnet_opt.plan import ClusterKind
from gaisnet_opt.result import Objective, SolveResult, relative_gap
from gaisnet_opt.scenario import Scenario


@dataclass(frozen=True)
class ComparisonRow:
    """One method's answer beside the shared bound."""

    result: SolveResult
    gap_to_best_bound: float | None
    cost: RoundCost | None

    @property
    def method(self) -> str:
        return self.result.method


@dataclass(frozen=True)
class Comparison:
    """Rows in the order the methods were given, and the bound they are measured against."""

    objective: Objective
    best_bound: float | None
    bound_from: str | None
    rows: tuple[ComparisonRow, ...]


def best_bound(results: Sequence[SolveResult], objective: Objective) -> tuple[float | None, str | None]:
    """The tightest valid bound among the results, and which method proved it."""
    bounds = [(r.bound, r.method) for r in results if r.bound is not None]
    if not bounds:
        return None, None
    pick = min if objective.maximize else max
    return pick(bounds, key=lambda b: b[0])


def compare_results(scenario: Scenario, results: Sequence[SolveResult], objective: Objective) -> Comparison:
    """Rows for already computed results, each gap to the best bound of all of them."""
    bound, source = best_bound(results, objective)
    rows = tuple(
        ComparisonRow(r, relative_gap(r.objective, bound), round_cost(scenario, r.plan) if r.plan is not None else None)
        for r in results
    )
    return Comparison(objective, bound, source, rows)


def _joint_runner(scenario: Scenario, objective: Objective, params: SolveParams,
                  clusters: int | None) -> Callable[[str], SolveResult]:
    from gaisnet_opt.solvers.solve import Method, solve

    return lambda m: solve(scenario, cast(Method, m), objective, params=params, clusters=clusters)


def _split_runner(scenario: Scenario, objective: Objective, params: SolveParams, chain: list[str],
                  kind: ClusterKind) -> Callable[[str], SolveResult]:
    from gaisnet_opt.solvers.split import SplitMethod, solve_split

    return lambda m: solve_split(scenario, chain, kind, cast(SplitMethod, m), objective, params=params)


def applicable_methods(chain: list[str] | None) -> tuple[str, ...]:
    """Joint methods for a whole round, split methods for one given chain."""
    if chain is not None:
        from gaisnet_opt.solvers.split import METHODS as SPLIT_METHODS

        return SPLIT_METHODS
    from gaisnet_opt.solvers.solve import METHODS as JOINT_METHODS

    return JOINT_METHODS


def _default_methods(chain: list[str] | None) -> tuple[str, ...]:
    """Every applicable method but the decomposition: it is for city scale and the latency and energy objectives
    only, so it runs when named."""
    return tuple(m for m in applicable_methods(chain) if m != "decompose")


def compare(
    scenario: Scenario,
    objective: Objective = Objective(),
    *,
    params: SolveParams = SolveParams(time_limit_s=10.0),
    methods: Sequence[str] | None = None,
    clusters: int | None = None,
    chain: list[str] | None = None,
    kind: ClusterKind = "finetune",
) -> Comparison:
    """Run `methods` (default: every applicable one) on the round, or on one chain's split if `chain` is given;
    each method gets `params` (its time limit is per method). An unknown method is an InputError naming `methods`."""
    names = tuple(methods) if methods is not None else _default_methods(chain)
    if not names:
        raise InputError("options", [("methods", "name at least one method")])
    unknown = sorted(set(names) - set(applicable_methods(chain)))
    if unknown:
        raise InputError("options", [("methods", f"unknown {', '.join(unknown)}; choose from {', '.join(applicable_methods(chain))}")])
    run = (_split_runner(scenario, objective, params, chain, kind) if chain is not None
           else _joint_runner(scenario, objective, params, clusters))
    return compare_results(scenario, [run(m) for m in names], objective)


def records(comparison: Comparison) -> list[dict[str, float | int | str | None]]:
    """One flat record per row (SI units), for JSON, CSV and tables alike."""
    out = []
    for row in comparison.rows:
        r, c = row.result, row.cost
        out.append({
            "method": r.method, "status": r.status, "objective": r.objective, "own_bound": r.bound,
            "gap_to_best_bound": row.gap_to_best_bound, "time_s": r.time_s,
            "latency_s": c.latency_s if c else None, "energy_j": c.energy_j if c else None,
            "comm_bytes": c.comm_bytes if c else None, "memory_bytes": c.memory_bytes if c else None,
            "clusters": len(r.plan.clusters) if r.plan else None, "reason": r.reason,
        })
    return out


def records_csv(comparison: Comparison) -> str:
    """The records as CSV text, header first."""
    return csv_text(records(comparison))
