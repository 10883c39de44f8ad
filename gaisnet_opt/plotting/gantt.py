"""A round's Gantt chart: one row per chain member, one block per phase."""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from gaisnet_opt.cost import round_cost
from gaisnet_opt.plan import Plan
from gaisnet_opt.plotting.figure_io import axes_for
from gaisnet_opt.plotting.timeline import Phase, cluster_timeline
from gaisnet_opt.scenario import Scenario

COLORS: dict[Phase, str] = {
    "delivery": "#9e9e9e", "forward": "#1f77b4", "backward": "#d62728", "hop-forward": "#aec7e8",
    "hop-backward": "#ff9896", "return": "#2ca02c", "upload": "#616161",
}


def plot_gantt(scenario: Scenario, plan: Plan, ax: Axes | None = None) -> Figure:
    """The Gantt chart of every cluster's round, as the cost model times it, on `ax` (default: a new figure)."""
    cost = round_cost(scenario, plan)
    rows: list[str] = []
    fig, ax = axes_for(ax, (11, 0.45 * max(4, sum(len(c.members) for c in cost.clusters)) + 1.5))
    for ci, cc in enumerate(cost.clusters):
        for seg in cluster_timeline(cc):
            label = f"#{ci} {cc.kind[:3]} {seg.row}"
            if label not in rows:
                rows.append(label)
            ax.broken_barh([(seg.start_s, seg.duration_s)], (rows.index(label) - 0.4, 0.8), color=COLORS[seg.phase])
    ax.set_yticks(range(len(rows)), rows)
    ax.invert_yaxis()
    ax.set_xlabel("time in round (s)")
    ax.set_title(f"Round of {scenario.name}: latency {cost.latency_s:.3f} s")
    ax.legend(handles=[Patch(color=c, label=p) for p, c in COLORS.items()], loc="upper center",
              bbox_to_anchor=(0.5, -0.12), ncol=len(COLORS), fontsize="small")
    return fig
