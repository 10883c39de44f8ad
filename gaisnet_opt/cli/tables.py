"""Rich tables for people; every figure names its unit."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from gaisnet_opt.checker import Violation
from gaisnet_opt.cost import RoundCost
from gaisnet_opt.scenario import Scenario


def _num(x: float, scale: float = 1.0, digits: int = 3) -> str:
    return "∞ (no link)" if x == float("inf") else f"{x / scale:,.{digits}f}"


def round_table(scenario: Scenario, cost: RoundCost) -> Table:
    """One row per cluster with its latency breakdown, energy, communication and memory."""
    names = [u.name for u in scenario.profile.units]
    t = Table(title="Plan metrics per cluster")
    for col in ("#", "kind", "chain (units)", "delivery s", "iteration s", "iters", "upload s",
                "latency s", "energy J", "comm MB", "memory GB"):
        t.add_column(col, justify="left" if col in ("kind", "chain (units)") else "right")
    for i, c in enumerate(cost.clusters):
        chain = escape(" → ".join(f"{m.node}[{names[m.first]}..{names[m.last]}]" for m in c.members))
        t.add_row(str(i), c.kind, chain, _num(c.delivery_s), _num(c.iteration_s), str(c.iterations),
                  _num(c.upload_s), _num(c.latency_s), _num(c.energy_j, digits=1),
                  _num(c.comm_bytes, 1e6, 2), _num(c.memory_bytes, 1e9))
    return t


def summary_table(cost: RoundCost) -> Table:
    """The round's key metrics."""
    t = Table(title="Round")
    t.add_column("metric")
    t.add_column("value", justify="right")
    for label, value in (
        ("round latency (s)", _num(cost.latency_s)),
        ("fine-tuning latency (s)", _num(cost.finetune_latency_s)),
        ("inference latency (s)", _num(cost.inference_latency_s)),
        ("energy (J)", _num(cost.energy_j, digits=1)),
        ("communication (MB)", _num(cost.comm_bytes, 1e6, 2)),
        ("memory footprint (GB)", _num(cost.memory_bytes, 1e9)),
        ("training samples covered", str(cost.samples)),
        ("classes covered", str(cost.classes)),
    ):
        t.add_row(label, value)
    return t


def violations_table(violations: list[Violation]) -> Table:
    t = Table(title=f"{len(violations)} rule violation(s)", title_style="bold red")
    for col in ("rule", "where", "what"):
        t.add_column(col)
    for v in violations:
        t.add_row(v.rule, v.path, v.message)
    return t
