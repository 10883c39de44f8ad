"""Cumulative profit per round for each service policy, like the paper's Fig. 8."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gaisnet_opt.plotting.figure_io import axes_for
from gaisnet_opt.schedule.result import ScheduleResult

MARKERS = "osD^vP*X"


def plot_cumulative(results: Sequence[ScheduleResult], title: str | None = None, ax: Axes | None = None) -> Figure:
    """The policies' cumulative-profit curves on `ax` (default: a new figure)."""
    fig, ax = axes_for(ax, (6.4, 4.0))
    for i, res in enumerate(results):
        curve = res.cumulative
        label = res.policy if res.policy != "rs" else f"rs (seed {res.params.get('seed')})"
        ax.plot(range(len(curve)), curve, marker=MARKERS[i % len(MARKERS)], markersize=4, label=f"{label}: {res.total:g}")
    ax.axhline(0.0, color="0.6", linewidth=0.8)
    ax.set_xlabel("round")
    ax.set_ylabel("cumulative profit")
    ax.set_title(title or (results[0].instance if results else ""))
    ax.grid(True, alpha=0.3)
    ax.legend()
    return fig
