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
FIXED_METADATA: dict[str, dict[str, str | None]] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "Creator": None, "Producer": None},
}
"""No dates or versions in the files, so the same figure gives the same bytes."""


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Save `fig` to `path` in the format its suffix names (png, svg or pdf), reproducibly, then close it."""
    out = Path(path)
    fmt = out.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        plt.close(fig)
        raise ValueError(f"output: '{out.name}' must end in one of .{', .'.join(FORMATS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=f".{fmt}")
    os.close(fd)
    try:
        with plt.rc_context({"svg.hashsalt": "gaisnet-opt"}):  # SVG ids from a fixed salt, not a random one
            fig.savefig(tmp, format=fmt, metadata=FIXED_METADATA[fmt], bbox_inches="tight")  # legends outside stay in
        os.chmod(tmp, 0o644)  # mkstemp makes 0600
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
        plt.close(fig)
    return out
