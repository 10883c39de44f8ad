"""Figures of a validation run: held-out accuracy per round, and measured against predicted compute seconds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gaisnet_opt.plotting.figure_io import axes_for

if TYPE_CHECKING:  # the report lives with the validator, which needs torch; drawing it does not
    from gaisnet_opt.validator.report import ValidationReport


def plot_accuracy(report: ValidationReport, ax: Axes | None = None) -> Figure:
    """The aggregated model's held-out accuracy after every round (round 0: before training)."""
    fig, ax = axes_for(ax, (4.5, 3.2))
    ax.plot([r.round for r in report.rounds], [r.test_accuracy for r in report.rounds], marker="o")
    ax.set(xlabel="round", ylabel="held-out accuracy", ylim=(0, 1), title="aggregated model")
    ax.grid(alpha=0.3)
    return fig


def plot_member_seconds(report: ValidationReport, ax: Axes | None = None) -> Figure:
    """Each member's measured seconds per pass against the calibrated cost model's, forward and backward."""
    fig, ax = axes_for(ax, (4.5, 3.6))
    for phase, marker in (("fwd", "o"), ("bwd", "s")):
        pts = [(getattr(m, f"{phase}_s_pred"), getattr(m, f"{phase}_s")) for m in report.members
               if getattr(m, f"{phase}_s") is not None and getattr(m, f"{phase}_s_pred") > 0]
        if pts:
            ax.scatter(*zip(*pts, strict=True), marker=marker, label=phase)
    top = max([m.fwd_s_pred for m in report.members] + [m.bwd_s_pred for m in report.members] + [1e-6])
    ax.plot([0, top], [0, top], color="grey", lw=0.8, label="measured = predicted")
    ax.set(xlabel="predicted s per pass (calibrated host)", ylabel="measured s per pass", title="compute per member")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig
