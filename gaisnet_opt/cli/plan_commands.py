"""`check` and `evaluate`: a plan against the rules and the cost model."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection
from typing import Annotated

import typer

from gaisnet_opt.checker import RULES, STRUCTURAL_RULES, Violation, check
from gaisnet_opt.cli.common import console, reports_bad_input
from gaisnet_opt.cli.tables import round_table, summary_table, violations_table
from gaisnet_opt.cost import round_cost
from gaisnet_opt.errors import InputError
from gaisnet_opt.io import STDIO, load, write_text
from gaisnet_opt.metrics import evaluation_dict
from gaisnet_opt.plan import Plan
from gaisnet_opt.scenario import Scenario

EXIT_VIOLATIONS = 1
REFERENCE_RULES = frozenset({"unknown-node", "unit-range"})
"""A plan breaking these names what does not exist: it is bad input (exit 2) for every command."""

ScenarioArg = Annotated[str, typer.Argument(help="scenario file (.json/.yaml) or -")]
PlanArg = Annotated[str, typer.Argument(help="plan file (.json/.yaml) or -")]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def load_checked(
    scenario_path: str, plan_path: str, unusable: Collection[str] = REFERENCE_RULES
) -> tuple[Scenario, Plan, list[Violation]]:
    """Scenario, plan and the plan's violations; a plan breaking an `unusable` rule is an InputError."""
    if scenario_path == STDIO and plan_path == STDIO:
        raise InputError("arguments", [("PLAN", "only one of SCENARIO and PLAN can be read from stdin")])
    scenario = load(Scenario, scenario_path)
    plan = load(Plan, plan_path)
    violations = check(scenario, plan)
    bad_refs = [(v.path, v.message) for v in violations if v.rule in unusable]
    if bad_refs:
        raise InputError(plan_path, bad_refs)
    return scenario, plan, violations


@reports_bad_input
def check_command(
    scenario: ScenarioArg,
    plan: PlanArg,
    as_json: JsonOpt = False,
    skip: Annotated[str | None, typer.Option(help="rules not to check, comma-separated (a split's partial plan: cluster-count)")] = None,
) -> None:
    """Check a plan against every rule; exit 1 if any is broken."""
    skipped = set(skip.split(",")) if skip else set()
    if skipped - set(RULES):
        raise InputError("options", [("--skip", f"unknown rule(s) {', '.join(sorted(skipped - set(RULES)))}; rules: {', '.join(RULES)}")])
    _, pl, violations = load_checked(scenario, plan)
    violations = [v for v in violations if v.rule not in skipped]
    if as_json:
        write_text(STDIO, json.dumps([dataclasses.asdict(v) for v in violations], indent=2) + "\n")
    elif violations:
        console.print(violations_table(violations))
    else:
        console.print(f"[green]feasible[/]: {len(pl.clusters)} cluster(s) obey every rule")
    if violations:
        raise typer.Exit(EXIT_VIOLATIONS)


@reports_bad_input
def evaluate_command(scenario: ScenarioArg, plan: PlanArg, as_json: JsonOpt = False) -> None:
    """Latency breakdown, energy, communication and memory of a plan; exit 1 if it breaks a rule."""
    sc, pl, violations = load_checked(scenario, plan, STRUCTURAL_RULES)  # no metrics for ranges that do not cover
    cost = round_cost(sc, pl)
    if as_json:
        write_text(STDIO, json.dumps(evaluation_dict(cost, violations), indent=2) + "\n")
    else:
        console.print(round_table(sc, cost))
        console.print(summary_table(cost))
        if violations:
            console.print(violations_table(violations))
    if violations:
        raise typer.Exit(EXIT_VIOLATIONS)


def register(app: typer.Typer) -> None:
    app.command("check")(check_command)
    app.command("evaluate")(evaluate_command)
