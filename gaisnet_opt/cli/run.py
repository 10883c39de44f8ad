"""`run`: the main job on the built-in default, end to end.

Generate a scenario, plan it with every joint method (exact and heuristic)
under one time limit, compare them against the best proven bound, check the
best plan and print its metrics; with `--out-dir`, also write the documents
and draw the plan's map and Gantt chart.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from gaisnet_opt.checker import check
from gaisnet_opt.cli.common import console, reports_bad_input
from gaisnet_opt.cli.compare import comparison_table
from gaisnet_opt.cli.tables import round_table, summary_table, violations_table
from gaisnet_opt.comparison import ComparisonRow, compare, records_csv
from gaisnet_opt.cost import round_cost
from gaisnet_opt.errors import InputError
from gaisnet_opt.generator import generate
from gaisnet_opt.io import save, write_text
from gaisnet_opt.params import SolveParams
from gaisnet_opt.result import Objective


def _best(rows: tuple[ComparisonRow, ...]) -> ComparisonRow:
    """The lowest objective among the plans found; exact methods first on ties (their order in the table)."""
    found = [r for r in rows if r.result.plan is not None and r.result.objective is not None]
    if not found:
        raise InputError("scenario", [("(plan)", "no method found a plan: " + "; ".join(
            f"{r.method}: {r.result.reason}" for r in rows))])
    return min(found, key=lambda r: r.result.objective if r.result.objective is not None else math.inf)


@reports_bad_input
def run_command(
    clients: Annotated[int, typer.Option(help="clients in the generated scenario")] = 20,
    seed: Annotated[int, typer.Option(help="scenario and solver seed")] = 1,
    clusters: Annotated[int, typer.Option(min=1, help="fine-tuning clusters to form")] = 3,
    time_limit: Annotated[float, typer.Option(min=0.1, help="seconds per method")] = 10.0,
    out_dir: Annotated[Path | None, typer.Option("--out-dir", help="write documents, comparison and figures here")] = None,
) -> None:
    """Generate a scenario, solve it exactly and heuristically, compare, check and (with --out-dir) plot."""
    try:
        scenario = generate(clients, seed)
    except ValueError as exc:
        raise InputError("options", [tuple(str(exc).split(": ", 1))]) from None  # type: ignore[list-item]
    console.print(f"scenario [bold]{scenario.name}[/]: {len(scenario.clients)} clients, "
                  f"{len(scenario.edges)} edge server(s), {len(scenario.d2d)} D2D links, "
                  f"{len(scenario.data_sources)} data sources, {len(scenario.requesters)} requests; "
                  f"profile {scenario.profile.name} ({scenario.profile.provenance.method})")
    comparison = compare(scenario, Objective(), params=SolveParams(time_limit_s=time_limit, seed=seed), clusters=clusters)
    console.print(comparison_table(comparison))
    best = _best(comparison.rows)
    plan = best.result.plan
    assert plan is not None  # _best keeps rows with plans
    violations = check(scenario, plan)
    cost = round_cost(scenario, plan)
    console.print(f"best plan: [bold]{best.method}[/] ({best.result.status})")
    console.print(round_table(scenario, cost))
    console.print(summary_table(cost))
    console.print(violations_table(violations) if violations else "[green]checker: feasible[/]")
    if out_dir is not None:
        from gaisnet_opt.plotting.figure_io import save_figure
        from gaisnet_opt.plotting.gantt import plot_gantt
        from gaisnet_opt.plotting.plan_map import plot_plan_map

        save(scenario, out_dir / "scenario.json")
        save(plan, out_dir / "plan.json")
        save(best.result, out_dir / "result.json")
        write_text(out_dir / "comparison.csv", records_csv(comparison))
        save_figure(plot_plan_map(scenario, plan), out_dir / "map.png")
        save_figure(plot_gantt(scenario, plan), out_dir / "gantt.png")
        console.print(f"wrote scenario.json, plan.json, result.json, comparison.csv, map.png, gantt.png to {out_dir}")


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)
