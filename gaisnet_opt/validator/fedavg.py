"""One HFSL round (paper §III.C, Fig. 4): split learning inside each cluster, FedAvg across clusters.

Clusters are independent within a round, so they run one after another on one
model instance: each starts from the edge server's delivered tunable modules
(prompt modules and head), trains its local iterations along its chain, and
uploads its tuned modules. The edge server then averages same-named modules
over the clusters that finished, weighted by their samples. A cluster whose
member failed uploads nothing and is left out; the frozen backbone is never
written.

`train_clusters` is the local part both engines run (in a distributed run,
each process over the clusters it is in, with only its members' steps);
they differ in how the updates meet: `train_round` here, collectives in
`validator.distributed`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import torch
from torch import nn
from torch.nn import functional as F

from gaisnet_opt.validator.data import Split, batch_indices
from gaisnet_opt.validator.engine import LostPeer, MemberFailure, SplitChain

State = dict[str, torch.Tensor]


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


@dataclass
class ClusterJob:
    """A fine-tuning cluster: its chain and the local data at its start point."""

    index: int
    chain: SplitChain
    data: Split | None
    """None in a process without the start point"""
    key: str
    """whose batches: the start point's node id"""


FaultKind = Literal["exit", "hang"]


@dataclass(frozen=True)
class Fault:
    """Injected: `node` drops out of the given round before its compute of `iteration` (0-based).

    `kind` matters only to the distributed engine, whose neighbours of a dead process see its connections close but
    can tell a hung one (alive and silent) only by the timeout: "exit" kills the member's process, "hang" keeps it
    silent far longer than any wait. In one process both are the same drop-out.
    """

    round: int
    node: str
    iteration: int = 0
    kind: FaultKind = "exit"

    def __post_init__(self) -> None:
        if self.kind not in get_args(FaultKind):
            raise ValueError(f"fault kind '{self.kind}': expected one of {', '.join(get_args(FaultKind))}")


@dataclass(frozen=True)
class RoundOutcome:
    """The aggregated modules, the mean training loss of the clusters that finished, and who failed."""

    state: State
    train_loss: float | None
    failures: tuple[str, ...]


@dataclass(frozen=True)
class ClusterResult:
    """One cluster's local training as this process saw it."""

    index: int
    update: State | None
    """the model's tunable tensors after the cluster's iterations (None: it failed)"""
    loss: float | None
    """mean training loss, where the end point is"""
    samples: float | None
    """local samples, where the start point is (the FedAvg weight)"""
    failure: MemberFailure | None = None


def train_clusters(
    model: nn.Module, jobs: Sequence[ClusterJob], global_state: State, *, round_no: int, iterations: int, batch: int,
    optimizer: str, lr: float, seed: int, faults: Sequence[Fault] = (),
) -> list[ClusterResult]:
    """Every cluster's local iterations from `global_state`, one after another; a lost member fails its cluster."""
    results = []
    for job in jobs:
        load_tunable(model, global_state)
        job.chain.new_round(optimizer, lr)
        fault = next((f for f in faults if f.round == round_no and f.node in {w.node for w in job.chain.workers}), None)
        losses: list[float] = []
        try:
            for i in range(iterations):
                failing = fault.node if fault is not None and fault.iteration == i else None
                images = labels = None
                if job.data is not None:
                    idx = batch_indices(len(job.data), batch, seed, job.key, (round_no - 1) * iterations + i)
                    images, labels = job.data.images[idx], job.data.labels[idx]
                try:
                    loss = job.chain.train_step(images, labels, failing, i, rows=batch)
                except LostPeer as exc:
                    raise MemberFailure(exc.node, i) from exc
                if loss is not None:
                    losses.append(loss)
        except MemberFailure as exc:
            results.append(ClusterResult(job.index, None, None, None, exc))
            continue
        job.chain.end_round()
        results.append(ClusterResult(job.index, tunable_state(model), sum(losses) / len(losses) if losses else None,
                                     None if job.data is None else float(len(job.data))))
    return results


def mean_loss(losses: Sequence[tuple[float, float]]) -> float | None:
    """Sample-weighted mean of (loss, samples) over the clusters that finished."""
    return sum(l * w for l, w in losses) / sum(w for _, w in losses) if losses else None


def train_round(
    model: nn.Module, jobs: Sequence[ClusterJob], global_state: State, *, round_no: int, iterations: int, batch: int,
    optimizer: str, lr: float, seed: int, faults: Sequence[Fault] = (),
) -> RoundOutcome:
    """Every cluster's local iterations from `global_state`, then FedAvg of those that finished."""
    results = train_clusters(model, jobs, global_state, round_no=round_no, iterations=iterations, batch=batch,
                             optimizer=optimizer, lr=lr, seed=seed, faults=faults)
    done = [(r.update, r.loss, r.samples) for r in results if r.failure is None]
    updates = [(u, w) for u, _, w in done if u is not None and w is not None]
    state = fedavg(updates) if updates else global_state
    load_tunable(model, state)
    loss = mean_loss([(l, w) for _, l, w in done if l is not None and w is not None])
    failed = tuple(f"cluster {r.index}: {r.failure}" for r in results if r.failure is not None)
    return RoundOutcome(state, loss, failed)


def evaluate(model: nn.Module, data: Split, batch: int = 512) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of the whole model on held-out data."""
    loss, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(data), batch):
            logits = model(data.images[start : start + batch])
            labels = data.labels[start : start + batch]
            loss += F.cross_entropy(logits, labels, reduction="sum").item()
            correct += int((logits.argmax(1) == labels).sum())
    return loss / len(data), correct / len(data)
