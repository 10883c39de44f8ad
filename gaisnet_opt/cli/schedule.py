"""`gaisnet-opt schedule`: which service each round serves (docs/model.md §6), by MLCP, MSIP, RS or rolling horizon."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gaisnet_opt.cli.common import console, reports_bad_input
from gaisnet_opt.errors import InputError
from gaisnet_opt.io import dumps, load, write_text
from gaisnet_opt.schedule import (
    EXAMPLES,
    POLICIES,
    Policy,
    PolicyComparison,
    ScheduleInstance,
    applicable_policies,
    compare_policies,
)
from gaisnet_opt.schedule.dp import TooManyStates
from gaisnet_opt.schedule.policies import replay_labels

ALL = "all"


def register(app: typer.Typer) -> None:
    """Add the schedule command to `app`."""
    app.command("schedule")(schedule)


@reports_bad_input
def schedule(
    instance: Annotated[str | None, typer.Argument(metavar="INSTANCE", help="instance file (JSON or YAML), '-' for stdin")] = None,
    example: Annotated[str | None, typer.Option(help=f"built-in instance: {', '.join(EXAMPLES)}")] = None,
    policy: Annotated[str, typer.Option(help=f"{'|'.join(POLICIES)}|{ALL}")] = ALL,
    seed: Annotated[int, typer.Option(help="seed of RS and of sampled request sequences")] = 0,
    seeds: Annotated[int, typer.Option(min=1, help="runs for the mean and spread over seeds")] = 1000,
    window: Annotated[int | None, typer.Option(min=1, help="rolling horizon: rounds planned ahead (default: to the end)")] = None,
    json: Annotated[bool, typer.Option("--json", help="print the results as JSON")] = False,
    plot: Annotated[Path | None, typer.Option(help="write the cumulative-profit plot (.png/.svg); --example writes <name>-fig8.png by default")] = None,
) -> None:
    """Decide each round whether to fine-tune or serve, which model, whose request; compare the policies."""
    inst = _instance(instance, example)
    chosen = _policies(inst, policy)
    if plot is not None and plot.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise InputError("options", [("--plot", f"'{plot.name}' must end in .png, .svg or .pdf")])
    try:
        comparison = compare_policies(inst, chosen, seed=seed, runs=seeds, window=window)
    except TooManyStates as exc:
        raise InputError(inst.name, [("models", str(exc))]) from None
    reference = EXAMPLES[example] if example is not None else None
    if reference is not None:
        given = tuple(replay_labels(inst, labels, policy=name) for name, labels in reference.schedules.items())
        comparison = comparison.model_copy(update={"results": (*comparison.results, *given)})
        plot = plot or Path(f"{example}-fig8.png")
    if plot is not None:
        from gaisnet_opt.plotting.cumulative_profit import plot_cumulative  # matplotlib loads only when asked for
        from gaisnet_opt.plotting.figure_io import save_figure

        save_figure(plot_cumulative(comparison.results, title=f"{inst.name}: cumulative profit"), plot)
    if json:
        write_text("-", dumps(comparison))
        return
    _print(inst, comparison, seed)
    if reference is not None:
        console.print(f"totals reported in {reference.source}: " + ", ".join(f"{k} {v:g}" for k, v in reference.totals.items()))
    if plot is not None:
        console.print(f"cumulative-profit plot written to {plot}")


def _instance(path: str | None, example: str | None) -> ScheduleInstance:
    if (path is None) == (example is None):
        raise InputError("schedule", [("INSTANCE", "give an instance file or --example NAME, not both")])
    if example is not None:
        if example not in EXAMPLES:
            raise InputError("schedule", [("--example", f"unknown example '{example}' (one of {', '.join(EXAMPLES)})")])
        return EXAMPLES[example].build()
    assert path is not None
    return load(ScheduleInstance, path)


def _policies(inst: ScheduleInstance, policy: str) -> tuple[Policy, ...]:
    if policy == ALL:
        return applicable_policies(inst)
    if policy not in POLICIES:
        raise InputError("schedule", [("--policy", f"unknown policy '{policy}' (one of {', '.join(POLICIES)}, {ALL})")])
    if policy not in applicable_policies(inst):
        raise InputError(inst.name, [("forecast", f"policy '{policy}' plans on a forecast; this instance has none")])
    return (policy,)


def _print(inst: ScheduleInstance, comparison: PolicyComparison, seed: int) -> None:
    source = "known requests" if inst.requests is not None else f"requests sampled from the forecast with seed {seed}"
    rounds = Table(title=f"{inst.name}: decision/profit per round ({source}; lowercase = fine-tune, uppercase = serve)")
    rounds.add_column("round", justify="right")
    rounds.add_column("requests")
    for res in comparison.results:
        rounds.add_column(res.policy)
    first = comparison.results[0].rounds
    for t, decision in enumerate(first):
        cells = [f"{res.rounds[t].label}/{res.rounds[t].profit:g}" for res in comparison.results]
        rounds.add_row(str(decision.round), " ".join(decision.requests) or "-", *cells)
    rounds.add_row("ALL", "", *(f"{res.total:g}" for res in comparison.results), style="bold")
    console.print(rounds)

    totals = Table(title="totals (profit units)")
    for col in ("policy", "params", "status", "total", "optimal schedules", "time (s)"):
        totals.add_column(col)
    for res in comparison.results:
        opt = res.optimal_schedules
        count = "" if opt is None else f"{opt.count}{'' if opt.exact else '+'}{' (unique)' if opt.unique else ''}"
        params = ", ".join(f"{k}={v}" for k, v in res.params.items())
        totals.add_row(res.policy, params, res.status, f"{res.total:g}", count, f"{res.time_s:.3f}")
    console.print(totals)
    for res in comparison.results:
        if res.optimal_schedules is not None and not res.optimal_schedules.unique:
            console.print(f"{res.policy}: {res.optimal_schedules.count} optimal schedules; shown: the {res.optimal_schedules.tie_break}")

    if inst.requests is None:
        console.print("mlcp and mlcp-milp know each sampled sequence in advance (hindsight optimum); "
                      "rolling sees only the forecast and the current round's requests")
    if comparison.summaries:
        over = Table(title="total profit over seeds (profit units)")
        for col in ("policy", "runs", "seeds", "mean", "std", "min", "max"):
            over.add_column(col)
        for s in comparison.summaries:
            over.add_row(s.policy, str(s.runs), s.seeds, f"{s.mean:.3f}", f"{s.std:.3f}", f"{s.min:g}", f"{s.max:g}")
        console.print(over)
