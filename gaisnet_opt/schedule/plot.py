"""Cumulative profit per round for each policy, like the paper's Fig. 8 (matplotlib, no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from gaisnet_opt.schedule.result import ScheduleResult  # noqa: E402

MARKERS = "osD^vP*X"


def plot_cumulative(results: Sequence[ScheduleResult], path: str | Path, title: str | None = None) -> Path:
    """Write the cumulative-profit curves to `path` (format from its suffix: .png, .svg, .pdf)."""
    with plt.rc_context({"svg.hashsalt": "gaisnet-opt"}):  # SVG element ids from a fixed salt, not a random one
        return _draw(results, Path(path), title)


def _draw(results: Sequence[ScheduleResult], out: Path, title: str | None) -> Path:
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    try:
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
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, metadata=_fixed_metadata(out))
    finally:
        plt.close(fig)
    return out


def _fixed_metadata(path: Path) -> dict[str, str | None]:
    """No creation date or software version in the file, so the same results give the same bytes."""
    suffix = path.suffix.lower()
    if suffix == ".svg":
        return {"Date": None, "Creator": None}
    if suffix == ".pdf":
        return {"CreationDate": None, "Creator": None, "Producer": None}
    return {"Software": None}
