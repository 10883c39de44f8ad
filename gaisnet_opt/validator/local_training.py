"""A round's local part (paper §III.C, Fig. 4): each cluster's iterations along its chain, from the delivered modules.

Clusters are independent within a round, so they run one after another on one
model instance: each starts from the edge server's delivered tunable modules
(prompt modules and head), trains its local iterations along its chain, and
uploads its tuned modules. A cluster whose member failed uploads nothing; the
frozen backbone is never written. Both engines run `train_clusters` (in a
distributed run, each process over the clusters it is in, with only its
members' steps); how the updates meet is `fedavg`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from torch import nn

from gaisnet_opt.validator.data import Split, batch_indices
from gaisnet_opt.validator.faults import Fault, LostPeer, MemberFailure
from gaisnet_opt.validator.fedavg import ClusterView, State, load_tunable, tunable_state
from gaisnet_opt.validator.split_chain import SplitChain


@dataclass
class ClusterJob:
    """A fine-tuning cluster: its chain and the local data at its start point."""

    index: int
    chain: SplitChain
    data: Split | None
    """None in a process without the start point"""
    key: str
    """whose batches: the start point's node id"""


@dataclass(frozen=True)
class ClusterResult:
    """One cluster's local training as this process saw it."""

    index: int
    update: State | None
    """the model's tunable tensors after the cluster's iterations (None: it failed)"""
    view: ClusterView


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
            results.append(ClusterResult(job.index, None, ClusterView(failure=(exc.node, exc.iteration))))
            continue
        job.chain.end_round()
        results.append(ClusterResult(job.index, tunable_state(model), ClusterView(
            loss=sum(losses) / len(losses) if losses else None,
            samples=None if job.data is None else float(len(job.data)))))
    return results
