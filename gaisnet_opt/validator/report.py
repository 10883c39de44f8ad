"""The validation report: what was measured beside what the cost model predicted, and how training went.

Predictions come only from `gaisnet_opt.cost`. FLOPs, bytes and memory are
compared as they are. Seconds are compared on the testbed: the cost model is
given this host's speed on every node (the run's calibration, or else a fit
of the run's own passes, which the report calls a fit) and every link at its
rate divided by the time scale (`calibration.on_host`), and its seconds are
set beside the measured ones. Per pass is each member's own passes, so a
cluster that failed mid-round keeps exact per-pass figures (and is flagged).
The predicted latency on the plan's own nodes is given beside.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gaisnet_opt.cost import ClusterCost, HopCost, MemberCost, cluster_cost, round_cost
from gaisnet_opt.host import host_description, package_versions
from gaisnet_opt.plan import Plan
from gaisnet_opt.round_timeline import Segment, cluster_timeline
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.validator.calibration import best_fit, meter_points, on_host
from gaisnet_opt.validator.inference import InferenceChain
from gaisnet_opt.validator.measured_turn import MeasuredTurn, turn_of
from gaisnet_opt.validator.meters import HopMeter, MemberMeter
from gaisnet_opt.validator.records import (
    CalibrationUsed,
    ClusterRow,
    HopRow,
    MemberRow,
    RoundRecord,
    RunConfig,
    SegmentRow,
    ValidationReport,
)
from gaisnet_opt.validator.split_chain import SplitChain


def _per(total: float, n: int) -> float:
    return total / n if n else 0.0


def _timed(secs: float, timed: int, scale: float = 1.0) -> float | None:
    """Seconds of one timed pass times `scale` (None: no pass was timed)."""
    return secs / timed * scale if timed else None


def calibration_used(config: RunConfig, chains: Mapping[int, SplitChain]) -> CalibrationUsed | None:
    """The run's calibration if it has one, else a fit of its own passes (None: nothing was timed)."""
    if config.calibration is not None:
        return CalibrationUsed(source=config.calibration_file or "given", measured_at=config.calibration.measured_at,
                               fit=config.calibration.fit)
    points = [p for ch in chains.values()
              for p in meter_points([w.meter for w in ch.workers], "serving" if isinstance(ch, InferenceChain) else "training")]
    fits = best_fit(points)
    return None if fits is None else CalibrationUsed(source="this run (a fit, not a prediction)", measured_at=None,
                                                    fit=fits[1])


def _member_row(ci: int, kind: str, m: MemberMeter, pred_dev: MemberCost, pred: MemberCost, turn: MeasuredTurn | None,
                k: int) -> MemberRow:
    """Member k per pass: a training iteration (its own forward and backward passes), or a request (its chunks)."""
    finetune = kind == "finetune"
    rounds = max(m.rounds, 1)
    fwd_n = m.passes if finetune else rounds
    chunks = 1.0 if finetune else _per(m.passes, rounds)
    return MemberRow(
        cluster=ci, kind=kind, node=m.node, units=f"{m.first}..{m.last}",
        fwd_flops=_per(m.fwd_flops, fwd_n), fwd_flops_pred=pred_dev.fwd_flops,
        bwd_flops=_per(m.bwd_flops, m.bwd_passes), bwd_flops_pred=pred_dev.bwd_flops,
        fwd_s=_timed(m.fwd_s, m.timed_passes, chunks), fwd_s_pred=pred.fwd_s,
        bwd_s=_timed(m.bwd_s + m.step_s, m.timed_bwd_passes) if finetune else None, bwd_s_pred=pred.bwd_s,
        step_s=_timed(m.step_s, m.timed_bwd_passes) if finetune else None,
        memory_bytes=m.state_bytes + (m.saved_bytes if finetune else m.peak_bytes), memory_bytes_pred=pred_dev.memory_bytes,
        delivery_bytes=m.delivered_bytes / rounds, delivery_bytes_pred=pred_dev.delivery_bytes,
        upload_bytes=m.uploaded_bytes / rounds, upload_bytes_pred=pred_dev.upload_bytes,
        delivery_s=turn.delivery_s.get(k) if turn else None, delivery_s_pred=pred.delivery_s,
        upload_s=turn.upload_s.get(k) if turn else None, upload_s_pred=pred.upload_s,
    )


def _hop_row(ci: int, h: HopMeter, pred_dev: HopCost, pred: HopCost, role: str, requests: int | None,
             fwd_s: float | None, bwd_s: float | None) -> HopRow:
    """A hop per pass: per training iteration (its own forward and backward crossings), or per request."""
    fwd_n, bwd_n = (h.passes, h.bwd_passes) if requests is None else (requests, requests)
    return HopRow(cluster=ci, src=h.src, dst=h.dst, role=role,
                  fwd_bytes=_per(h.fwd_bytes, fwd_n), fwd_bytes_pred=pred_dev.fwd_bytes,
                  label_bytes=_per(h.label_bytes, fwd_n), label_bytes_pred=pred_dev.label_bytes,
                  bwd_bytes=_per(h.bwd_bytes, bwd_n), bwd_bytes_pred=pred_dev.bwd_bytes,
                  fwd_s=fwd_s, fwd_s_pred=pred.fwd_s, bwd_s=bwd_s, bwd_s_pred=pred.bwd_s)


def _segments(ci: int, segments: Sequence[Segment]) -> list[SegmentRow]:
    return [SegmentRow(cluster=ci, row=s.row, phase=s.phase, start_s=s.start_s, duration_s=s.duration_s) for s in segments]


def _cluster_rows(ci: int, chain: SplitChain, kind: str, dev: ClusterCost, cost: ClusterCost, failed: int,
                  ) -> tuple[ClusterRow, list[MemberRow], list[HopRow], list[SegmentRow]]:
    """One cluster's rows, measured (the last turn's timings) beside predicted (`dev` on its nodes, `cost` on the
    testbed), and its measured timeline."""
    inference = kind == "inference"
    turn = turn_of(chain, inference)
    members = [_member_row(ci, kind, w.meter, pd, p, turn, k)
               for k, (w, pd, p) in enumerate(zip(chain.workers, dev.members, cost.members))]
    requests = max(chain.workers[0].meter.rounds, 1) if inference else None
    hops = [_hop_row(ci, h, pd, p, "chain", requests, turn.hop_fwd_s.get(k) if turn else None,
                     turn.hop_bwd_s.get(k) if turn else None)
            for k, (h, pd, p) in enumerate(zip(chain.hops, dev.hops, cost.hops), start=1)]
    if isinstance(chain, InferenceChain) and chain.return_hop is not None and dev.return_hop and cost.return_hop:
        hops.append(_hop_row(ci, chain.return_hop, dev.return_hop, cost.return_hop, "return", requests,
                             turn.return_s if turn else None, None))
    timed = [(r.fwd_s or 0.0) + (r.bwd_s or 0.0) for r in members if r.fwd_s is not None]
    rounds = max(chain.workers[0].meter.rounds, 1)
    comm = sum(r.delivery_bytes + r.upload_bytes for r in members)
    comm += sum((h.fwd_bytes + h.label_bytes + h.bwd_bytes) / rounds for h in
                [*chain.hops, *([chain.return_hop] if isinstance(chain, InferenceChain) and chain.return_hop else [])])
    row = ClusterRow(
        cluster=ci, kind=kind, chain=[w.node for w in chain.workers], failed_rounds=failed,
        compute_s=sum(timed) if len(timed) == len(members) else None,
        compute_s_pred=sum(p.fwd_s + p.bwd_s for p in cost.members),
        delivery_s=max(turn.delivery_s.values(), default=0.0) if turn else None, delivery_s_pred=cost.delivery_s,
        upload_s=max(turn.upload_s.values(), default=0.0) if turn else None, upload_s_pred=cost.upload_s,
        latency_s=turn.latency_s if turn else None, latency_s_pred=cost.latency_s,
        comm_bytes_per_round=comm, comm_bytes_per_round_pred=dev.comm_bytes, latency_s_pred_devices=dev.latency_s,
    )
    return row, members, hops, _segments(ci, turn.segments) if turn else []


def build_report(
    scenario: Scenario, plan: Plan, config: RunConfig, records: list[RoundRecord], chains: Mapping[int, SplitChain],
) -> ValidationReport:
    """Measured per member, hop and cluster, beside the cost model's figures (seconds on the testbed)."""
    calibration = calibration_used(config, chains)
    testbed = on_host(scenario, calibration.fit, config.time_scale) if calibration else scenario
    clusters, members, hops, measured, predicted = [], [], [], [], []
    for ci, chain in sorted(chains.items()):
        cluster = plan.clusters[ci]
        failed = sum(any(f.startswith(f"cluster {ci}:") for f in r.failures) for r in records)
        cost = cluster_cost(testbed, cluster)
        row, m, h, seg = _cluster_rows(ci, chain, cluster.kind, cluster_cost(scenario, cluster), cost, failed)
        clusters.append(row)
        members += m
        hops += h
        measured += seg
        predicted += _segments(ci, cluster_timeline(cost))
    return ValidationReport(
        scenario=scenario.name, profile=scenario.profile.name, config=config, host=host_description(),
        versions=package_versions(("torch", "timm", "numpy", "scikit-learn", "gaisnet-opt")), calibration=calibration,
        round_latency_s=records[-1].latency_s, round_latency_s_pred=round_cost(testbed, plan).latency_s,
        round_latency_s_pred_devices=round_cost(scenario, plan).latency_s,
        rounds=records, clusters=clusters, members=members, hops=hops,
        measured_segments=measured, predicted_segments=predicted,
    )
