"""`solve`: clusters, chains and split points of one round, for people and for schedulers in any language.

Exit status: 0 when a plan was found (optimal or feasible), 1 when none was
(infeasible, no plan in time, error; the result still says why), 2 on bad input.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from gaisnet_opt.cli.common import console, err_console, reports_bad_input
from gaisnet_opt.cli.tables import round_table, summary_table
from gaisnet_opt.cost import round_cost
from gaisnet_opt.errors import InputError
from gaisnet_opt.io import STDIO, dumps, load, parse_as, save, write_text
from gaisnet_opt.params import DEFAULT_MAX_ARCS, SolveParams
from gaisnet_opt.plan import Plan
from gaisnet_opt.result import Objective, SolveResult
from gaisnet_opt.scenario import Scenario

EXIT_NO_PLAN = 1


class MethodChoice(str, Enum):
    cpsat = "cpsat"
    milp = "milp"
    decompose = "decompose"
    largest_first = "largest-first"
    roomiest_first = "roomiest-first"
    fastest_first = "fastest-first"
    local = "local"
    random = "random"


class ObjectiveChoice(str, Enum):
    latency = "latency"
    energy = "energy"
    weighted = "weighted"
    coverage = "coverage"


class CoverageChoice(str, Enum):
    samples = "samples"
    classes = "classes"


@reports_bad_input
def solve_command(
    scenario: Annotated[str, typer.Argument(help="scenario file (.json/.yaml), or - for stdin (the result then goes to stdout)")],
    method: Annotated[MethodChoice, typer.Option(help="exact: cpsat, milp; heuristics: largest-first, roomiest-first, fastest-first, local, random")] = MethodChoice.cpsat,
    time_limit: Annotated[float, typer.Option("--time-limit", min=0.1, help="seconds for the whole solve")] = 30.0,
    objective: Annotated[ObjectiveChoice, typer.Option(help="what to optimize")] = ObjectiveChoice.latency,
    alpha: Annotated[float, typer.Option(help="weighted: weight of the round latency (per s)")] = 1.0,
    beta: Annotated[float, typer.Option(help="weighted: weight of the energy (per J)")] = 1.0,
    deadline: Annotated[float | None, typer.Option(help="round deadline in s (any objective)")] = None,
    coverage_of: Annotated[CoverageChoice, typer.Option("--coverage-of", help="coverage: count samples or classes")] = CoverageChoice.samples,
    clusters: Annotated[int | None, typer.Option(min=1, help="exactly K fine-tuning clusters (default: the service's range)")] = None,
    threads: Annotated[int, typer.Option(min=1, help="solver threads")] = 1,
    seed: Annotated[int, typer.Option(help="solver and heuristic seed")] = 0,
    gap: Annotated[float, typer.Option(min=0.0, help="relative gap at which exact methods stop")] = 1e-6,
    candidates: Annotated[int | None, typer.Option(min=1, help="exact methods: at most this many candidate clients per cluster (restricts the model)")] = None,
    max_arcs: Annotated[int, typer.Option("--max-arcs", min=0, help="exact methods: cap on the model's segments and hops, bounds memory (0: no cap)")] = DEFAULT_MAX_ARCS,
    initial_plan: Annotated[str | None, typer.Option("--initial-plan", help="warm-start from this plan (.json/.yaml), e.g. the last round's")] = None,
    log: Annotated[str | None, typer.Option("--log", help="write the solver's own log to this file")] = None,
    no_warm_start: Annotated[bool, typer.Option("--no-warm-start", help="do not warm-start exact methods from the heuristics")] = False,
    out: Annotated[str | None, typer.Option("-o", "--out", help="write the plan here (.json/.yaml, - for stdout)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the whole result as JSON")] = False,
) -> None:
    """Plan clusters, D2D chains and split points of one round; exit 1 when no plan is found."""
    from gaisnet_opt.solvers.solve import solve  # the solvers load pyomo and OR-Tools: only when solving

    sc = load(Scenario, scenario)
    if log is not None:
        try:
            Path(log).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError("options", [("--log", f"cannot write {log}: {exc.strerror or exc}")]) from None
    spec = parse_as(Objective, dict(kind=objective.value, alpha=alpha, beta=beta, deadline_s=deadline,
                                    coverage_of=coverage_of.value), "options")
    params = parse_as(SolveParams, dict(time_limit_s=time_limit, threads=threads, seed=seed, rel_gap=gap,
                                        warm_start=not no_warm_start, log_file=log, candidates=candidates,
                                        max_arcs=max_arcs or None), "options")
    initial = load(Plan, initial_plan) if initial_plan is not None else None
    result = solve(sc, method=method.value, objective=spec, params=params, clusters=clusters,
                   initial_plan=initial)
    if out is not None and result.plan is not None:
        save(result.plan, out)
    if as_json or scenario == STDIO:
        if out != STDIO:
            write_text(STDIO, dumps(result))
    else:
        _print(sc, result, err_console if out == STDIO else console)  # stdout carries the plan document
    if result.plan is None:
        raise typer.Exit(EXIT_NO_PLAN)


def _print(scenario: Scenario, result: SolveResult, console: Console) -> None:
    def fmt(x: float | None) -> str:
        return "-" if x is None else f"{x:.6g}"

    unit = {"latency": "s", "energy": "J", "weighted": "", "coverage": result.objective_spec.coverage_of}
    console.print(f"[bold]{result.method}[/]: {result.status}, objective {fmt(result.objective)} "
                  f"{unit[result.objective_spec.kind]}, bound {fmt(result.bound)}, gap {fmt(result.gap)}, "
                  f"{result.time_s:.2f} s" + (" (restricted model)" if result.restricted else ""))
    if result.reason:
        console.print(f"reason: {result.reason}", highlight=False)
    if result.plan is not None:
        cost = round_cost(scenario, result.plan)
        console.print(round_table(scenario, cost))
        console.print(summary_table(cost))


def register(app: typer.Typer) -> None:
    """Add the solve command to `app`."""
    app.command("solve")(solve_command)
