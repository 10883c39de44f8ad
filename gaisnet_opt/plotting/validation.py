"""Figures of a validation run: held-out accuracy per round, measured against predicted compute seconds, and one
round's timeline as predicted beside as measured."""

from __future__ import annotations

from typing import TYPE_CHECKING

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gaisnet_opt.plotting.figure_io import axes_for
from gaisnet_opt.plotting.gantt import Lane, draw_lanes, row_height
from gaisnet_opt.round_timeline import Segment

if TYPE_CHECKING:  # the report lives with the validator, which needs torch; drawing it does not
    from gaisnet_opt.validator.records import SegmentRow, ValidationReport


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


def _lanes(report: ValidationReport, rows: list[SegmentRow]) -> list[Lane]:
    kinds = {c.cluster: c.kind[:3] for c in report.clusters}
    return [(f"#{ci} {kind}", [Segment(r.row, r.phase, r.start_s, r.duration_s) for r in rows if r.cluster == ci])  # type: ignore[arg-type]
            for ci, kind in kinds.items()]


def plot_timelines(report: ValidationReport, axes: tuple[Axes, Axes] | None = None) -> Figure:
    """The last round as the cost model predicts it on the testbed (left) and as measured (right), each cluster from
    the start of its turn, on one time axis (default: a new figure with two axes)."""
    predicted, measured = _lanes(report, report.predicted_segments), _lanes(report, report.measured_segments)
    if axes is None:
        fig = Figure(figsize=(16, row_height(predicted)))
        left, right = fig.subplots(1, 2, sharex=True, sharey=True)
    else:
        left, right = axes
        fig = left.get_figure()  # type: ignore[assignment]
    draw_lanes(left, predicted, f"predicted: {report.round_latency_s_pred:.3g} s")
    measured_s = "–" if report.round_latency_s is None else f"{report.round_latency_s:.3g} s"
    draw_lanes(right, measured, f"measured: {measured_s} (time scale {report.config.time_scale:g})")
    return fig
