"""`campaign` and `front`: integrated fine-tuning and inference over many rounds, and one round's latency-energy front.

torch (the validator) is imported inside `campaign`, so the rest of the CLI works without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.table import Table

from gaisnet_opt.campaign.spec import POLICY_NAMES, CampaignSpec, PolicyName
from gaisnet_opt.cli.common import console, reports_bad_input
from gaisnet_opt.errors import InputError
from gaisnet_opt.io import dumps, parse_as, write_text
from gaisnet_opt.params import SolveParams
from gaisnet_opt.scenario import Scenario

if TYPE_CHECKING:
    from gaisnet_opt.plotting.campaign import Axis, Measure

ALL = "all"
FIGURES: list[tuple[Measure, Axis]] = [("accuracy", "time"), ("profit", "time"), ("accuracy", "energy"),
                                       ("profit", "energy")]


def register(app: typer.Typer) -> None:
    """Add `campaign` and `front` to `app`."""
    app.command("campaign")(campaign_command)
    app.command("front")(front_command)


def _policies(policy: str) -> tuple[PolicyName, ...] | None:
    if policy == ALL:
        return None
    names = tuple(p.strip() for p in policy.split(","))
    bad = [p for p in names if p not in POLICY_NAMES]
    if bad:
        raise InputError("campaign", [("--policy", f"'{', '.join(bad)}': choose among {', '.join(POLICY_NAMES)} or {ALL}")])
    return cast(tuple[PolicyName, ...], names)


def _image(path: Path | None, option: str) -> None:
    """An image path whose suffix names a format, or an InputError before any work is done."""
    from gaisnet_opt.plotting.figure_io import check_format  # matplotlib loads only when a figure is asked for

    if path is not None:
        try:
            check_format(path)
        except ValueError as exc:
            raise InputError("options", [(option, str(exc))]) from None


def _overridden(spec: CampaignSpec, overrides: dict[str, dict[str, object]]) -> CampaignSpec:
    """The campaign with command-line values in place of the document's, validated like the document."""
    data = spec.model_dump(mode="json")
    for section, values in overrides.items():
        for key, value in values.items():
            if value is not None:
                if section:
                    data[section][key] = value
                else:
                    data[key] = value
    return parse_as(CampaignSpec, data, "command line")


@reports_bad_input
def campaign_command(
    document: Annotated[Path, typer.Argument(metavar="CAMPAIGN", help="campaign document, or a scenario (two domains: "
                                             "the profile's classes in halves)")],
    rounds: Annotated[int | None, typer.Option(help="rounds T (default: the document's)")] = None,
    policy: Annotated[str, typer.Option(help=f"mlcp, msip, rs, fixed, comma-separated, or {ALL} (the document's)")] = ALL,
    seed: Annotated[int | None, typer.Option(help="seed of the dynamics, planner, RS and models")] = None,
    stability: Annotated[float | None, typer.Option(help="weight of migration against the round's objective")] = None,
    time_limit: Annotated[float | None, typer.Option(help="seconds of local search per re-plan")] = None,
    capacity: Annotated[int | None, typer.Option(help="services per round")] = None,
    checkpoint: Annotated[Path | None, typer.Option(help="pre-trained backbone (safetensors)")] = None,
    pretrain_epochs: Annotated[int | None, typer.Option(help="pre-train a backbone first (without --checkpoint)")] = None,
    out: Annotated[Path, typer.Option("--out", help="directory for campaign.json, campaign.md, the plots")] = Path("campaign"),
    threads: Annotated[int | None, typer.Option(help="torch threads (1 on a shared host; default: torch's)")] = None,
) -> None:
    """Run CAMPAIGN: every round re-plan, price, decide (each policy), train and serve for real, learn; report side by side."""
    from gaisnet_opt.campaign.document import load_campaign

    spec = _overridden(load_campaign(document), {
        "": {"rounds": rounds, "seed": seed},
        "planner": {"stability": stability, "time_limit_s": time_limit},
        "policy": {"capacity": capacity},
        "validator": {"checkpoint": None if checkpoint is None else str(checkpoint), "pretrain_epochs": pretrain_epochs}})
    chosen = _policies(policy)
    import torch

    from gaisnet_opt.campaign.loop import run_campaign
    from gaisnet_opt.campaign.report import RoundRecord, summary_rows, to_markdown
    from gaisnet_opt.plotting.campaign import plot_campaign
    from gaisnet_opt.plotting.figure_io import save_figure

    if threads is not None:
        torch.set_num_threads(threads)

    def show(name: str, r: RoundRecord) -> None:
        console.print(f"{name} round {r.round}: {r.action} profit {r.profit:+.3f} (cumulative {r.cumulative_profit:.3f}), "
                      f"{r.network.present} clients, re-plan {r.replan.seconds:.2f} s")

    result = run_campaign(spec, policies=chosen, progress=show)
    write_text(out / "campaign.json", dumps(result))
    write_text(out / "campaign.md", to_markdown(result))
    for measure, axis in FIGURES:
        save_figure(plot_campaign(result, measure, axis), out / f"{measure}_{axis}.png")
    rows = summary_rows(result)
    table = Table(title=f"{result.name}: {result.rounds} rounds, seed {result.seed}")
    for col in rows[0]:
        table.add_column(col)
    for row in rows:
        table.add_row(*row.values())
    console.print(table)
    console.print(f"wrote {out}/campaign.json, campaign.md, " + ", ".join(f"{m}_{a}.png" for m, a in FIGURES))


@reports_bad_input
def front_command(
    document: Annotated[Path, typer.Argument(metavar="INPUT", help="a scenario, or a campaign document")],
    round_: Annotated[int, typer.Option("--round", min=1, help="campaign: the round whose network is used")] = 1,
    domain: Annotated[str | None, typer.Option(help="campaign: the domain fine-tuned (default: the first)")] = None,
    points: Annotated[int, typer.Option(min=2, help="solves of the ε-constraint sweep, both ends included")] = 6,
    method: Annotated[str, typer.Option(help="exact solver: cpsat or milp")] = "cpsat",
    time_limit: Annotated[float, typer.Option(min=0.1, help="seconds per solve")] = 10.0,
    seed: Annotated[int, typer.Option(help="solver seed")] = 0,
    csv: Annotated[Path | None, typer.Option(help="write every point as CSV")] = None,
    plot: Annotated[Path | None, typer.Option(help="write the front (.png/.svg/.pdf)")] = None,
) -> None:
    """The latency-energy Pareto front of one round: least energy under round-latency deadlines (exact solver)."""
    from gaisnet_opt.campaign.document import read_document
    from gaisnet_opt.campaign.pareto import campaign_round, epsilon_front, nondominated
    from gaisnet_opt.campaign.planner import Method

    _image(plot, "--plot")
    if method not in ("cpsat", "milp"):
        raise InputError("front", [("--method", f"'{method}' is not an exact method (cpsat, milp)")])
    doc = read_document(document)
    if isinstance(doc, Scenario):
        scenario = doc
    else:
        names = [d.name for d in doc.domains]
        if domain is not None and domain not in names:
            raise InputError("front", [("--domain", f"'{domain}' is not a domain ({', '.join(names)})")])
        scenario = campaign_round(doc, domain or names[0], round_)
    found = epsilon_front(scenario, points, cast(Method, method), params=SolveParams(time_limit_s=time_limit, seed=seed))
    front = {id(p) for p in nondominated(found)}
    table = Table(title=f"{scenario.name}: least energy under a round-latency deadline ({method})")
    for col in ("deadline s", "latency s", "energy J", "status", "solve s", "on the front"):
        table.add_column(col)
    for p in found:
        table.add_row("-" if p.deadline_s is None else f"{p.deadline_s:.6g}", f"{p.latency_s:.6g}", f"{p.energy_j:.6g}",
                      p.status, f"{p.time_s:.2f}", "yes" if id(p) in front else "no")
    console.print(table)
    if csv is not None:
        lines = ["deadline_s,objective,latency_s,energy_j,status,time_s,front"]
        lines += [",".join(["" if p.deadline_s is None else repr(p.deadline_s), p.objective, repr(p.latency_s),
                            repr(p.energy_j), p.status, f"{p.time_s:.4f}", str(int(id(p) in front))]) for p in found]
        write_text(csv, "\n".join(lines) + "\n")
    if plot is not None:
        from gaisnet_opt.plotting.campaign import plot_front
        from gaisnet_opt.plotting.figure_io import save_figure

        save_figure(plot_front(found, title=f"{scenario.name}: latency-energy front"), plot)

