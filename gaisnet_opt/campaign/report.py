"""What a campaign records, per round and policy, and its report: tables side by side, totals, the Fig. 8 check.

Times and energies are the cost model's (a round's latency and energy, the
migration's seconds and joules); `host_s` is what planning and the validator
took on this host. A round's time is its migration followed by its round
latency; its energy is the plan's plus the migration's.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from gaisnet_opt.plan import Plan


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MigrationRecord(_Record):
    """Members that received units, units, bytes, seconds (the slowest delivery), joules."""

    members: int = 0
    units: int = 0
    bytes: float = 0.0
    seconds: float = 0.0
    joules: float = 0.0


class DomainRound(_Record):
    """One edge model in one round."""

    domain: str
    level: int = Field(description="fine-tuning rounds done when the round started")
    accuracy_used: float = Field(description="accuracy at that level the policy priced the round with")
    accuracy: float = Field(description="held-out accuracy after the round (measured if it fine-tuned, else unchanged)")
    finetuned: bool
    arrived: int = Field(description="requests that arrived")
    offered: int = Field(description="requests the round's plan could serve")
    served: int
    inference_accuracy: float | None = Field(default=None, description="share of right answers over the served inputs")
    train_loss: float | None = None


class RoundRecord(_Record):
    """One round of one policy."""

    round: int
    online: int
    present: int = Field(description="online, charged above the reserve and in an edge server's reach")
    joined: int
    left: int
    action: str = Field(description="paper notation: lowercase fine-tunes, uppercase serves, '-' idles")
    predicted_profit: float = Field(description="the policy's instance's profit for the action")
    profit: float = Field(description="measured: right answers' value, less the services' prices and migration")
    cumulative_profit: float
    latency_s: float = Field(description="the executed plan's round latency (cost model)")
    energy_j: float = Field(description="the executed plan's energy plus the migration's (cost model)")
    migration: MigrationRecord
    time_s: float = Field(description="migration seconds + round latency")
    cumulative_time_s: float
    cumulative_energy_j: float
    replan_s: float = Field(description="host seconds of the re-plan")
    kept: int = Field(description="clusters of the last plan carried over as they were")
    repaired: int = Field(description="broken clusters of the last plan re-split on the members left")
    grown: int = Field(description="clusters built anew")
    broken: dict[str, int] = Field(description="the last plan's clusters broken in this round, per checker rule")
    unservable: int = Field(description="requests no cluster could serve")
    violations: list[str] = Field(description="the checker on the executed plan: empty, or the campaign is wrong")
    battery_min_j: float | None
    host_s: float = Field(description="host seconds of the round: re-plan, policy and validator")
    domains: list[DomainRound]
    plan: Plan = Field(description="the executed plan")


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
            "time s": f"{r[-1].cumulative_time_s:.4g}" if r else "0",
            "energy J": f"{r[-1].cumulative_energy_j:.4g}" if r else "0",
            "migrations": str(sum(x.migration.members for x in r)),
            "broken": str(sum(sum(x.broken.values()) for x in r)),
            "re-plan s (mean / max)": f"{sum(x.replan_s for x in r) / max(1, len(r)):.3f} / "
                                      f"{max((x.replan_s for x in r), default=0.0):.3f}",
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
