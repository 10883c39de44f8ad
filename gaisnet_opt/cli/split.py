"""`gaisnet-opt split`: where to split the model along one chain (paper §IV.A), exactly or heuristically."""

from __future__ import annotations

from typing import Annotated, cast, get_args

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gaisnet_opt.cli.common import console, err_console, reports_bad_input
from gaisnet_opt.cost import ClusterCost, cluster_cost
from gaisnet_opt.errors import InputError
from gaisnet_opt.io import STDIO, dumps, load, save, write_text
from gaisnet_opt.params import SolveParams
from gaisnet_opt.plan import ClusterKind
from gaisnet_opt.result import Objective, SolveResult
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.solvers.split import METHODS, SplitMethod, solve_split

OBJECTIVES = ("latency", "energy", "weighted", "bottleneck")
EXIT_NO_PLAN = 1


def register(app: typer.Typer) -> None:
    """Add the split command to `app`."""
    app.command("split")(split_command)


def _choice(option: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InputError("arguments", [(option, f"'{value}' is not one of {', '.join(allowed)}")])
    return value


@reports_bad_input
def split_command(
    scenario: Annotated[str, typer.Argument(help="scenario file (.json/.yaml) or -")],
    chain: Annotated[str, typer.Option(help="chain members, start point first, comma-separated: n3,n7,n1")],
    method: Annotated[str, typer.Option(help="|".join(METHODS))] = "dp",
    kind: Annotated[str, typer.Option(help="finetune|inference")] = "finetune",
    objective: Annotated[str, typer.Option(help="|".join(OBJECTIVES))] = "latency",
    alpha: Annotated[float, typer.Option(min=0, help="weighted: weight of latency (per s)")] = 1.0,
    beta: Annotated[float, typer.Option(min=0, help="weighted: weight of energy (per J)")] = 1.0,
    deadline: Annotated[float | None, typer.Option(min=0, help="latency deadline in s (default: the service's)")] = None,
    time_limit: Annotated[float | None, typer.Option("--time-limit", min=0, help="seconds for the whole split (default: no limit)")] = None,
    out: Annotated[str | None, typer.Option("-o", "--out", help="write the plan (.json/.yaml) here")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the SolveResult as JSON")] = False,
) -> None:
    """Split the model along CHAIN by METHOD; exit 1 when no split is found (the reason is printed)."""
    _choice("--method", method, METHODS)
    _choice("--kind", kind, get_args(ClusterKind))
    _choice("--objective", objective, OBJECTIVES)
    members = [c.strip() for c in chain.split(",") if c.strip()]
    if not members:
        raise InputError("arguments", [("--chain", "name at least one node")])
    sc = load(Scenario, scenario)
    if deadline == 0:
        raise InputError("arguments", [("--deadline", "must be positive")])
    spec = Objective.model_validate(dict(kind=objective, alpha=alpha, beta=beta, deadline_s=deadline))
    result = solve_split(sc, members, cast(ClusterKind, kind), cast(SplitMethod, method), spec,
                         params=SolveParams(time_limit_s=time_limit))
    if out is not None and result.plan is not None:
        save(result.plan, out)
    if as_json and out != STDIO:
        write_text(STDIO, dumps(result))
    elif not as_json:
        to = err_console if out == STDIO else console  # stdout carries the plan document
        _print(sc, result, to)
        if out is not None and out != STDIO and result.plan is not None:
            to.print(f"plan written to {out}")
    if result.plan is None:
        raise typer.Exit(EXIT_NO_PLAN)


def _print(sc: Scenario, result: SolveResult, console: Console) -> None:
    spec = result.objective_spec
    head = f"[bold]{result.method}[/]: {result.status}"
    if result.objective is not None:
        head += f", {spec.kind} = {result.objective:.6g} {_unit(spec)}"
    if result.gap is not None:
        head += f", bound {result.bound:.6g}, gap {result.gap:.2e}"
    console.print(f"{head} ({result.time_s * 1e3:.1f} ms)")
    if result.plan is None:
        console.print(f"[red]no split[/]: {escape(result.reason or '')}")
        return
    cost = cluster_cost(sc, result.plan.clusters[0])
    console.print(_members_table(sc, cost))
    console.print(_latency_table(cost))


def _unit(spec: Objective) -> str:
    return {"latency": "s", "energy": "J", "bottleneck": "s", "weighted": "(α·s + β·J)"}[spec.kind]


def _members_table(sc: Scenario, cost: ClusterCost) -> Table:
    names = [u.name for u in sc.profile.units]
    t = Table(title=f"{cost.kind} cluster, edge server {cost.server}")
    for col in ("member", "units", "#", "GFLOP/pass", "compute s", "out hop s", "delivery s", "upload s", "memory GB", "capacity GB"):
        t.add_column(col, justify="left" if col in ("member", "units") else "right")
    outgoing = [*cost.hops, cost.return_hop]
    for m, hop in zip(cost.members, outgoing):
        hop_s = "-" if hop is None else f"{hop.fwd_s + hop.bwd_s:.4f}"
        t.add_row(
            m.node, escape(names[m.first] if m.first == m.last else f"{names[m.first]}..{names[m.last]}"), str(m.last - m.first + 1),
            f"{(m.fwd_flops + m.bwd_flops) / 1e9:,.1f}", f"{m.fwd_s + m.bwd_s:.4f}", hop_s,
            f"{m.delivery_s:.4f}", f"{m.upload_s:.4f}", f"{m.memory_bytes / 1e9:.3f}", f"{m.memory_capacity_bytes / 1e9:.3f}",
        )
    return t


def _latency_table(cost: ClusterCost) -> Table:
    t = Table(title="latency breakdown and totals")
    t.add_column("figure")
    t.add_column("value", justify="right")
    for label, value in (
        ("delivery (s, max over members)", f"{cost.delivery_s:.4f}"),
        ("one iteration (s, compute + hops)", f"{cost.iteration_s:.4f}"),
        ("iterations", str(cost.iterations)),
        ("upload (s, max over members)", f"{cost.upload_s:.4f}"),
        ("latency (s)", f"{cost.latency_s:.4f}"),
        ("bottleneck stage (s)", f"{cost.bottleneck_s:.4f}"),
        ("energy (J)", f"{cost.energy_j:.2f}"),
        ("communication (MB)", f"{cost.comm_bytes / 1e6:.2f}"),
        ("memory footprint (GB)", f"{cost.memory_bytes / 1e9:.3f}"),
    ):
        t.add_row(label, value)
    return t
