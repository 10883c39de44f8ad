"""A round's Gantt chart: one row per chain member, one block per phase."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from gaisnet_opt.cost import round_cost
from gaisnet_opt.plan import Plan
from gaisnet_opt.plotting.figure_io import axes_for
from gaisnet_opt.round_timeline import Phase, Segment, cluster_timeline
from gaisnet_opt.scenario import Scenario

COLORS: dict[Phase, str] = {
    "delivery": "#9e9e9e", "forward": "#1f77b4", "backward": "#d62728", "step": "#9467bd", "hop-forward": "#aec7e8",
    "hop-backward": "#ff9896", "return": "#2ca02c", "upload": "#616161",
}

Lane = tuple[str, Sequence[Segment]]
"""A cluster's row label prefix (e.g. "#0 fin") and its segments."""


def row_height(lanes: Sequence[Lane]) -> float:
    """Inches a chart of these lanes needs."""
    return 0.45 * max(4, len({(p, s.row) for p, segs in lanes for s in segs})) + 1.5


def draw_lanes(ax: Axes, lanes: Sequence[Lane], title: str) -> None:
    """Every lane's segments on `ax`, a row per (cluster, member), the phases' colours in a legend below."""
    rows: list[str] = []
    for prefix, segments in lanes:
        for seg in segments:
            label = f"{prefix} {seg.row}"
            if label not in rows:
                rows.append(label)
            ax.broken_barh([(seg.start_s, seg.duration_s)], (rows.index(label) - 0.4, 0.8), color=COLORS[seg.phase])
    ax.set_yticks(range(len(rows)), rows)
    ax.invert_yaxis()
    ax.set_xlabel("time in round (s)")
    ax.set_title(title)
    ax.legend(handles=[Patch(color=c, label=p) for p, c in COLORS.items()], loc="upper center",
              bbox_to_anchor=(0.5, -0.12), ncol=4, fontsize="small")


def plot_gantt(scenario: Scenario, plan: Plan, ax: Axes | None = None) -> Figure:
    """The Gantt chart of every cluster's round, as the cost model times it, on `ax` (default: a new figure)."""
    cost = round_cost(scenario, plan)
    lanes = [(f"#{ci} {cc.kind[:3]}", cluster_timeline(cc)) for ci, cc in enumerate(cost.clusters)]
    fig, ax = axes_for(ax, (11, row_height(lanes)))
    draw_lanes(ax, lanes, f"Round of {scenario.name}: latency {cost.latency_s:.3f} s")
    return fig
