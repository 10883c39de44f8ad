"""`plot`: a plan map or a round's Gantt chart as an image file."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from gaisnet_opt.cli.common import console, reports_bad_input
from gaisnet_opt.checker import STRUCTURAL_RULES
from gaisnet_opt.cli.plan_commands import EXIT_VIOLATIONS, PlanArg, ScenarioArg, load_checked
from gaisnet_opt.cli.tables import violations_table
from gaisnet_opt.errors import InputError


class Figure(str, Enum):
    map = "map"
    gantt = "gantt"


@reports_bad_input
def plot_command(
    scenario: ScenarioArg,
    plan: PlanArg,
    output: Annotated[str, typer.Option("-o", "--output", help="image file: .png, .svg or .pdf")] = "plan.png",
    kind: Annotated[Figure, typer.Option("--kind", help="map: chains on the node positions; gantt: the round's timeline")] = Figure.map,
) -> None:
    """Draw a plan: its chains on the map, or its round as a Gantt chart."""
    from gaisnet_opt.plotting.gantt import plot_gantt
    from gaisnet_opt.plotting.plan_map import plot_plan_map

    sc, pl, violations = load_checked(scenario, plan, STRUCTURAL_RULES)
    draw = plot_plan_map if kind is Figure.map else plot_gantt
    try:
        path = draw(sc, pl, output)
    except ValueError as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError("options", [("output", str(exc).partition(": ")[2])]) from None
    console.print(f"wrote {path}")
    if violations:
        console.print(violations_table(violations))
        raise typer.Exit(EXIT_VIOLATIONS)


def register(app: typer.Typer) -> None:
    app.command("plot")(plot_command)
