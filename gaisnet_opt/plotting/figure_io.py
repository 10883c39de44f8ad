"""Writing figures atomically: a failed plot leaves no half-written file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

FORMATS = ("png", "svg", "pdf")


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Save `fig` to `path` in the format its suffix names (png, svg or pdf), then close it."""
    out = Path(path)
    fmt = out.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        plt.close(fig)
        raise ValueError(f"output: '{out.name}' must end in one of .{', .'.join(FORMATS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=f".{fmt}")
    os.close(fd)
    try:
        fig.savefig(tmp, format=fmt)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
        plt.close(fig)
    return out
