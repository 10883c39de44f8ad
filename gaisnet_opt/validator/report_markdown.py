"""The report as markdown tables (units in every header), and the files a run writes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from gaisnet_opt.io import dumps, write_text
from gaisnet_opt.validator.records import ClusterRow, HopRow, LinkRow, MemberRow, RoundRecord, ValidationReport


def error(measured: float | None, predicted: float) -> str:
    """Measured against predicted as a signed percentage ("–": not measured)."""
    if measured is None:
        return "–"
    if predicted == 0:
        return "exact" if measured == 0 else "∞"
    return f"{100 * (measured - predicted) / predicted:+.1f} %"


def g(x: float | None) -> str:
    """A figure to four significant digits ("–": none)."""
    return "–" if x is None else f"{x:.4g}"


def pair(measured: float | None, predicted: float) -> str:
    """`measured / predicted (error)`."""
    return f"{g(measured)} / {g(predicted)} ({error(measured, predicted)})"


def _header(report: ValidationReport) -> list[str]:
    c = report.config
    cal = report.calibration
    speed = "not calibrated (no timed pass)" if cal is None else (
        f"{cal.fit.flops_per_s / 1e9:.3f} GFLOP/s, {1e3 * cal.fit.pass_overhead_s:.3f} ms per pass, backward at "
        f"{cal.fit.bwd_efficiency:.3f} of the forward rate (RMS relative error {100 * cal.fit.rms_relative_error:.1f} %), "
        f"from {cal.source}" + (f", measured {cal.measured_at}" if cal.measured_at else ""))
    return [
        f"# Validation of {report.scenario}", "",
        f"- profile `{report.profile}`, data `{c.data}` ({c.partition} partition), checkpoint `{c.checkpoint}`, "
        f"seed {c.seed}, lr {c.lr}, {c.rounds} round(s)",
        f"- host: {report.host}; " + ", ".join(f"{k} {v}" for k, v in report.versions.items()),
        f"- testbed: network `{c.network}`, time scale S = {c.time_scale:g} (every link rate divided by S, every "
        f"predicted link second multiplied by S); host speed: {speed}",
        f"- round latency, last round: measured {g(report.round_latency_s)} s, predicted on the testbed "
        f"{g(report.round_latency_s_pred)} s ({error(report.round_latency_s, report.round_latency_s_pred)}); "
        f"predicted on the plan's nodes {report.round_latency_s_pred_devices:.4g} s",
    ]


R = TypeVar("R")
Column = tuple[str, bool, Callable[[R], str]]
"""A table column: header (units in it), right-aligned, and its cell of a row."""


def table(title: str, columns: Sequence[Column[R]], rows: Iterable[R]) -> list[str]:
    """A markdown table under a heading, a line per row."""
    cells = lambda values: "| " + " | ".join(values) + " |"
    return ["", f"## {title}", "", cells(h for h, _, _ in columns), cells("---:" if right else "---" for _, right, _ in columns),
            *(cells(cell(r) for _, _, cell in columns) for r in rows)]


ROUNDS: list[Column[RoundRecord]] = [
    ("round", True, lambda r: str(r.round)), ("train loss", True, lambda r: g(r.train_loss)),
    ("test loss", True, lambda r: f"{r.test_loss:.4f}"), ("test accuracy", True, lambda r: f"{r.test_accuracy:.4f}"),
    ("inference accuracy", False, lambda r: ", ".join(f"#{x.cluster} {x.accuracy:.3f} ({x.samples})" for x in r.inference) or "–"),
    ("failures", False, lambda r: "; ".join(r.failures) or "–"), ("latency s (measured)", True, lambda r: g(r.latency_s)),
    ("wall s", True, lambda r: f"{r.seconds:.2f}"),
]
MEMBERS: list[Column[MemberRow]] = [
    ("cluster", True, lambda m: f"{m.cluster} {m.kind}"), ("node", False, lambda m: m.node), ("units", False, lambda m: m.units),
    ("fwd FLOPs meas / pred (err)", False, lambda m: pair(m.fwd_flops, m.fwd_flops_pred)),
    ("bwd FLOPs meas / pred (err)", False, lambda m: pair(m.bwd_flops, m.bwd_flops_pred)),
    ("fwd s meas / pred (err)", False, lambda m: pair(m.fwd_s, m.fwd_s_pred)),
    ("bwd s meas / pred (err)", False, lambda m: pair(m.bwd_s, m.bwd_s_pred)), ("step s", True, lambda m: g(m.step_s)),
    ("memory B meas / pred (err)", False, lambda m: pair(m.memory_bytes, m.memory_bytes_pred)),
    ("delivery B per round meas / pred", False, lambda m: f"{g(m.delivery_bytes)} / {g(m.delivery_bytes_pred)}"),
    ("delivery s meas / pred (err)", False, lambda m: pair(m.delivery_s, m.delivery_s_pred)),
    ("upload s meas / pred (err)", False, lambda m: pair(m.upload_s, m.upload_s_pred)),
]
HOPS: list[Column[HopRow]] = [
    ("cluster", True, lambda h: str(h.cluster)), ("hop", False, lambda h: f"{h.src} → {h.dst}"), ("role", False, lambda h: h.role),
    ("smashed B meas / pred", False, lambda h: f"{h.fwd_bytes:g} / {h.fwd_bytes_pred:g}"),
    ("label B meas / pred", False, lambda h: f"{h.label_bytes:g} / {h.label_bytes_pred:g}"),
    ("backward B meas / pred", False, lambda h: f"{h.bwd_bytes:g} / {h.bwd_bytes_pred:g}"),
    ("forward s meas / pred (err)", False, lambda h: pair(h.fwd_s, h.fwd_s_pred)),
    ("backward s meas / pred (err)", False, lambda h: pair(h.bwd_s, h.bwd_s_pred) if h.role == "chain" else "–"),
]
CLUSTERS: list[Column[ClusterRow]] = [
    ("cluster", True, lambda c: str(c.cluster)), ("kind", False, lambda c: c.kind), ("chain", False, lambda c: " → ".join(c.chain)),
    ("failed rounds", True, lambda c: str(c.failed_rounds)),
    ("compute s per pass meas / pred (err)", False, lambda c: pair(c.compute_s, c.compute_s_pred)),
    ("delivery s meas / pred (err)", False, lambda c: pair(c.delivery_s, c.delivery_s_pred)),
    ("upload s meas / pred (err)", False, lambda c: pair(c.upload_s, c.upload_s_pred)),
    ("latency s meas / pred (err)", False, lambda c: pair(c.latency_s, c.latency_s_pred)),
    ("comm B per round meas / pred", False, lambda c: f"{c.comm_bytes_per_round:g} / {c.comm_bytes_per_round_pred:g}"),
    ("predicted latency on its nodes s", True, lambda c: f"{c.latency_s_pred_devices:.4g}"),
]
LINKS: list[Column[LinkRow]] = [
    ("src", False, lambda l: l.src), ("dst", False, lambda l: l.dst or "(unlinked peers: rendezvous, control)"),
    ("rate bit/s (scaled)", True, lambda l: g(l.rate_bps)), ("bytes", True, lambda l: str(l.bytes)),
    ("packets", True, lambda l: str(l.packets)), ("drops", True, lambda l: str(l.drops)),
]


def to_markdown(report: ValidationReport) -> str:
    """The report as markdown: the run, its rounds, then members, hops and clusters measured beside predicted."""
    sections = [
        *table("Rounds", ROUNDS, report.rounds),
        *table("Members (per pass: one iteration of B samples, or one request; backward with the optimizer's step)",
               MEMBERS, report.members),
        *table("Hops (per pass; forward carries the smashed data and the labels)", HOPS, report.hops),
        *table("Clusters (the last round on the testbed)", CLUSTERS, report.clusters),
        *(table("Emulated links (bytes of TCP payload over the whole run, as the emulator counted them)", LINKS,
                report.links) if report.links else []),
    ]
    return "\n".join([*_header(report), *sections]) + "\n"


def write_report(report: ValidationReport, out_dir: Path) -> None:
    """report.json and report.md in `out_dir` (the figures are `plotting.validation`'s; the CLI saves them)."""
    write_text(out_dir / "report.json", dumps(report))
    write_text(out_dir / "report.md", to_markdown(report))
