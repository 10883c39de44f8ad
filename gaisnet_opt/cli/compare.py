"""`compare`: every applicable method under one time limit, in one table."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from gaisnet_opt.cli.common import as_flags, console, reports_bad_input
from gaisnet_opt.cli.plan_commands import ScenarioArg
from gaisnet_opt.comparison import Comparison, compare, records, records_csv
from gaisnet_opt.errors import InputError
from gaisnet_opt.io import STDIO, load, write_text
from gaisnet_opt.params import SolveParams
from gaisnet_opt.result import Objective
from gaisnet_opt.scenario import Scenario


def comparison_table(c: Comparison) -> Table:
    bound = "none proven" if c.best_bound is None else f"{c.best_bound:.6g} ({c.bound_from})"
    t = Table(title=f"{c.objective.kind}: gaps to the best bound, {bound}")
    cols: list[tuple[str, str | None, float]] = [("method", None, 1.0), ("status", None, 1.0), ("objective", "objective", 1.0),
            ("gap %", "gap_to_best_bound", 0.01), ("time s", "time_s", 1.0), ("latency s", "latency_s", 1.0),
            ("energy J", "energy_j", 1.0), ("comm MB", "comm_bytes", 1e6), ("memory GB", "memory_bytes", 1e9)]
    for label, *_ in cols:
        t.add_column(label, justify="left" if label in ("method", "status") else "right")
    for rec in records(c):
        cells = []
        for label, key, scale in cols:
            if key is None:
                cells.append(str(rec[label]))
            else:
                v = rec[key]
                cells.append("—" if not isinstance(v, int | float) else f"{v / scale:,.4g}")
        t.add_row(*cells)
    return t


@reports_bad_input
def compare_command(
    scenario: ScenarioArg,
    time_limit: Annotated[float, typer.Option(min=0.1, help="seconds per method")] = 10.0,
    objective: Annotated[str, typer.Option(help="latency | energy | weighted | coverage (| bottleneck with --chain)")] = "latency",
    alpha: Annotated[float, typer.Option(help="weight of latency (weighted)")] = 1.0,
    beta: Annotated[float, typer.Option(help="weight of energy (weighted)")] = 1.0,
    deadline: Annotated[float | None, typer.Option(help="round deadline, s")] = None,
    methods: Annotated[str | None, typer.Option(help="comma-separated subset of methods")] = None,
    clusters: Annotated[int | None, typer.Option(min=1, help="exactly K fine-tuning clusters")] = None,
    chain: Annotated[str | None, typer.Option(help="compare split methods on this chain instead, e.g. c3,c7,c1")] = None,
    seed: Annotated[int, typer.Option(help="seed of every randomized method")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="records as JSON on stdout")] = False,
    csv_out: Annotated[str | None, typer.Option("--csv", help="also write the records as CSV (file or -)")] = None,
) -> None:
    """Run every applicable method (exact and heuristic) and compare them against the best proven bound."""
    from pydantic import ValidationError

    sc = load(Scenario, scenario)
    try:
        obj = Objective.model_validate(dict(kind=objective, alpha=alpha, beta=beta, deadline_s=deadline))
    except ValidationError as exc:
        raise InputError.from_validation("options", exc) from None
    try:
        result = compare(sc, obj, params=SolveParams(time_limit_s=time_limit, seed=seed),
                         methods=methods.split(",") if methods else None, clusters=clusters,
                         chain=chain.split(",") if chain else None)
    except InputError as exc:
        raise as_flags(exc, {"methods": "--methods", "objective.kind": "--objective"}) from None
    except ValueError as exc:
        raise InputError("options", [("--objective", str(exc))]) from None  # e.g. bottleneck without --chain
    rows = records(result)
    if csv_out is not None:
        write_text(csv_out, records_csv(result))
    if as_json:
        write_text(STDIO, json.dumps({"best_bound": result.best_bound, "bound_from": result.bound_from,
                                      "objective": obj.model_dump(), "rows": rows}, indent=2) + "\n")
    elif csv_out != STDIO:
        console.print(comparison_table(result))


def register(app: typer.Typer) -> None:
    app.command("compare")(compare_command)
