"""Cumulative profit per round for each policy, like the paper's Fig. 8 (matplotlib, no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from gaisnet_opt.plotting.figure_io import save_figure  # noqa: E402
from gaisnet_opt.schedule.result import ScheduleResult  # noqa: E402

MARKERS = "osD^vP*X"


def plot_cumulative(results: Sequence[ScheduleResult], path: str | Path, title: str | None = None) -> Path:
    """Write the cumulative-profit curves to `path` (format from its suffix: .png, .svg, .pdf)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
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
    fig.tight_layout()
    return save_figure(fig, path)
