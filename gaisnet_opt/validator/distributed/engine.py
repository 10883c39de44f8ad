"""The engine of one process of a distributed run (`rounds.Engine`): its members' steps, FedAvg by collectives.

Rank 0 runs `rounds.run_rounds` with it and keeps the records; every other
rank runs `Distributed.follow`, the same rounds without records. At the end
of a round each member process reports what it saw of its clusters to rank 0,
which decides the FedAvg (`fedavg.decide`) and tells everyone.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import asdict

import torch

from gaisnet_opt.validator.distributed.topology import Topology
from gaisnet_opt.validator.distributed.wire import Wire
from gaisnet_opt.validator.faults import LostPeer
from gaisnet_opt.validator.fedavg import (
    ClusterView,
    Decision,
    RoundOutcome,
    State,
    averaged,
    decide,
    load_tunable,
    tunable_state,
    weighted_sum,
)
from gaisnet_opt.validator.local_training import ClusterJob, ClusterResult, train_clusters
from gaisnet_opt.validator.meters import Meter, meter_data, restore
from gaisnet_opt.validator.report import InferenceRecord
from gaisnet_opt.validator.rounds import serve_request
from gaisnet_opt.validator.run_setup import Setup

KILLED = 75
"""Exit code of a member process killed by an injected `Fault` (a hung one too, when its hang ends)."""

PATIENCE = 3
"""Rank 0 waits this many timeouts for a member's result: the member may itself have waited one on a neighbour."""


class Distributed:
    """The engine of one process; rank 0 also keeps the run's records through `rounds.run_rounds`."""

    def __init__(self, wire: Wire, topology: Topology, setup: Setup):
        self.wire, self.topo, self.setup = wire, topology, setup
        self.rank = wire.rank
        self.node = topology.nodes[wire.rank]
        self.alive = [True] * topology.world
        self.lost_in: dict[int, int] = {}
        """rank -> the round its process was lost in"""
        self.delivered: State = tunable_state(setup.model)
        self.units = [n for n, _ in setup.model.units()]
        placed = [(r, m) for ranks, c in zip(topology.clusters, setup.plan.clusters) for r, m in zip(ranks, c.members)]
        self.holders = {name: sorted({r for r, m in placed if m.first <= self.units.index(name.split(".")[0]) <= m.last})
                        for name in self.delivered}
        """parameter name -> the ranks whose members hold its unit"""

    # --- who does what -------------------------------------------------------------------------------------------
    def _here(self, index: int) -> bool:
        return self.rank in self.topo.clusters[index]

    def _whole(self, index: int) -> bool:
        return all(self.alive[r] for r in self.topo.clusters[index])

    def _my_jobs(self) -> list[ClusterJob]:
        return [j for j in self.setup.jobs if self._here(j.index) and self._whole(j.index)]

    def _followers(self) -> list[int]:
        return [r for r in range(1, self.topo.world) if self.alive[r]]

    def _meters(self, rank: int) -> list[Meter]:
        """The meters `rank`'s members keep, in plan order."""
        return [m for i, ch in self.setup.chains.items() for k, r in enumerate(self.topo.clusters[i]) if r == rank
                for m in ch.member_meters(k)]

    def _groups(self) -> list[tuple[str, tuple[int, ...]]]:
        """(parameter, rank 0 and the live ranks holding its unit) for every tunable parameter; the groups of two or
        more ranks are made here, by every live process in the same order."""
        out = [(name, tuple(sorted({0, *(r for r in ranks if self.alive[r])}))) for name, ranks in self.holders.items()]
        self.wire.groups(list(dict.fromkeys(g for _, g in out if len(g) > 1)))
        return out

    # --- the engine ----------------------------------------------------------------------------------------------
    def start(self, setup: Setup, done: int, state: State) -> None:
        """Rank 0 tells every process the rounds done and its meters so far (a resumed run), then delivers `state`."""
        for r in self._followers():
            self.wire.send_data({"done": done, "meters": meter_data(self._meters(r))}, r)
        self._deliver(state)

    def follow(self) -> None:
        """A member process's whole run: as rank 0's `run_rounds`, without records."""
        got = self.wire.recv_data(0, PATIENCE * self.topo.world)
        restore(self._meters(self.rank), got["meters"])
        self._deliver(self.delivered)
        for r in range(got["done"] + 1, self.setup.config.rounds + 1):
            self.train(self.setup, r, self.delivered)
            self.serve(self.setup, r)

    def _deliver(self, state: State) -> None:
        """Rank 0's `state` to every holder of each module (the edge server's delivery); each loads it."""
        for name, ranks in self._groups():
            if self.rank in ranks and len(ranks) > 1:
                t = state[name].clone() if self.rank == 0 else torch.empty_like(self.delivered[name])
                self.wire.broadcast("parameters", t, ranks)
                self.delivered[name] = t
        if self.rank == 0:
            self.delivered = {k: v.clone() for k, v in state.items()}
        load_tunable(self.setup.model, self.delivered)

    def train(self, setup: Setup, round_no: int, state: State) -> RoundOutcome:
        """Local training of this process's clusters, the round's statuses at rank 0, FedAvg by collectives."""
        t = setup.scenario.training
        jobs = self._my_jobs()
        results = train_clusters(setup.model, jobs, state, round_no=round_no, iterations=t.local_iters, batch=t.batch_size,
                                 optimizer=t.optimizer, lr=setup.config.lr, seed=setup.config.seed, faults=setup.faults)
        fault = next((f for f in setup.faults if f.round == round_no and f.node == self.node), None)
        if fault is not None and any(r.view.failure is not None and r.view.failure[0] == self.node for r in results):
            if fault.kind == "hang":  # alive and silent past every wait on it; bounded, as torchrun waits for it
                time.sleep(2 * PATIENCE * self.topo.world * self.wire.timeout)
            os._exit(KILLED)  # the injected fault: this member's process dies mid-round
        decision = self._decide(round_no, jobs, results)
        new = self._average(state, jobs, results, decision.weights)
        self._deliver(new)
        return RoundOutcome(self.delivered, decision.train_loss, decision.failures)

    def _decide(self, round_no: int, jobs: Sequence[ClusterJob], results: Sequence[ClusterResult]) -> Decision:
        """Rank 0 gathers every live member's views and decides each cluster's FedAvg weight (0: left out)."""
        if self.rank:
            if jobs:
                self.wire.send_data([asdict(r.view) for r in results], 0)
            got = self.wire.recv_data(0, PATIENCE * self.topo.world)
            self._mark_lost([r for r in range(self.topo.world) if self.alive[r] and not got["alive"][r]], round_no)
            return Decision({int(i): w for i, w in got["weights"].items()}, None, ())
        gone = {j.index: self._gone(j.index) for j in self.setup.jobs if not self._whole(j.index)}
        views: dict[int, list[ClusterView]] = {j.index: [] for j in self.setup.jobs if j.index not in gone}
        for res in results:
            views[res.index].append(res.view)
        lost = []
        for r in self._followers():
            theirs = [i for i in views if r in self.topo.clusters[i]]
            if not theirs:
                continue
            try:
                got = self.wire.recv_data(r, PATIENCE)
            except LostPeer:
                lost.append(r)
                continue
            for i, view in zip(theirs, got):
                views[i].append(ClusterView.from_data(view))
        self._mark_lost(lost, round_no)
        for i, seen in views.items():  # a process lost now: where it stopped only its neighbours may have seen
            seen += [ClusterView(failure=(self.topo.nodes[r], None)) for r in self.topo.clusters[i] if not self.alive[r]]
        decision = decide(views, gone)
        for r in self._followers():
            self.wire.send_data({"alive": self.alive, "weights": decision.weights}, r)
        return decision

    def _gone(self, index: int) -> str:
        """Why cluster `index`, a member of which was lost in an earlier round, does not train."""
        gone = next(r for r in self.topo.clusters[index] if not self.alive[r] and r in self.lost_in)
        return f"member {self.topo.nodes[gone]} is gone (lost in round {self.lost_in[gone]})"

    def _mark_lost(self, ranks: Sequence[int], round_no: int) -> None:
        for r in ranks:
            self.alive[r] = False
            self.lost_in[r] = round_no

    def _average(self, state: State, jobs: Sequence[ClusterJob], results: Sequence[ClusterResult],
                 weights: dict[int, float]) -> State:
        """Sample-weighted FedAvg (`fedavg.fedavg`'s arithmetic): each holder's weighted modules summed at rank 0
        by a reduce in its module's group (the sum's order aside, the same numbers)."""
        total = sum(weights.values())
        new = dict(state)
        if total == 0:
            return new  # nobody finished: the modules stay as delivered
        for name, ranks in self._groups():
            if self.rank not in ranks:
                continue
            acc = weighted_sum([(res.update, weights[job.index]) for job, res in zip(jobs, results)
                                if weights[job.index] and res.update is not None and self._holds(job, name)], name, state[name])
            if len(ranks) > 1:
                self.wire.reduce("parameters", acc, ranks)
            if self.rank == 0:
                new[name] = averaged(acc, total, state[name])
        return new

    def _holds(self, job: ClusterJob, name: str) -> bool:
        """Whether this process's member of `job` holds the unit of parameter `name`."""
        unit = self.units.index(name.split(".")[0])
        return any(self.rank == r and m.first <= unit <= m.last
                   for r, m in zip(self.topo.clusters[job.index], self.setup.plan.clusters[job.index].members))

    def serve(self, setup: Setup, round_no: int) -> list[InferenceRecord]:
        """This process's part of every request; then each member's accuracy and meters go to rank 0."""
        served = {i: serve_request(setup, i, start, chain, round_no)
                  for i, start, chain in setup.serving if self._here(i) and self._whole(i)}
        if self.rank:
            mine = [rec.accuracy for i, rec in served.items() if rec is not None]
            self.wire.send_data({"accuracy": mine, "meters": meter_data(self._meters(self.rank))}, 0)
            return []
        for r in self._followers():
            try:
                got = self.wire.recv_data(r, PATIENCE)
            except LostPeer:
                continue  # its meters stay as last reported; the next round's statuses mark it lost
            starts = [i for i, start, _ in setup.serving if self.topo.nodes[r] == start and self._whole(i)]
            for i, acc in zip(starts, got["accuracy"]):
                start = setup.plan.clusters[i].start
                request = setup.scenario.node[start].request
                assert request is not None
                served[i] = InferenceRecord(cluster=i, start=start, samples=request.samples, accuracy=acc)
            restore(self._meters(r), got["meters"])
        return [rec for _, rec in sorted(served.items()) if rec is not None]
