"""FedAvg across clusters (paper §III.C): which clusters are averaged, with which weights, and the average.

The edge server averages same-named tunable modules (prompts and head) over
the clusters that finished the round, weighted by their start points'
samples. Which clusters those are is `decide`'s, one rule for both engines:
each process reports what it saw of a cluster (`ClusterView`) and the views
are merged here, whether there is one (in process) or one per member process.
The member that made a cluster fail is lost for good: its clusters train in
no later round (`gone_clusters`), in either engine, resumed or not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from gaisnet_opt.validator.faults import MemberFailure

State = dict[str, torch.Tensor]
Lost = dict[str, int]
"""node -> the round it was lost in"""


def tunable_state(model: nn.Module) -> State:
    """Copies of the tunable tensors (prompts and head) by parameter name: what the edge server delivers."""
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def load_tunable(model: nn.Module, state: Mapping[str, torch.Tensor]) -> None:
    """Overwrite the tunable tensors with `state` (a delivery)."""
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, value in state.items():
            params[name].copy_(value)


def weighted_sum(updates: Sequence[tuple[Mapping[str, torch.Tensor], float]], name: str, like: torch.Tensor) -> torch.Tensor:
    """Σ weight × tensor `name` over `updates`, in float64 (zeros shaped `like` for none): FedAvg's numerator."""
    out = torch.zeros_like(like, dtype=torch.float64)
    for state, w in updates:
        out += state[name].double() * w
    return out


def averaged(total_sum: torch.Tensor, total: float, like: torch.Tensor) -> torch.Tensor:
    """FedAvg's quotient, back in the tensor's own dtype."""
    return (total_sum / total).to(like.dtype)


def fedavg(updates: Sequence[tuple[Mapping[str, torch.Tensor], float]]) -> State:
    """Sample-weighted average of same-named tensors (accumulated in float64, so identical inputs average to themselves)."""
    total = sum(w for _, w in updates)
    first = updates[0][0]
    return {name: averaged(weighted_sum(updates, name, first[name]), total, first[name]) for name in first}


def mean_loss(losses: Sequence[tuple[float, float]]) -> float | None:
    """Sample-weighted mean of (loss, samples) over the clusters that finished."""
    return sum(l * w for l, w in losses) / sum(w for _, w in losses) if losses else None


@dataclass(frozen=True)
class ClusterView:
    """What one process saw of a cluster's local training (None: not known there)."""

    failure: tuple[str, int | None] | None = None
    """the member that failed and the iteration it failed at (None: its process was lost, where is unknown)"""
    loss: float | None = None
    """mean training loss, where the end point is"""
    samples: float | None = None
    """local samples, where the start point is (the FedAvg weight)"""

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ClusterView:
        """A view from its `dataclasses.asdict` form after a JSON round trip (the failure a list)."""
        failure = data["failure"]
        return cls(None if failure is None else (failure[0], failure[1]), data["loss"], data["samples"])


@dataclass(frozen=True)
class Decision:
    """Each cluster's FedAvg weight (0: left out), the round's mean training loss, why clusters were left out,
    and the members that made them fail (lost from now on)."""

    weights: dict[int, float]
    train_loss: float | None
    failures: tuple[str, ...]
    culprits: tuple[str, ...]


def failure(views: Sequence[ClusterView]) -> tuple[str, str] | None:
    """The culprit of a cluster with these views and why it failed (None: it finished). A lost process is the
    culprit before a member that reported losing it; the iteration is the earliest any view names for the culprit."""
    failed = [v.failure for v in views if v.failure is not None]
    if not failed:
        return None
    culprit = next((node for node, it in failed if it is None), failed[0][0])
    seen = [it for node, it in failed if node == culprit and it is not None]
    return culprit, str(MemberFailure(culprit, min(seen))) if seen else f"member {culprit} failed (its process is gone)"


def gone_clusters(chains: Mapping[int, Sequence[str]], lost: Lost) -> dict[int, str]:
    """The clusters (index -> chain) a member of which was lost in an earlier round, and why they do not run."""
    out = {}
    for i, nodes in chains.items():
        node = next((n for n in nodes if n in lost), None)
        if node is not None:
            out[i] = f"member {node} is gone (lost in round {lost[node]})"
    return out


def decide(views: Mapping[int, Sequence[ClusterView]], gone: Mapping[int, str]) -> Decision:
    """The FedAvg decision of a round from every fine-tuning cluster's views (cluster index -> views); clusters in
    `gone` did not train (the reason, e.g. a member lost in an earlier round)."""
    weights: dict[int, float] = {}
    losses: list[tuple[float, float]] = []
    failures: list[str] = []
    culprits: list[str] = []
    for i in sorted({*views, *gone}):
        failed = failure(views.get(i, ()))
        why = gone.get(i) or (failed[1] if failed else None)
        if why is not None:
            failures.append(f"cluster {i}: {why}")
            culprits += [failed[0]] if failed and i not in gone else []
            weights[i] = 0.0
            continue
        samples = next((v.samples for v in views[i] if v.samples is not None), 0.0)
        weights[i] = samples
        losses += [(v.loss, samples) for v in views[i] if v.loss is not None]
    return Decision(weights, mean_loss(losses), tuple(failures), tuple(culprits))


def aggregate(updates: Mapping[int, State], decision: Decision, state: State) -> State:
    """FedAvg of the clusters' updates with the decision's weights, in cluster order (`state` if none counts)."""
    counted = [(updates[i], w) for i, w in sorted(decision.weights.items()) if w and i in updates]
    return fedavg(counted) if counted else state


@dataclass(frozen=True)
class RoundOutcome:
    """The aggregated modules, the mean training loss of the clusters that finished, who failed, who is lost."""

    state: State
    train_loss: float | None
    failures: tuple[str, ...]
    lost: Lost
