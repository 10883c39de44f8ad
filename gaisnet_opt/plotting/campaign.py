"""A campaign's curves: accuracy per model and cumulative profit against time or energy; a round's latency-energy front.

Time and energy are the cost model's, summed over the rounds (a round's
migration and latency, its plan's and migration's joules), so policies are
compared by what they spent, not by round number. Each curve starts at the
campaign's start (0, the accuracy before fine-tuning, or zero profit).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gaisnet_opt.campaign.pareto import FrontPoint, nondominated
from gaisnet_opt.campaign.report import CampaignResult, PolicyRun
from gaisnet_opt.plotting.figure_io import axes_for

Measure = Literal["accuracy", "profit"]
Axis = Literal["time", "energy"]
AXIS_LABEL = {"time": "cumulative time (s; cost model: migration + round latency)",
              "energy": "cumulative energy (J; cost model: plan + migration)"}
LINESTYLES = ("-", "--", ":", "-.")


def _x(run: PolicyRun, axis: Axis) -> list[float]:
    return [0.0, *(r.spent.cumulative_time_s if axis == "time" else r.spent.cumulative_energy_j for r in run.rounds)]


def plot_campaign(result: CampaignResult, measure: Measure = "profit", axis: Axis = "time",
                  ax: Axes | None = None) -> Figure:
    """Cumulative profit per policy, or held-out accuracy per policy and model, against cumulative time or energy."""
    fig, ax = axes_for(ax, (6.4, 4.0))
    for i, run in enumerate(result.runs):
        x = _x(run, axis)
        color = f"C{i}"
        if measure == "profit":
            ax.plot(x, [0.0, *(r.cumulative_profit for r in run.rounds)], color=color, marker="o", markersize=3,
                    label=f"{run.policy}: {run.total_profit:.1f}")
            continue
        for j, name in enumerate(result.domains):
            first = run.rounds[0].domains[j].accuracy_used if run.rounds else 0.0
            acc = [first, *(r.domains[j].accuracy for r in run.rounds)]
            ax.plot(x, acc, color=color, linestyle=LINESTYLES[j % len(LINESTYLES)], marker="o", markersize=2,
                    label=f"{run.policy} {name}")
    if measure == "profit":
        ax.axhline(0.0, color="0.6", linewidth=0.8)
    ax.set_xlabel(AXIS_LABEL[axis])
    ax.set_ylabel("cumulative profit" if measure == "profit" else "held-out accuracy")
    ax.set_title(f"{result.name}: {measure} against {axis} (seed {result.seed})")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", ncol=2 if measure == "accuracy" else 1)
    return fig


def plot_front(points: Sequence[FrontPoint], title: str = "latency-energy front of one round",
               ax: Axes | None = None) -> Figure:
    """Every ε-constraint solve (hollow if not proven optimal) and the non-dominated front through them."""
    fig, ax = axes_for(ax, (5.6, 4.0))
    front = nondominated(list(points))
    ax.step([p.latency_s for p in front], [p.energy_j for p in front], where="post", color="C0", label="front")
    for proven in (True, False):
        chosen = [p for p in points if (p.status == "optimal") == proven]
        if chosen:
            ax.scatter([p.latency_s for p in chosen], [p.energy_j for p in chosen], color="C0",
                       facecolors="C0" if proven else "none", label="optimal" if proven else "not proven optimal")
    ax.set_xlabel("round latency (s)")
    ax.set_ylabel("energy (J)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return fig
