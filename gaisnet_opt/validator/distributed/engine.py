"""The engine of one process of a distributed run (`rounds.Engine`): clusters take turns, rank 0 aggregates.

Rank 0 is the edge server that delivers, aggregates and evaluates; it runs
`rounds.run_rounds` with this engine and keeps the records. Every other rank
runs `Distributed.follow`, the same rounds without records. A round is a
sequence of turns, one per cluster (the fine-tuning ones in plan order, then
FedAvg, then the inference ones), so each cluster has the host to itself as
it would have its own devices: rank 0 announces the turn to the cluster's
members, delivers each member's tunable modules point to point, each member
runs its part (`local_training.train_clusters` or `rounds.serve_request`, the
in-process engine's code) and reports (`turns`); rank 0 then averages the
uploads with `fedavg.aggregate`, in cluster order as the in-process engine,
so both end with the same parameters. Only the plan's edge server aggregates;
an edge server member other than rank 0 gets and returns its modules over
the backhaul, which the cost model does not price.

Every wait has a timeout. A member whose process dies is seen by its
neighbours (the connection closes) or by the timeout; the member that made a
cluster fail is lost for good (`fedavg.decide`), and training goes on. Only a
member can be lost: rank 0 is the run.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import torch

from gaisnet_opt.validator.distributed.topology import Topology
from gaisnet_opt.validator.distributed.turns import Report, send_modules, send_status, send_trace
from gaisnet_opt.validator.distributed.wire import Wire
from gaisnet_opt.validator.faults import LostPeer
from gaisnet_opt.validator.fedavg import (
    ClusterView,
    Lost,
    RoundOutcome,
    State,
    aggregate,
    decide,
    failure,
    gone_clusters,
    load_tunable,
)
from gaisnet_opt.validator.local_training import ClusterJob, ClusterResult, train_clusters
from gaisnet_opt.validator.meters import meter_data, restore
from gaisnet_opt.validator.records import InferenceRecord
from gaisnet_opt.validator.rounds import ServeOutcome, serve_request
from gaisnet_opt.validator.run_setup import Setup
from gaisnet_opt.validator.split_chain import SplitChain, parcel, unparcel
from gaisnet_opt.validator.trace import Trace, now

KILLED = 75
"""Exit code of a member process killed by an injected `Fault` (a hung one too, when its hang ends)."""

PATIENCE = 3
"""Rank 0 waits this many timeouts for a member's status: the member may itself have waited one on a neighbour."""


@dataclass
class Turn:
    """Rank 0's view of one cluster's open turn: the member ranks, the threads receiving their reports, its stamps."""

    index: int
    chain: SplitChain
    ranks: tuple[int, ...]
    reports: list[Report]
    trace: Trace


class Distributed:
    """The engine of one process; rank 0 also keeps the run's records through `rounds.run_rounds`."""

    def __init__(self, wire: Wire, topology: Topology, setup: Setup):
        self.wire, self.topo, self.setup = wire, topology, setup
        self.rank = wire.rank
        self.node = topology.nodes[wire.rank]
        self.dead: set[int] = set()
        """ranks rank 0 can no longer reach"""
        self.lost: Lost = {}
        self.round_no = 0
        units = [n for n, _ in setup.model.units()]
        unit_of = {name: units.index(name.split(".")[0]) for name in setup.initial}
        self.names = {i: [[n for n, u in unit_of.items() if m.first <= u <= m.last] for m in c.members]
                      for i, c in enumerate(setup.plan.clusters)}
        """cluster -> member -> the tunable parameters it holds"""
        self.turns = [j.index for j in setup.jobs] + [i for i, _, _ in setup.serving]
        self.patience = PATIENCE * (len(self.turns) + 1)
        """a member waits for its turn as long as rank 0 may wait for every cluster before it"""

    # --- who does what -------------------------------------------------------------------------------------------
    def _reachable(self, rank: int) -> bool:
        return rank not in self.dead and self.topo.nodes[rank] not in self.lost

    def _members(self, rank: int) -> list[tuple[int, int]]:
        """(cluster, member index) of every member `rank` runs, in turn order."""
        return [(i, k) for i in self.turns for k, r in enumerate(self.topo.clusters[i]) if r == rank]

    def _flat(self, state: State, index: int, k: int) -> torch.Tensor:
        return parcel([state[n] for n in self.names[index][k]])

    def _size(self, index: int, k: int) -> int:
        """Values in member k's modules."""
        return sum(self.setup.initial[n].numel() for n in self.names[index][k])

    def _moves(self, index: int, k: int, deliver: bool) -> str | None:
        """The kind of message member k's modules cross in (None: none cross, or it is rank 0)."""
        rank, worker = self.topo.clusters[index][k], self.setup.chains[index].workers[k]
        if rank == 0 or not worker.tunable or not deliver:
            return None
        return "delivery" if worker.moves else "backhaul"

    # --- rank 0 --------------------------------------------------------------------------------------------------
    def start(self, setup: Setup, done: int, state: State, lost: Lost) -> None:
        """Rank 0 tells every process the rounds done, who is lost and its meters so far (a resumed run)."""
        self.lost = dict(lost)
        for r in range(1, self.topo.world):
            meters = [m for i, k in self._members(r) for m in setup.chains[i].member_meters(k)]
            self.wire.send_data({"done": done, "lost": self.lost, "meters": meter_data(meters)}, r)

    def _open(self, index: int, state: State, deliver: bool) -> Turn | None:
        """Announce cluster `index`'s turn to its members (None: it cannot run) and deliver their modules."""
        ranks = self.topo.clusters[index]
        chain = self.setup.chains[index]
        chain.trace.clear()  # rank 0 keeps the stamps of every cluster's last turn only
        run = all(self._reachable(r) for r in ranks)
        for r in dict.fromkeys(ranks):
            if r and self._reachable(r):
                try:
                    self.wire.send_data({"cluster": index, "run": run}, r)
                except LostPeer:
                    self.dead.add(r)  # gone since its last turn: its neighbours fail fast, its report shows the loss
        if not run:
            return None
        trace = Trace()
        t0 = now()
        trace.add("turn", 0, t0, t0)
        posted = []
        for k, r in enumerate(ranks):
            if (kind := self._moves(index, k, deliver)) is not None:
                flat, start = self._flat(state, index, k), now()
                try:
                    posted.append((k, r, kind, self.wire.post_send(kind, flat, r), start))
                except LostPeer:
                    continue  # its report shows the loss
        reports = [Report(self.wire, r, k, self._upload(index, k), PATIENCE).start() for k, r in enumerate(ranks) if r]
        for k, r, kind, work, start in posted:
            try:
                self.wire.finish(work, r)
            except LostPeer:
                continue
            trace.add(f"send:{kind}", k, start, now())
        return Turn(index, chain, ranks, reports, trace)

    def _upload(self, index: int, k: int) -> tuple[str, int] | None:
        """Kind and size of member k's modules coming back after fine-tuning (None: none come)."""
        if self.setup.plan.clusters[index].kind != "finetune" or (kind := self._moves(index, k, True)) is None:
            return None
        return ("upload" if kind == "delivery" else "backhaul"), self._size(index, k)

    def _close(self, turn: Turn, own: list[ClusterView]) -> tuple[list[ClusterView], State]:
        """The members' reports of a turn: their views (a lost process as a failure of its node), the modules they
        returned by name, their meters; the turn's stamps, all processes', become the chain's trace."""
        views, modules = list(own), State()
        events = [*turn.chain.trace.events, *turn.trace.events]
        for rep in (r.join() for r in turn.reports):
            node = self.topo.nodes[rep.rank]
            if rep.lost is not None or rep.view is None:
                self.dead.add(rep.rank)
                self.lost.setdefault(node, self.round_no)  # a process gone is gone for good, culprit or not
                views.append(ClusterView(failure=(node, None)))
                continue
            views.append(rep.view)
            if rep.modules is not None:
                like = [self.setup.initial[n] for n in self.names[turn.index][rep.k]]
                modules |= dict(zip(self.names[turn.index][rep.k], unparcel(rep.modules, like)))
            events += rep.events
            if rep.meters is not None:
                restore(turn.chain.member_meters(rep.k), rep.meters)
        turn.chain.trace.events[:] = events
        return views, modules

    def train(self, setup: Setup, round_no: int, state: State, lost: Lost) -> RoundOutcome:
        """Every fine-tuning cluster's turn, then FedAvg of those that finished (rank 0)."""
        self.lost, self.round_no = dict(lost), round_no
        gone = gone_clusters({j.index: [w.node for w in j.chain.workers] for j in setup.jobs}, self.lost)
        views: dict[int, list[ClusterView]] = {}
        updates: dict[int, State] = {}
        for job in setup.jobs:
            turn = self._open(job.index, state, True)
            if turn is None:
                gone.setdefault(job.index, "a member's process is gone")
                continue
            own = self._part(job, state, round_no) if 0 in turn.ranks else None
            views[job.index], modules = self._close(turn, [own.view] if own is not None else [])
            if own is not None and own.update is not None:
                modules |= {n: own.update[n] for k, r in enumerate(turn.ranks) if r == 0 for n in self.names[job.index][k]}
            if len(modules) == len(setup.initial):
                updates[job.index] = modules
        decision = decide(views, gone)
        self.lost |= dict.fromkeys(decision.culprits, round_no)
        for i, weight in decision.weights.items():
            if not weight:
                setup.chains[i].trace.clear()  # a failed turn is not timed
        new = aggregate(updates, decision, state)
        return RoundOutcome(new, decision.train_loss, decision.failures, dict(self.lost))

    def serve(self, setup: Setup, round_no: int, state: State, lost: Lost) -> ServeOutcome:
        """Every inference cluster's turn (rank 0): its members get the aggregated modules (a cached chain none)."""
        self.lost, self.round_no = dict(lost), round_no
        records, failures = [], []
        for i, start, chain in setup.serving:
            cached = setup.cached(start)
            turn = self._open(i, state, not cached)
            if turn is None:
                failures.append(f"cluster {i}: " + gone_clusters({i: [w.node for w in chain.workers]}, self.lost).get(
                    i, "a member's process is gone"))
                continue
            own = self._serve_part(i, start, chain, round_no, setup.initial if cached else state) if 0 in turn.ranks else None
            views, _ = self._close(turn, [own[1]] if own is not None else [])
            failed = failure(views)
            if failed is not None:
                chain.trace.clear()
                self.lost[failed[0]] = round_no
                failures.append(f"cluster {i}: {failed[1]} while serving")
                continue
            accuracy = own[0] if turn.ranks[0] == 0 and own is not None else next(
                r.accuracy for r in turn.reports if r.k == 0)
            request = setup.scenario.node[start].request
            assert request is not None
            records.append(InferenceRecord(cluster=i, start=start, samples=request.samples, accuracy=accuracy))
        return records, failures

    # --- every member --------------------------------------------------------------------------------------------
    def _part(self, job: ClusterJob, delivered: State, round_no: int) -> ClusterResult:
        """This process's members' local training of `job` from its delivered modules; an injected fault on this
        node kills (or hangs) the process here, as a device dropping out mid-round."""
        t = self.setup.scenario.training
        (result,) = train_clusters(self.setup.model, [job], delivered, round_no=round_no, iterations=t.local_iters,
                                   batch=t.batch_size, optimizer=t.optimizer, lr=self.setup.config.lr,
                                   seed=self.setup.config.seed, faults=self.setup.faults)
        fault = next((f for f in self.setup.faults if f.round == round_no and f.node == self.node), None)
        if fault is not None and result.view.failure is not None and result.view.failure[0] == self.node:
            if fault.kind == "hang":  # alive and silent past every wait on it; bounded, as torchrun waits for it
                time.sleep(2 * self.patience * self.wire.timeout)
            os._exit(KILLED)
        return result

    def _serve_part(self, index: int, start: str, chain: SplitChain, round_no: int,
                    modules: State) -> tuple[float | None, ClusterView]:
        """This process's members' part of a request; the accuracy where the start point is."""
        load_tunable(self.setup.model, modules)
        try:
            record = serve_request(self.setup, index, start, chain, round_no)  # type: ignore[arg-type]
        except LostPeer as exc:
            return None, ClusterView(failure=(exc.node, None))
        return (None if record is None else record.accuracy), ClusterView()

    def follow(self) -> None:
        """A member process's whole run: every turn it has a part in, as rank 0 announces them."""
        got = self.wire.recv_data(0, self.patience)
        if self.node in got["lost"]:
            return  # lost before a resumed run: nothing to do
        mine = self._members(self.rank)
        restore([m for i, k in mine for m in self.setup.chains[i].member_meters(k)], got["meters"])
        try:
            for r in range(got["done"] + 1, self.setup.config.rounds + 1):
                for i, k in mine:
                    self._follow_turn(i, k, r)
        except LostPeer:
            return  # rank 0 stopped talking to this process: it was lost

    def _follow_turn(self, index: int, k: int, round_no: int) -> None:
        if not self.wire.recv_data(0, self.patience)["run"]:
            return
        chain, trace = self.setup.chains[index], Trace()
        serving = next(((start, ch) for i, start, ch in self.setup.serving if i == index), None)
        cached = serving is not None and self.setup.cached(serving[0])
        modules = {n: self.setup.initial[n] for n in self.names[index][k]}
        if (kind := self._moves(index, k, not cached)) is not None:
            start = now()
            flat = self.wire.recv(kind, [self._size(index, k)], torch.float32, 0)
            trace.add(f"recv:{kind}", k, start, now())
            modules = dict(zip(modules, unparcel(flat, list(modules.values()))))
        if serving is not None:
            accuracy, view = self._serve_part(index, serving[0], serving[1], round_no, modules)
            send_status(self.wire, view, accuracy)
        else:
            job = next(j for j in self.setup.jobs if j.index == index)
            result = self._part(job, modules, round_no)
            send_status(self.wire, result.view)
            if (back := self._upload(index, k)) is not None and result.update is not None:
                send_modules(self.wire, back[0], parcel([result.update[n] for n in self.names[index][k]]), k, trace)
        send_trace(self.wire, [*chain.trace.events, *trace.events], chain.member_meters(k))
