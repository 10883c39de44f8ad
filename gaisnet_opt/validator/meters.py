"""What a run measured, per chain member and per hop, and the one plain-data form of it.

The meters are summed over passes while a run goes on; `meter_data` and
`restore` turn them into plain data and back, for the checkpoint (a resumed
run continues the sums) and for the distributed engine (a member's meters go
to rank 0, which writes the report).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields

import torch


def nbytes(t: torch.Tensor) -> int:
    """Bytes of the values a tensor holds (what a sender serializes), not of its storage."""
    return t.numel() * t.element_size()


@dataclass(kw_only=True)
class Passes:
    """Forward passes (training iterations, or inference chunks of at most B samples) and backward passes counted:
    fewer backward than forward ones where a round failed between the two."""

    passes: int = 0
    bwd_passes: int = 0


@dataclass
class MemberMeter(Passes):
    """What one member computed and held, summed over its passes (iterations or requests)."""

    node: str
    first: int
    last: int
    rounds: int = 0
    samples: int = 0
    fwd_flops: float = 0.0
    bwd_flops: float = 0.0
    timed_passes: int = 0
    """forward passes that were timed (the first of each shape was counted instead)"""
    timed_bwd_passes: int = 0
    fwd_s: float = 0.0
    bwd_s: float = 0.0
    step_s: float = 0.0
    """the optimizer's steps after the timed backward passes: compute the cost model does not price"""
    saved_bytes: int = 0
    """most bytes saved for backward in one pass"""
    peak_bytes: int = 0
    """most bytes of live activations in one pass without gradients (inference)"""
    state_bytes: int = 0
    """parameters, gradients and optimizer state held, at most"""
    delivered_bytes: int = 0
    uploaded_bytes: int = 0


@dataclass
class HopMeter(Passes):
    """Bytes that crossed one hop, summed over its forward and backward passes: the smashed data (on an inference
    result's return, the logits), the fine-tuning batches' labels that travel with them, the gradients back."""

    src: str
    dst: str
    fwd_bytes: int = 0
    label_bytes: int = 0
    bwd_bytes: int = 0


Meter = MemberMeter | HopMeter


def meter_data(meters: Sequence[Meter]) -> list[dict[str, object]]:
    """The meters as plain data (JSON- and torch.save-able), in order."""
    return [asdict(m) for m in meters]


def restore(meters: Sequence[Meter], data: Sequence[Mapping[str, object]]) -> None:
    """Overwrite `meters` in place with `meter_data` of the same meters (another process's, or a checkpoint's)."""
    if len(meters) != len(data):
        raise ValueError(f"{len(data)} saved meters for {len(meters)}")
    for meter, saved in zip(meters, data):
        for f in fields(meter):
            setattr(meter, f.name, saved[f.name])
