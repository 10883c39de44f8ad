"""A cluster's round as timed segments: the cost model's figures laid out in serial order (drawn by `plotting.gantt`, set
beside the measured turn by the validator).

Serial split learning: every member receives its modules (in parallel), then
each iteration runs the forward pass member by member with a hop between
consecutive members, then the backward pass in reverse; finally every member
uploads (in parallel). Inference: delivery, forward chain, the result's return.
The last segment ends at the cluster's latency (tested), so the chart and the
cost model cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gaisnet_opt.cost import ClusterCost

Phase = Literal["delivery", "forward", "backward", "step", "hop-forward", "hop-backward", "return", "upload"]
"""What a member is busy with; "step" (the optimizer's, which the cost model does not price) is only measured."""


@dataclass(frozen=True)
class Segment:
    """`row` (a member's node) is busy with `phase` from `start_s` for `duration_s`."""

    row: str
    phase: Phase
    start_s: float
    duration_s: float


def cluster_timeline(cost: ClusterCost) -> list[Segment]:
    """All segments of one cluster's round, zero-length ones left out."""
    out: list[Segment] = []

    def add(row: str, phase: Phase, start: float, duration: float) -> float:
        if duration > 0:
            out.append(Segment(row, phase, start, duration))
        return start + duration

    for m in cost.members:
        add(m.node, "delivery", 0.0, m.delivery_s)
    t = cost.delivery_s
    for _ in range(cost.iterations):
        for k, m in enumerate(cost.members):
            t = add(m.node, "forward", t, m.fwd_s)
            if k < len(cost.hops):
                t = add(m.node, "hop-forward", t, cost.hops[k].fwd_s)
        if cost.kind == "inference":
            if cost.return_hop is not None:
                t = add(cost.members[-1].node, "return", t, cost.return_hop.fwd_s)
            continue
        for k in range(len(cost.members) - 1, -1, -1):
            m = cost.members[k]
            t = add(m.node, "backward", t, m.bwd_s)
            if k > 0:
                t = add(m.node, "hop-backward", t, cost.hops[k - 1].bwd_s)
    for m in cost.members:
        add(m.node, "upload", t, m.upload_s)
    return out
