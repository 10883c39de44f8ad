"""A round's Gantt chart: one row per chain member, one block per phase."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from gaisnet_opt.cost import round_cost  # noqa: E402
from gaisnet_opt.plan import Plan  # noqa: E402
from gaisnet_opt.plotting.figure_io import save_figure  # noqa: E402
from gaisnet_opt.plotting.timeline import Phase, cluster_timeline  # noqa: E402
from gaisnet_opt.scenario import Scenario  # noqa: E402

COLORS: dict[Phase, str] = {
    "delivery": "#9e9e9e", "forward": "#1f77b4", "backward": "#d62728", "hop-forward": "#aec7e8",
    "hop-backward": "#ff9896", "return": "#2ca02c", "upload": "#616161",
}


def plot_gantt(scenario: Scenario, plan: Plan, path: str | Path) -> Path:
    """Write the Gantt chart of every cluster's round to `path` (format from its suffix)."""
    cost = round_cost(scenario, plan)
    rows: list[str] = []
    fig, ax = plt.subplots(figsize=(11, 0.45 * max(4, sum(len(c.members) for c in cost.clusters)) + 1.5))
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
    fig.tight_layout()
    return save_figure(fig, path)
