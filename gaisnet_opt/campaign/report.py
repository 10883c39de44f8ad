"""What a campaign records, per round and policy, and its report: tables side by side, totals, the Fig. 8 check.

Times and energies are the cost model's (a round's latency and energy, the
migration's seconds and joules); `host_s` is what planning and the validator
took on this host. A round's time is its migration followed by its round
latency; its energy is the plan's plus the migration's.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from gaisnet_opt.campaign.migration import Migration
from gaisnet_opt.plan import Plan


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class DomainRound(_Record):
    """One edge model in one round: its level and accuracies, its requests, its training."""

    domain: str
    level: int
    """fine-tuning rounds done when the round started"""
    accuracy_used: float
    """accuracy at that level the policy priced the round with"""
    accuracy: float
    """held-out accuracy after the round (measured if it fine-tuned, else unchanged)"""
    finetuned: bool
    arrived: int
    offered: int
    """requests the round's plan could serve"""
    served: int
    inference_accuracy: float | None = None
    """share of right answers over the served inputs"""
    train_loss: float | None = None


class NetworkRound(_Record):
    """Who took part: online (churn), present (also charged above the reserve and in an edge server's reach)."""

    online: int
    present: int
    joined: int
    left: int
    battery_min_j: float | None
    """lowest charge after the round; None without batteries"""


class Replan(_Record):
    """How the round was planned: host seconds, what became of the last plan's clusters, what could not be served."""

    seconds: float
    kept: int
    """clusters carried over as they were"""
    repaired: int
    """broken clusters re-split on the members left"""
    grown: int
    """clusters built anew"""
    broken: dict[str, int]
    """the last plan's clusters broken in this round, per checker rule"""
    unservable: int
    """requests no cluster could serve"""


class Spent(_Record):
    """What the executed plan cost by the cost model: round latency, time with migration, energy, and the totals so far."""

    latency_s: float
    time_s: float
    """migration seconds + round latency"""
    energy_j: float
    """the plan's energy plus the migration's"""
    cumulative_time_s: float
    cumulative_energy_j: float


class RoundRecord(_Record):
    """One round of one policy: its decision, what it earned and spent, and the plan it executed."""

    round: int
    action: str
    """paper notation: lowercase fine-tunes, uppercase serves, '-' idles"""
    predicted_profit: float
    """the policy's instance's profit for the action"""
    profit: float
    """measured: right answers' value, less the services' prices and migration"""
    cumulative_profit: float
    network: NetworkRound
    replan: Replan
    spent: Spent
    migration: Migration
    violations: list[str]
    """the checker on the executed plan: empty, or the campaign is wrong"""
    host_s: float
    """host seconds of the round: re-plan, policy and validator"""
    domains: list[DomainRound]
    plan: Plan
    """the executed plan"""


class PolicyRun(_Record):
    """A policy's campaign."""

    policy: str
    rounds: list[RoundRecord]

    @property
    def total_profit(self) -> float:
        return self.rounds[-1].cumulative_profit if self.rounds else 0.0

    def final_accuracy(self) -> dict[str, float]:
        return {d.domain: d.accuracy for d in self.rounds[-1].domains} if self.rounds else {}


class CampaignResult(_Record):
    """Every policy on the same seeded dynamics."""

    name: str
    seed: int
    rounds: int
    domains: list[str]
    settings: dict[str, float | int | str | bool | None]
    runs: list[PolicyRun]
    host: str
    versions: dict[str, str]

    def run(self, policy: str) -> PolicyRun:
        return next(r for r in self.runs if r.policy == policy)


def fig8_order(result: CampaignResult) -> tuple[bool | None, str]:
    """Whether cumulative profit runs MLCP ≥ MSIP ≥ RS (the paper's Fig. 8), and the totals; None if one is missing."""
    totals = {r.policy: r.total_profit for r in result.runs}
    if not {"mlcp", "msip", "rs"} <= totals.keys():
        return None, "needs mlcp, msip and rs"
    holds = totals["mlcp"] >= totals["msip"] >= totals["rs"]
    return holds, f"mlcp {totals['mlcp']:.2f}, msip {totals['msip']:.2f}, rs {totals['rs']:.2f}"


def summary_rows(result: CampaignResult) -> list[dict[str, str]]:
    """One row per policy: totals over the campaign."""
    rows = []
    for run in result.runs:
        r = run.rounds
        row = {"policy": run.policy, "profit": f"{run.total_profit:.3f}"}
        row |= {f"final acc {d}": f"{a:.3f}" for d, a in run.final_accuracy().items()}
        row |= {
            "fine-tunings": str(sum(d.finetuned for x in r for d in x.domains)),
            "served": str(sum(d.served for x in r for d in x.domains)),
            "arrived": str(sum(d.arrived for x in r for d in x.domains)),
            "time s": f"{r[-1].spent.cumulative_time_s:.4g}" if r else "0",
            "energy J": f"{r[-1].spent.cumulative_energy_j:.4g}" if r else "0",
            "migrations": str(sum(x.migration.members for x in r)),
            "broken": str(sum(sum(x.replan.broken.values()) for x in r)),
            "re-plan s (mean / max)": f"{sum(x.replan.seconds for x in r) / max(1, len(r)):.3f} / "
                                      f"{max((x.replan.seconds for x in r), default=0.0):.3f}",
        }
        rows.append(row)
    return rows


def round_rows(result: CampaignResult) -> list[dict[str, str]]:
    """One row per round: each policy's action, profit (cumulative) and accuracies, side by side."""
    rows = []
    for t in range(result.rounds):
        row = {"round": str(t + 1)}
        for run in result.runs:
            x = run.rounds[t]
            acc = " ".join(f"{d.accuracy:.2f}" for d in x.domains)
            row[run.policy] = f"{x.action} {x.profit:+.2f} ({x.cumulative_profit:.2f}) acc {acc}"
        rows.append(row)
    return rows


def markdown_table(rows: list[dict[str, str]]) -> list[str]:
    """Rows (same keys) as a markdown table."""
    if not rows:
        return []
    cols = list(rows[0])
    return ["| " + " | ".join(cols) + " |", "|" + " --- |" * len(cols),
            *("| " + " | ".join(r[c] for c in cols) + " |" for r in rows)]


def to_markdown(result: CampaignResult) -> str:
    """The campaign's report: settings, totals per policy, the Fig. 8 check, and every round side by side."""
    holds, totals = fig8_order(result)
    verdict = "not checked" if holds is None else ("holds" if holds else "does not hold")
    lines = [f"# Campaign {result.name}", "",
             f"- seed {result.seed}, {result.rounds} rounds, domains {', '.join(result.domains)}",
             "- settings: " + ", ".join(f"{k} {v}" for k, v in result.settings.items()),
             f"- host: {result.host}; " + ", ".join(f"{k} {v}" for k, v in result.versions.items()), "",
             "## Totals", "", *markdown_table(summary_rows(result)), "",
             f"Fig. 8 order (cumulative profit MLCP ≥ MSIP ≥ RS): {verdict} ({totals}).", "",
             "## Rounds (action, profit, cumulative profit, accuracy per domain after the round)", "",
             *markdown_table(round_rows(result)), ""]
    return "\n".join(lines)
