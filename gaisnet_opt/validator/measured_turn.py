"""A cluster's measured turn, from the stamps of all its processes: the figures the cost model predicts, and segments.

The stamps (`trace`) of one turn start at rank 0's "turn" and hold both ends
of every message. A transfer lasts from when both ends are ready to the
completion of its receive (a training hop's forward message carries the
smashed data and the labels). Per pass is per training
iteration, or per request for inference (whose chunks add up, as the cost
model prices a request's Q samples at once). The turn lasts until its last
receive or computation ends. Segments are laid out as the cost model's
(`round_timeline`): a hop on its sender's row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gaisnet_opt.plan import Plan
from gaisnet_opt.round_timeline import Segment
from gaisnet_opt.validator.split_chain import SplitChain
from gaisnet_opt.validator.trace import Event

COMPUTE = ("forward", "backward", "step")


@dataclass(frozen=True)
class MeasuredTurn:
    """What one cluster's turn took, in seconds: per member (delivery, compute per pass, upload), per hop (forward
    and backward transfer per pass), the return of an inference result, and the whole turn."""

    delivery_s: dict[int, float]
    upload_s: dict[int, float]
    compute_s: dict[int, dict[str, float]]
    """member -> phase -> seconds per pass"""
    hop_fwd_s: dict[int, float]
    hop_bwd_s: dict[int, float]
    return_s: float | None
    latency_s: float
    segments: list[Segment]


def _ends(events: Sequence[Event]) -> dict[tuple[str, int, int], tuple[float, float]]:
    return {(what, k, seq): (t0, t1) for what, k, seq, t0, t1 in events}


def _transfers(ends: dict[tuple[str, int, int], tuple[float, float]], kind: str) -> dict[tuple[int, int], tuple[float, float]]:
    """(k, seq) -> (start, end) of every `kind` message. gloo's send is a rendezvous, no byte moves before the
    receiver is ready: a transfer starts when both ends have posted, and ends when the receive completes."""
    out = {}
    for (what, k, seq), (_, done) in ends.items():
        posted = [ends[key][0] for key in ((f"send:{kind}", k, seq), (f"recv:{kind}", k, seq)) if key in ends]
        if what == f"recv:{kind}" and len(posted) == 2:
            out[(k, seq)] = (max(posted), done)
    return out


def _per_pass(spans: dict[tuple[int, int], tuple[float, float]], passes: int) -> dict[int, float]:
    """k -> seconds per pass: the spans of k summed over the round, divided by its passes."""
    total: defaultdict[int, float] = defaultdict(float)
    for (k, _), (t0, t1) in spans.items():
        total[k] += t1 - t0
    return {k: s / passes for k, s in total.items()}


def measure_turn(events: Sequence[Event], nodes: Sequence[str], inference: bool) -> MeasuredTurn | None:
    """The turn's figures and segments (None: no turn was stamped, e.g. an in-process run or a failed turn)."""
    starts = [t0 for what, *_, t0, _ in events if what == "turn"]
    if not starts:
        return None
    t0 = starts[0]
    ends = _ends(events)
    smashed = _transfers(ends, "smashed")
    gradient = _transfers(ends, "gradient")
    result = _transfers(ends, "result")
    delivery = _transfers(ends, "delivery")
    upload = _transfers(ends, "upload")
    compute: defaultdict[int, defaultdict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for what, k, _, a, b in events:
        if what in COMPUTE:
            compute[k][what].append(b - a)
    passes = 1 if inference else max((len(v["forward"]) for v in compute.values()), default=1)
    segments = [Segment(nodes[k], "delivery", a - t0, b - a) for (k, _), (a, b) in delivery.items()]
    segments += [Segment(nodes[k], "upload", a - t0, b - a) for (k, _), (a, b) in upload.items()]
    segments += [Segment(nodes[k - 1], "hop-forward", a - t0, b - a) for (k, _), (a, b) in smashed.items()]
    segments += [Segment(nodes[k], "hop-backward", a - t0, b - a) for (k, _), (a, b) in gradient.items()]
    segments += [Segment(nodes[k], "return", a - t0, b - a) for (k, _), (a, b) in result.items()]
    segments += [Segment(nodes[k], what, a - t0, b - a) for what, k, _, a, b in events if what in COMPUTE]  # type: ignore[arg-type]
    finished = [b for what, *_, b in events if what in COMPUTE or what.startswith("recv:")]
    return MeasuredTurn(
        delivery_s={k: b - a for (k, _), (a, b) in delivery.items()},
        upload_s={k: b - a for (k, _), (a, b) in upload.items()},
        compute_s={k: {what: sum(v) / passes for what, v in phases.items()} for k, phases in compute.items()},
        hop_fwd_s=_per_pass(smashed, passes),
        hop_bwd_s=_per_pass(gradient, passes),
        return_s=sum(b - a for a, b in result.values()) if result else None,
        latency_s=max(finished, default=t0) - t0,
        segments=sorted(segments, key=lambda s: s.start_s),
    )



def turn_of(chain: SplitChain, inference: bool) -> MeasuredTurn | None:
    """A chain's last measured turn, from the stamps its trace holds (rank 0 gathers every process's)."""
    return measure_turn(chain.trace.events, [w.node for w in chain.workers], inference)


def cluster_latencies(plan: Plan, chains: Mapping[int, SplitChain]) -> dict[int, float]:
    """Each cluster's measured latency in its last turn (clusters without a stamped turn left out)."""
    turns = {i: turn_of(chain, plan.clusters[i].kind == "inference") for i, chain in chains.items()}
    return {i: t.latency_s for i, t in turns.items() if t is not None}
