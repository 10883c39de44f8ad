"""The validation report: what was measured beside what the cost model predicted, and how training went.

Predictions come only from `gaisnet_opt.cost`. FLOPs, bytes and memory are
compared as they are. Seconds cannot be: the plan's nodes are phones and edge
servers, not this host. So this host is fitted on the measured compute,
seconds per pass = o + FLOPs / F over every member and pass direction
(`calibrate`), every node of the scenario is given F and o (`pass_overhead_s`),
and the cost model's seconds for that calibrated scenario are set beside the
measured ones. o matters: a member that holds only the embedding computes a
few hundred kFLOP per pass, and the fixed cost of a pass (Python and op
dispatch) is most of its time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from gaisnet_opt.cost import cluster_cost, round_cost
from gaisnet_opt.host import host_description, package_versions
from gaisnet_opt.io import dumps, write_text
from gaisnet_opt.plan import Plan
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.validator.inference import InferenceChain
from gaisnet_opt.validator.meters import MemberMeter
from gaisnet_opt.validator.split_chain import SplitChain


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunConfig(_Record):
    """The inputs of a validation run besides scenario and plan."""

    rounds: int
    data: str
    checkpoint: str | None
    seed: int
    partition: str
    alpha: float
    lr: float
    tune: str = "prompts"


class InferenceRecord(_Record):
    """One SL inference request served in a round."""

    cluster: int
    start: str
    samples: int
    accuracy: float


class RoundRecord(_Record):
    """A round's training loss (mean over clusters and iterations), the aggregated model's held-out result, failures."""

    round: int
    train_loss: float | None = None
    test_loss: float
    test_accuracy: float
    failures: list[str] = []
    inference: list[InferenceRecord] = []
    seconds: float = 0.0


class MemberRow(_Record):
    """One chain member per pass (a training iteration of B samples, or an inference request): measured | predicted."""

    cluster: int
    kind: str
    node: str
    units: str
    fwd_flops: float
    fwd_flops_pred: float
    bwd_flops: float
    bwd_flops_pred: float
    fwd_s: float | None
    fwd_s_pred: float
    bwd_s: float | None
    bwd_s_pred: float
    step_s: float | None
    """the optimizer's step (measured only: the cost model prices FLOPs, and a step's are not counted)"""
    memory_bytes: float | None
    memory_bytes_pred: float
    delivery_bytes: float
    delivery_bytes_pred: float
    upload_bytes: float
    upload_bytes_pred: float


class HopRow(_Record):
    """Bytes per pass that crossed a hop, measured | predicted (`return` is an inference result going home)."""

    cluster: int
    src: str
    dst: str
    role: str
    fwd_bytes: float
    fwd_bytes_pred: float
    bwd_bytes: float
    bwd_bytes_pred: float


class ClusterRow(_Record):
    """A cluster's compute seconds per pass on this host, and its predicted latency on the plan's own nodes."""

    cluster: int
    kind: str
    chain: list[str]
    compute_s: float | None
    compute_s_pred: float
    comm_bytes_per_round: float
    comm_bytes_per_round_pred: float
    latency_s_pred_devices: float


class ValidationReport(_Record):
    """Everything `validate` measured, beside the cost model's predictions."""

    scenario: str
    profile: str
    config: RunConfig
    host: str
    versions: dict[str, str]
    host_flops_per_s: float | None
    host_pass_overhead_s: float | None
    round_latency_s_pred_devices: float
    rounds: list[RoundRecord]
    clusters: list[ClusterRow]
    members: list[MemberRow]
    hops: list[HopRow]

    @property
    def final_accuracy(self) -> float:
        return self.rounds[-1].test_accuracy


def _per(total: float, n: int) -> float:
    return total / n if n else 0.0


def _work_s(m: MemberMeter, secs: float, passes: float) -> float | None:
    """Seconds of `passes` passes at the timed passes' mean (None: no pass was timed)."""
    return secs / m.timed_passes * passes if m.timed_passes else None


def calibrate(meters: Sequence[MemberMeter]) -> tuple[float, float] | None:
    """This host's effective FLOP/s F and fixed seconds per pass o, fitted to t = o + f / F over the (FLOPs,
    seconds) of a pass, each member and direction, by least squares of the relative error (t - o - f/F) / t:
    the comparison is relative, and a 0.3 MFLOP pass must count as much as a 300 MFLOP one. o is held at 0
    where the free fit would make it or 1/F negative, or cannot separate the two (one pass size only)."""
    points = [
        (flops / m.passes, secs / m.timed_passes)
        for m in meters if m.timed_passes
        for flops, secs in ((m.fwd_flops, m.fwd_s), (m.bwd_flops, m.bwd_s))
        if flops > 0 and secs > 0
    ]
    if not points:
        return None
    # rows (1/t, f/t) · (o, 1/F) ≈ 1: the normal equations of the relative residuals
    aa = sum(1 / t**2 for _, t in points)
    ab = sum(f / t**2 for f, t in points)
    bb = sum((f / t) ** 2 for f, t in points)
    a1, b1 = sum(1 / t for _, t in points), sum(f / t for f, t in points)
    det = aa * bb - ab * ab
    if det > 1e-12 * aa * bb:
        overhead, inverse = (bb * a1 - ab * b1) / det, (aa * b1 - ab * a1) / det
        if overhead >= 0 and inverse > 0:
            return 1 / inverse, overhead
    return bb / b1, 0.0


def _at_speed(scenario: Scenario, flops_per_s: float, pass_overhead_s: float) -> Scenario:
    """The scenario with every node computing at `flops_per_s` per cluster (edge servers keep their slots)
    and paying `pass_overhead_s` per pass."""
    data = scenario.model_dump()
    for node in data["nodes"]:
        node["flops"] = flops_per_s * max(1, node["slots"])  # undo effective_flops' division
        node["pass_overhead_s"] = pass_overhead_s
    return Scenario.model_validate(data)


def build_report(
    scenario: Scenario, plan: Plan, config: RunConfig, records: list[RoundRecord], chains: Mapping[int, SplitChain],
) -> ValidationReport:
    """Measured per member, hop and cluster, beside the cost model's figures (seconds on the calibrated host)."""
    meters = [w.meter for ch in chains.values() for w in ch.workers]
    fit = calibrate(meters)
    calibrated = _at_speed(scenario, *fit) if fit else scenario
    clusters, members, hops = [], [], []
    for ci, chain in sorted(chains.items()):
        cluster = plan.clusters[ci]
        cost, host_cost = cluster_cost(scenario, cluster), cluster_cost(calibrated, cluster)
        finetune = cluster.kind == "finetune"
        comm = 0.0
        rounds = max(chain.workers[0].meter.rounds, 1)
        # the passes the cost model prices: training iterations, or requests (served in chunks of B)
        work = chain.workers[0].meter.passes if finetune else rounds
        for w, pred, host_pred in zip(chain.workers, cost.members, host_cost.members):
            m = w.meter
            passes = _per(m.passes, work)  # a training iteration is one pass; a request ⌈Q/B⌉
            members.append(MemberRow(
                cluster=ci, kind=cluster.kind, node=m.node, units=f"{m.first}..{m.last}",
                fwd_flops=_per(m.fwd_flops, work), fwd_flops_pred=pred.fwd_flops,
                bwd_flops=_per(m.bwd_flops, work), bwd_flops_pred=pred.bwd_flops,
                fwd_s=_work_s(m, m.fwd_s, passes), fwd_s_pred=host_pred.fwd_s,
                bwd_s=_work_s(m, m.bwd_s, passes) if finetune else None, bwd_s_pred=host_pred.bwd_s,
                step_s=_work_s(m, m.step_s, passes) if finetune else None,
                memory_bytes=m.state_bytes + (m.saved_bytes if finetune else m.peak_bytes),
                memory_bytes_pred=pred.memory_bytes,
                delivery_bytes=m.delivered_bytes / rounds, delivery_bytes_pred=pred.delivery_bytes,
                upload_bytes=m.uploaded_bytes / rounds, upload_bytes_pred=pred.upload_bytes,
            ))
            comm += (m.delivered_bytes + m.uploaded_bytes) / rounds
        pairs = [(h, p, "chain") for h, p in zip(chain.hops, cost.hops)]
        if isinstance(chain, InferenceChain) and chain.return_hop is not None and cost.return_hop is not None:
            pairs.append((chain.return_hop, cost.return_hop, "return"))
        for h, p, role in pairs:
            hops.append(HopRow(cluster=ci, src=h.src, dst=h.dst, role=role,
                               fwd_bytes=_per(h.fwd_bytes, work), fwd_bytes_pred=p.fwd_bytes,
                               bwd_bytes=_per(h.bwd_bytes, work), bwd_bytes_pred=p.bwd_bytes))
            comm += (h.fwd_bytes + h.bwd_bytes) / rounds
        timed = [(r.fwd_s or 0.0) + (r.bwd_s or 0.0) for r in members[-len(chain.workers):] if r.fwd_s is not None]
        clusters.append(ClusterRow(
            cluster=ci, kind=cluster.kind, chain=cluster.chain,
            compute_s=sum(timed) if len(timed) == len(chain.workers) else None,
            compute_s_pred=sum(p.fwd_s + p.bwd_s for p in host_cost.members),
            comm_bytes_per_round=comm, comm_bytes_per_round_pred=cost.comm_bytes, latency_s_pred_devices=cost.latency_s,
        ))
    return ValidationReport(
        scenario=scenario.name, profile=scenario.profile.name, config=config, host=host_description(), versions=package_versions(("torch", "timm", "numpy", "scikit-learn", "gaisnet-opt")),
        host_flops_per_s=fit[0] if fit else None, host_pass_overhead_s=fit[1] if fit else None,
        round_latency_s_pred_devices=round_cost(scenario, plan).latency_s,
        rounds=records, clusters=clusters, members=members, hops=hops,
    )


def _err(measured: float | None, predicted: float) -> str:
    if measured is None:
        return "–"
    if predicted == 0:
        return "exact" if measured == 0 else "∞"
    return f"{100 * (measured - predicted) / predicted:+.1f} %"


def _g(x: float | None) -> str:
    return "–" if x is None else f"{x:.4g}"


def to_markdown(report: ValidationReport) -> str:
    """The report as markdown tables (units in every header)."""
    c = report.config
    speed = ("not calibrated (no timed pass)" if report.host_flops_per_s is None else
             f"{report.host_flops_per_s / 1e9:.3f} GFLOP/s and {1e3 * (report.host_pass_overhead_s or 0.0):.3f} ms per pass")
    lines = [
        f"# Validation of {report.scenario}", "",
        f"- profile `{report.profile}`, data `{c.data}` ({c.partition} partition), checkpoint `{c.checkpoint}`, "
        f"seed {c.seed}, lr {c.lr}, {c.rounds} round(s)",
        f"- host: {report.host}; " + ", ".join(f"{k} {v}" for k, v in report.versions.items()),
        f"- calibrated host speed: {speed}; predicted round latency on the plan's nodes: {report.round_latency_s_pred_devices:.4g} s",
        "", "## Rounds", "",
        "| round | train loss | test loss | test accuracy | inference accuracy | failures | wall s |",
        "| ---: | ---: | ---: | ---: | --- | --- | ---: |",
    ]
    for r in report.rounds:
        inf = ", ".join(f"#{x.cluster} {x.accuracy:.3f} ({x.samples})" for x in r.inference) or "–"
        lines.append(f"| {r.round} | {_g(r.train_loss)} | {r.test_loss:.4f} | {r.test_accuracy:.4f} | {inf} | "
                     f"{'; '.join(r.failures) or '–'} | {r.seconds:.2f} |")
    lines += ["", "## Members (per pass: one iteration of B samples, or one request)", "",
              "| cluster | node | units | fwd FLOPs meas / pred (err) | bwd FLOPs meas / pred (err) | "
              "fwd s meas / pred (err) | bwd s meas / pred (err) | step s meas | memory B meas / pred (err) | "
              "delivery B per round meas / pred |",
              "| ---: | --- | --- | --- | --- | --- | --- | ---: | --- | --- |"]
    for m in report.members:
        lines.append(
            f"| {m.cluster} {m.kind} | {m.node} | {m.units} "
            f"| {_g(m.fwd_flops)} / {_g(m.fwd_flops_pred)} ({_err(m.fwd_flops, m.fwd_flops_pred)}) "
            f"| {_g(m.bwd_flops)} / {_g(m.bwd_flops_pred)} ({_err(m.bwd_flops, m.bwd_flops_pred)}) "
            f"| {_g(m.fwd_s)} / {_g(m.fwd_s_pred)} ({_err(m.fwd_s, m.fwd_s_pred)}) "
            f"| {_g(m.bwd_s)} / {_g(m.bwd_s_pred)} ({_err(m.bwd_s, m.bwd_s_pred)}) | {_g(m.step_s)} "
            f"| {_g(m.memory_bytes)} / {_g(m.memory_bytes_pred)} ({_err(m.memory_bytes, m.memory_bytes_pred)}) "
            f"| {_g(m.delivery_bytes)} / {_g(m.delivery_bytes_pred)} |")
    lines += ["", "## Hops (bytes per pass)", "",
              "| cluster | hop | role | forward B meas / pred | backward B meas / pred |", "| ---: | --- | --- | --- | --- |"]
    for h in report.hops:
        lines.append(f"| {h.cluster} | {h.src} → {h.dst} | {h.role} | {h.fwd_bytes:g} / {h.fwd_bytes_pred:g} "
                     f"| {h.bwd_bytes:g} / {h.bwd_bytes_pred:g} |")
    lines += ["", "## Clusters", "",
              "| cluster | kind | chain | compute s per pass meas / pred (err) | comm B per round meas / pred | "
              "predicted latency on its nodes s |", "| ---: | --- | --- | --- | --- | ---: |"]
    for cl in report.clusters:
        lines.append(f"| {cl.cluster} | {cl.kind} | {' → '.join(cl.chain)} | {_g(cl.compute_s)} / {_g(cl.compute_s_pred)} "
                     f"({_err(cl.compute_s, cl.compute_s_pred)}) | {cl.comm_bytes_per_round:g} / {cl.comm_bytes_per_round_pred:g} "
                     f"| {cl.latency_s_pred_devices:.4g} |")
    return "\n".join(lines) + "\n"


def write_report(report: ValidationReport, out_dir: Path) -> None:
    """report.json and report.md in `out_dir` (the figures are `plotting.validation`'s; the CLI saves them)."""
    write_text(out_dir / "report.json", dumps(report))
    write_text(out_dir / "report.md", to_markdown(report))
