"""The validation report as plain data: a run's inputs, its rounds, and measured beside predicted per member, hop
and cluster. Every `_pred` figure is the cost model's; `None` is "not measured" (e.g. link seconds in process)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gaisnet_opt.validator.calibration import HostCalibration, SpeedFit

Network = Literal["inprocess", "loopback", "emulate"]
"""Where messages cross: nowhere (one process), over this host's loopback, or over links emulated at the
scenario's rates (network namespaces shaped with tc)."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunConfig(_Record):
    """The inputs of a validation run besides scenario and plan; the testbed's settings (`network`, `time_scale`,
    `calibration`) shape what is timed, not what is trained."""

    rounds: int
    data: str
    checkpoint: str | None
    seed: int
    partition: str
    alpha: float
    lr: float
    tune: str = "prompts"
    network: Network = "inprocess"
    time_scale: float = Field(default=1.0, gt=0)
    """every link rate is divided by it, so every predicted link second is multiplied by it"""
    calibration: HostCalibration | None = None
    calibration_file: str | None = None


UNFINGERPRINTED = {"rounds", "network", "time_scale", "calibration", "calibration_file"}
"""The fields of `RunConfig` a resumed run may change: they say how long to train and what is timed, not what is trained."""


class InferenceRecord(_Record):
    """One SL inference request served in a round."""

    cluster: int
    start: str
    samples: int
    accuracy: float


class RoundRecord(_Record):
    """A round's training loss (mean over clusters and iterations), the aggregated model's held-out result, failures,
    and, where messages crossed between processes, each cluster's measured latency and the round's."""

    round: int
    train_loss: float | None = None
    test_loss: float
    test_accuracy: float
    failures: list[str] = []
    inference: list[InferenceRecord] = []
    seconds: float = 0.0
    cluster_latency_s: dict[int, float] = {}
    latency_s: float | None = None


class MemberRow(_Record):
    """One chain member per pass (a training iteration of B samples, or an inference request): measured | predicted.
    A backward pass's seconds include the optimizer's step after it (`step_s`, also apart)."""

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
    memory_bytes: float | None
    memory_bytes_pred: float
    delivery_bytes: float
    delivery_bytes_pred: float
    upload_bytes: float
    upload_bytes_pred: float
    delivery_s: float | None = None
    delivery_s_pred: float = 0.0
    upload_s: float | None = None
    upload_s_pred: float = 0.0


class HopRow(_Record):
    """Bytes and seconds per pass that crossed a hop, measured | predicted (`return`: an inference result going home).
    The forward seconds carry the smashed data and the labels."""

    cluster: int
    src: str
    dst: str
    role: str
    fwd_bytes: float
    fwd_bytes_pred: float
    label_bytes: float
    label_bytes_pred: float
    bwd_bytes: float
    bwd_bytes_pred: float
    fwd_s: float | None = None
    fwd_s_pred: float
    bwd_s: float | None = None
    bwd_s_pred: float


class ClusterRow(_Record):
    """A cluster's round on the testbed, measured | predicted, and its predicted latency on the plan's own nodes."""

    cluster: int
    kind: str
    chain: list[str]
    failed_rounds: int
    """rounds it failed or could not run: its per-pass figures are its members' own passes"""
    compute_s: float | None
    """seconds per pass of all members' compute"""
    compute_s_pred: float
    delivery_s: float | None
    delivery_s_pred: float
    upload_s: float | None
    upload_s_pred: float
    latency_s: float | None
    latency_s_pred: float
    comm_bytes_per_round: float
    comm_bytes_per_round_pred: float
    latency_s_pred_devices: float


class SegmentRow(_Record):
    """One block of a round's timeline: `row` (a member's node) busy with `phase` from `start_s` for `duration_s`."""

    cluster: int
    row: str
    phase: str
    start_s: float
    duration_s: float


class LinkRow(_Record):
    """Bytes of TCP payload one emulated class carried over the run, as the emulator counted them: the scenario's link
    src -> dst at its rate divided by the time scale, or (dst None, rate None) src's default class, which carries only
    the rendezvous and control data to peers the scenario does not link."""

    src: str
    dst: str | None
    rate_bps: float | None
    bytes: int
    packets: int
    drops: int


class CalibrationUsed(_Record):
    """The host speed behind every predicted second, and where it came from."""

    source: str
    """the calibration file, or "this run" (a fit of its own passes, not a prediction)"""
    measured_at: str | None
    fit: SpeedFit


class ValidationReport(_Record):
    """Everything `validate` measured, beside the cost model's predictions."""

    scenario: str
    profile: str
    config: RunConfig
    host: str
    versions: dict[str, str]
    calibration: CalibrationUsed | None
    round_latency_s: float | None
    """the last round's, measured (the slowest cluster's turn)"""
    round_latency_s_pred: float
    """on the testbed: this host's compute, links at their rates divided by the time scale"""
    round_latency_s_pred_devices: float
    rounds: list[RoundRecord]
    clusters: list[ClusterRow]
    members: list[MemberRow]
    hops: list[HopRow]
    measured_segments: list[SegmentRow] = []
    """the last round's timeline, each cluster from the start of its turn"""
    predicted_segments: list[SegmentRow] = []
    links: list[LinkRow] = []
    """an emulated network's per-class byte counts"""

    @property
    def final_accuracy(self) -> float:
        return self.rounds[-1].test_accuracy
