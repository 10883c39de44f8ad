"""The `gaisnet-opt` command line: one module per command group, registered here."""

from __future__ import annotations

import typer

from gaisnet_opt.cli import (
    campaign,
    compare,
    plan_commands,
    plot,
    profile_commands,
    reproduce,
    run,
    scenario_commands,
    schedule,
    solve,
    split,
    validate,
)

app = typer.Typer(
    name="gaisnet-opt",
    help="Plan, check and compare hybrid federated split learning of prompted ViTs at the edge.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in (run, scenario_commands, plan_commands, solve, split, compare, plot, schedule, profile_commands, validate, reproduce, campaign):
    _module.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
