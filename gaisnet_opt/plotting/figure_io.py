"""Figures made without pyplot, and written atomically: a failed save leaves no half-written file."""

from __future__ import annotations

from pathlib import Path

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gaisnet_opt.io import atomic_write

FORMATS = ("png", "svg", "pdf")
FIXED_METADATA: dict[str, dict[str, str | None]] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "Creator": None, "Producer": None},
}
"""No dates or versions in the files, so the same figure gives the same bytes."""


def axes_for(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """`ax` and its figure, or a new figure of `figsize` with one axes (no pyplot: nothing global to close)."""
    if ax is not None:
        fig = ax.get_figure()
        assert isinstance(fig, Figure)
        return fig, ax
    fig = Figure(figsize=figsize)
    return fig, fig.subplots()


def check_format(path: str | Path) -> str:
    """The image format `path`'s suffix names; a ValueError naming the allowed ones otherwise."""
    fmt = Path(path).suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ValueError(f"output: '{Path(path).name}' must end in one of .{', .'.join(FORMATS)}")
    return fmt


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Save `fig` to `path` in the format its suffix names (png, svg or pdf), reproducibly."""
    fmt = check_format(path)
    with matplotlib.rc_context({"svg.hashsalt": "gaisnet-opt"}):  # SVG ids from a fixed salt, not a random one
        return atomic_write(path, lambda tmp: fig.savefig(tmp, format=fmt, metadata=FIXED_METADATA[fmt],
                                                         bbox_inches="tight"))  # legends outside stay in
