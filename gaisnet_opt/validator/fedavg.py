"""One HFSL round (paper §III.C, Fig. 4): split learning inside each cluster, FedAvg across clusters.

Clusters are independent within a round, so they run one after another on one
model instance: each starts from the edge server's delivered tunable modules
(prompt modules and head), trains its local iterations along its chain, and
uploads its tuned modules. The edge server then averages same-named modules
over the clusters that finished, weighted by their samples. A cluster whose
member failed uploads nothing and is left out; the frozen backbone is never
written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from gaisnet_opt.validator.data import Split, batch_indices
from gaisnet_opt.validator.engine import MemberFailure, SplitChain

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


def fedavg(updates: Sequence[tuple[Mapping[str, torch.Tensor], float]]) -> State:
    """Sample-weighted average of same-named tensors (accumulated in float64, so identical inputs average to themselves)."""
    total = sum(w for _, w in updates)
    first = updates[0][0]
    return {
        name: (sum(state[name].double() * w for state, w in updates) / total).to(first[name].dtype)  # type: ignore[union-attr]
        for name in first
    }


@dataclass
class ClusterJob:
    """A fine-tuning cluster: its chain and the local data at its start point."""

    index: int
    chain: SplitChain
    data: Split
    key: str
    """whose batches: the start point's node id"""


@dataclass(frozen=True)
class Fault:
    """Injected: `node` drops out of the given round before its compute of `iteration` (0-based)."""

    round: int
    node: str
    iteration: int = 0


@dataclass(frozen=True)
class RoundOutcome:
    """The aggregated modules, the mean training loss of the clusters that finished, and who failed."""

    state: State
    train_loss: float | None
    failures: tuple[str, ...]


def train_round(
    model: nn.Module, jobs: Sequence[ClusterJob], global_state: State, *, round_no: int, iterations: int, batch: int,
    optimizer: str, lr: float, seed: int, faults: Sequence[Fault] = (),
) -> RoundOutcome:
    """Every cluster's local iterations from `global_state`, then FedAvg of those that finished."""
    updates: list[tuple[State, float]] = []
    losses: list[tuple[float, float]] = []
    failed: list[str] = []
    for job in jobs:
        load_tunable(model, global_state)
        job.chain.new_round(optimizer, lr)
        fault = next((f for f in faults if f.round == round_no and f.node in {w.node for w in job.chain.workers}), None)
        try:
            cluster_losses = []
            for i in range(iterations):
                idx = batch_indices(len(job.data), batch, seed, job.key, (round_no - 1) * iterations + i)
                failing = fault.node if fault is not None and fault.iteration == i else None
                cluster_losses.append(job.chain.train_step(job.data.images[idx], job.data.labels[idx], failing, i))
        except MemberFailure as exc:
            failed.append(f"cluster {job.index}: {exc}")
            continue
        job.chain.end_round()
        updates.append((tunable_state(model), float(len(job.data))))
        losses.append((sum(cluster_losses) / len(cluster_losses), float(len(job.data))))
    state = fedavg(updates) if updates else global_state
    load_tunable(model, state)
    loss = sum(l * w for l, w in losses) / sum(w for _, w in losses) if losses else None
    return RoundOutcome(state, loss, tuple(failed))


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
