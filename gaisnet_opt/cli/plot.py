"""`plot`: a plan map or a round's Gantt chart as an image file."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from gaisnet_opt.checker import STRUCTURAL_RULES
from gaisnet_opt.cli.common import console, reports_bad_input
from gaisnet_opt.cli.plan_commands import EXIT_VIOLATIONS, PlanArg, ScenarioArg, load_checked
from gaisnet_opt.cli.tables import violations_table
from gaisnet_opt.errors import InputError


class FigureKind(str, Enum):
    map = "map"
    gantt = "gantt"


@reports_bad_input
def plot_command(
    scenario: ScenarioArg,
    plan: PlanArg,
    output: Annotated[str, typer.Option("-o", "--output", help="image file: .png, .svg or .pdf")] = "plan.png",
    kind: Annotated[FigureKind, typer.Option("--kind", help="map: chains on the node positions; gantt: the round's timeline")] = FigureKind.map,
) -> None:
    """Draw a plan: its chains on the map, or its round as a Gantt chart."""
    from gaisnet_opt.plotting.figure_io import check_format, save_figure
    from gaisnet_opt.plotting.gantt import plot_gantt
    from gaisnet_opt.plotting.plan_map import plot_plan_map

    try:
        check_format(output)
    except ValueError as exc:
        raise InputError("options", [("output", str(exc).partition(": ")[2])]) from None
    sc, pl, violations = load_checked(scenario, plan, STRUCTURAL_RULES)
    draw = plot_plan_map if kind is FigureKind.map else plot_gantt
    path = save_figure(draw(sc, pl), output)
    console.print(f"wrote {path}")
    if violations:
        console.print(violations_table(violations))
        raise typer.Exit(EXIT_VIOLATIONS)


def register(app: typer.Typer) -> None:
    app.command("plot")(plot_command)
