"""`run`: the main job on the built-in default, end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gaisnet_opt.checker import check
from gaisnet_opt.cli.common import console, reports_bad_input
from gaisnet_opt.cli.tables import round_table, summary_table, violations_table
from gaisnet_opt.cost import round_cost
from gaisnet_opt.generator import generate
from gaisnet_opt.io import save
from gaisnet_opt.solvers.greedy_chains import solve_greedy


@reports_bad_input
def run_command(
    clients: Annotated[int, typer.Option(help="clients in the generated scenario")] = 20,
    seed: Annotated[int, typer.Option(help="scenario seed")] = 1,
    clusters: Annotated[int, typer.Option(help="fine-tuning clusters to form")] = 3,
    out_dir: Annotated[Path | None, typer.Option("--out-dir", help="write scenario.json, plan.json, result.json here")] = None,
) -> None:
    """Generate a scenario, plan it with the greedy baseline, check the plan and print its metrics."""
    scenario = generate(clients, seed)
    console.print(f"scenario [bold]{scenario.name}[/]: {len(scenario.clients)} clients, "
                  f"{len(scenario.edges)} edge server(s), {len(scenario.d2d)} D2D links, "
                  f"{len(scenario.data_sources)} data sources, {len(scenario.requesters)} requests; "
                  f"profile {scenario.profile.name} ({scenario.profile.provenance.method})")
    result = solve_greedy(scenario, clusters=clusters)
    plan = result.plan
    assert plan is not None  # greedy always returns its plan
    violations = check(scenario, plan)
    console.print(round_table(scenario, round_cost(scenario, plan)))
    console.print(summary_table(round_cost(scenario, plan)))
    console.print(violations_table(violations) if violations else
                  f"[green]checker: feasible[/] ({result.method}, {result.time_s * 1e3:.1f} ms)")
    if out_dir is not None:
        save(scenario, out_dir / "scenario.json")
        save(plan, out_dir / "plan.json")
        save(result, out_dir / "result.json")
        console.print(f"wrote {out_dir}/scenario.json, plan.json, result.json")


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)
