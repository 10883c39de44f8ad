"""The distributed engine: every chain member and the aggregating edge server is a torch.distributed process.

Processes meet over gloo with a TCP rendezvous, so they can run on one machine
or on many. Rank 0 is the edge server that aggregates (and evaluates, serves as
the rendezvous store and writes the report); every other node in the plan's
chains is one process (`Topology`). Each process runs the same code as the
in-process engine (`SplitChain` steps, `fedavg.train_clusters`) for its own
members only; what differs is how tensors cross:

- hops are point-to-point sends and receives (`ProcessLink`): smashed data
  forward, gradients back, the labels from the start point to the end point
  (which takes the loss; the cost model does not price them), an inference
  result home. The start point's images never leave its process: its data
  partition is made nowhere else.
- FedAvg: the holders of same-numbered units and rank 0 form process groups;
  a reduce gathers the sample-weighted tunable modules at rank 0 and a
  broadcast delivers the averaged ones back.
- results: each process's per-cluster status, meters and inference accuracy
  go to rank 0, which tells everyone which clusters are averaged.

Every wait has a timeout. A member whose process dies mid-round is detected by
its neighbours (the connection closes) or by the timeout, one that hangs by the
timeout; its cluster is left out of that round's FedAvg and, its process being
written off, out of every later round, and training goes on. Only a member can
be lost: rank 0 is the run. Each pair of processes that exchange messages has a
process group of its own (`Wire.connect`): gloo closes all of a group's
connections when one wait in it times out, so a hung peer costs a process only
its links to that peer.
A timeout bounds a wait for one message, the peers' compute before it
included, so it must exceed a round's local training.

Limits: every process builds the whole frozen model from the same seed and
checkpoint (the unit shapes and the profile check need it) though it runs
only its members' units; a lost process's meters are those of its last
report; a member lost while serving inference or inside FedAvg ends the run
with an error (fault injection kills or hangs members only during training).

Launching: `launch` spawns the processes on this machine (a fork server that
has imported torch once, a free port on 127.0.0.1 unless told otherwise);
`run_from_env` is one process of a torchrun launch, on one machine or many
(env:// rendezvous; see the package docstring for the command). Rank 0's
node is the edge server; the others follow in plan order (`Topology`).
"""

from __future__ import annotations

import json
import os
import pickle
import queue
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from gaisnet_opt.cost import resolve_server
from gaisnet_opt.errors import InputError
from gaisnet_opt.plan import Plan
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.validator.data import Partition
from gaisnet_opt.validator.engine import (
    HopMeter,
    LostPeer,
    MemberFailure,
    MemberMeter,
    SplitChain,
)
from gaisnet_opt.validator.fedavg import (
    ClusterJob,
    ClusterResult,
    Fault,
    RoundOutcome,
    State,
    averaged,
    load_tunable,
    mean_loss,
    train_clusters,
    tunable_state,
    weighted_sum,
)
from gaisnet_opt.validator.inference import InferenceChain
from gaisnet_opt.validator.model import Tune
from gaisnet_opt.validator.report import (
    InferenceRecord,
    RoundRecord,
    RunConfig,
    ValidationReport,
)
from gaisnet_opt.validator.run import (
    DEFAULT_LR,
    DEFAULT_TIMEOUT_S,
    ProgressFn,
    Setup,
    prepare,
    read_checkpoint,
    run_config,
    run_rounds,
    serve_request,
)

KILLED = 75
"""Exit code of a member process killed by an injected `Fault` (a hung one too, when its hang ends)."""

PATIENCE = 3
"""Rank 0 waits this many timeouts for a member's result: the member may itself have waited one on a neighbour."""

KINDS = ("smashed", "gradient", "labels", "parameters", "result")
"""What may cross between processes (`Wire` refuses anything else)."""

PRELOAD = ["gaisnet_opt.validator.distributed", "sklearn.datasets"]
"""Imported once by the fork server the processes start from (torch, timm and the data loader take seconds each)."""

_STATUS = 5
"""Per fine-tuning cluster: failed, culprit member index, iteration, mean loss, samples."""


@dataclass(frozen=True)
class Topology:
    """Which node each rank is (rank 0: the aggregating edge server) and the member ranks of every cluster."""

    nodes: tuple[str, ...]
    clusters: tuple[tuple[int, ...], ...]

    @classmethod
    def of(cls, scenario: Scenario, plan: Plan) -> Topology:
        servers = [s for c in plan.clusters if c.kind == "finetune" and (s := resolve_server(scenario, c)) is not None]
        server = (servers or [n.id for n in scenario.nodes if n.kind == "edge"] or ["aggregator"])[0]
        nodes = [server]
        for c in plan.clusters:
            nodes += [m.node for m in c.members if m.node not in nodes]
        rank = {n: r for r, n in enumerate(nodes)}
        return cls(tuple(nodes), tuple(tuple(rank[m.node] for m in c.members) for c in plan.clusters))

    @property
    def world(self) -> int:
        return len(self.nodes)

    @property
    def links(self) -> list[tuple[int, int]]:
        """The rank pairs that exchange messages: rank 0 with every other, each chain's hops and its end with its start."""
        pairs = {(0, r) for r in range(1, self.world)}
        for ranks in self.clusters:
            for a, b in [*pairwise(ranks), (ranks[-1], ranks[0])]:
                if a != b:
                    pairs.add((min(a, b), max(a, b)))
        return sorted(pairs)


@dataclass
class Wire:
    """Every message between processes passes here: typed by kind, waited on with a timeout, optionally recorded."""

    rank: int
    nodes: tuple[str, ...]
    timeout: float
    record: bool = False
    log: list[dict[str, Any]] = field(default_factory=list)
    shapes: list[tuple[torch.Size, torch.dtype]] = field(default_factory=list)
    """each unit's output per sample (set once the model is built), so receivers know what arrives"""
    _groups: dict[tuple[int, ...], Any] = field(default_factory=dict)
    _links: dict[tuple[int, int], Any] = field(default_factory=dict)

    def _note(self, op: str, kind: str, t: torch.Tensor, peers: Sequence[int]) -> None:
        if kind not in KINDS:
            raise ValueError(f"'{kind}' may not cross between processes")
        if self.record:
            self.log.append({"op": op, "kind": kind, "dtype": str(t.dtype).removeprefix("torch."),
                             "shape": list(t.shape), "peers": list(peers)})

    def _wait(self, start: Callable[[], Any], peers: Sequence[int], patience: float = 1) -> None:
        """Start an operation and wait for it; a closed connection or the timeout is a lost peer."""
        try:
            start().wait(timeout=timedelta(seconds=self.timeout * patience))
        except RuntimeError as exc:  # gloo: connection closed, or the timeout
            lost = ", ".join(self.nodes[p] for p in peers)
            raise LostPeer(lost, str(exc).strip().splitlines()[0]) from None

    def connect(self, pairs: Sequence[tuple[int, int]]) -> None:
        """A process group of its own for each pair of ranks that exchange messages; every process calls this with
        the same pairs in the same order. Gloo closes every connection of a group when a wait in it times out, so on
        one shared group a peer that hangs would cut this process off from all the others, not only from itself."""
        for a, b in pairs:
            self._links[(a, b)] = dist.new_group([a, b], timeout=timedelta(seconds=self.timeout),
                                                 use_local_synchronization=False)

    def _link(self, peer: int) -> Any:
        return self._links[(min(self.rank, peer), max(self.rank, peer))]

    def send(self, kind: str, t: torch.Tensor, dst: int) -> None:
        self._note("send", kind, t, [dst])
        self._wait(lambda: dist.isend(t.contiguous(), dst, group=self._link(dst)), [dst])

    def recv(self, kind: str, shape: Sequence[int], dtype: torch.dtype, src: int, patience: float = 1) -> torch.Tensor:
        t = torch.empty(tuple(shape), dtype=dtype)
        self._note("recv", kind, t, [src])
        self._wait(lambda: dist.irecv(t, src, group=self._link(src)), [src], patience)
        return t

    def groups(self, rank_sets: Sequence[tuple[int, ...]]) -> None:
        """Make the groups not made yet; every live process calls this with the same sets in the same order."""
        for ranks in rank_sets:
            if ranks not in self._groups:
                self._groups[ranks] = dist.new_group(list(ranks), timeout=timedelta(seconds=self.timeout),
                                                     use_local_synchronization=False)

    def reduce(self, kind: str, t: torch.Tensor, ranks: tuple[int, ...]) -> None:
        """Sum `t` over `ranks` into rank 0's `t`."""
        self._note("reduce", kind, t, ranks)
        self._wait(lambda: dist.reduce(t, dst=0, group=self._groups[ranks], async_op=True), ranks)

    def broadcast(self, kind: str, t: torch.Tensor, ranks: tuple[int, ...]) -> None:
        """Rank 0's `t` into every other rank's `t`."""
        self._note("broadcast", kind, t, ranks)
        self._wait(lambda: dist.broadcast(t, src=0, group=self._groups[ranks], async_op=True), ranks)


@dataclass
class ProcessLink:
    """One chain's hops between processes: this rank sends or receives at the hops its members end."""

    wire: Wire
    ranks: tuple[int, ...]
    """the rank of every member"""
    lasts: tuple[int, ...]
    """the last unit of every member: what it emits is that unit's output"""

    def here(self, k: int) -> bool:
        return self.ranks[k] == self.wire.rank

    def _cross(self, kind: str, src: int, dst: int, t: torch.Tensor | None, shape: Sequence[int],
               dtype: torch.dtype) -> torch.Tensor | None:
        if self.here(src) and self.here(dst):
            return t
        if self.here(src):
            assert t is not None
            self.wire.send(kind, t, self.ranks[dst])
        elif self.here(dst):
            return self.wire.recv(kind, shape, dtype, self.ranks[src])
        return None

    def _emitted(self, k: int, rows: int) -> tuple[list[int], torch.dtype]:
        shape, dtype = self.wire.shapes[self.lasts[k]]
        return [rows, *shape], dtype

    def smashed(self, k: int, x: torch.Tensor | None, rows: int) -> torch.Tensor | None:
        return self._cross("smashed", k - 1, k, x, *self._emitted(k - 1, rows))

    def gradient(self, k: int, grad: torch.Tensor | None, like: torch.Tensor | None) -> torch.Tensor | None:
        shape, dtype = (like.shape, like.dtype) if like is not None else ((), torch.float32)
        return self._cross("gradient", k, k - 1, grad, shape, dtype)

    def labels(self, labels: torch.Tensor | None, rows: int) -> torch.Tensor | None:
        return self._cross("labels", 0, len(self.ranks) - 1, labels, [rows], torch.long)

    def home(self, logits: torch.Tensor | None, rows: int) -> torch.Tensor | None:
        return self._cross("result", len(self.ranks) - 1, 0, logits, *self._emitted(len(self.ranks) - 1, rows))


def unit_shapes(setup: Setup) -> list[tuple[torch.Size, torch.dtype]]:
    """Each unit's output shape per sample and dtype (one sample through the whole model)."""
    cfg = setup.model.cfg
    x = torch.zeros(1, cfg.in_chans, cfg.img_size, cfg.img_size)
    out = []
    with torch.no_grad():
        for _, unit in setup.model.units():
            x = unit(x)
            out.append((x.shape[1:], x.dtype))
    return out


def _meters_of(chain: SplitChain, k: int) -> list[Any]:
    """The meters member k keeps: its own, the hop it receives over, and (a start point) the return hop."""
    parts: list[Any] = [chain.workers[k].meter]
    if k:
        parts.append(chain.hops[k - 1])
    elif isinstance(chain, InferenceChain) and chain.return_hop is not None:
        parts.append(chain.return_hop)
    return parts


def _numbers(meter: MemberMeter | HopMeter) -> list[str]:
    return [f.name for f in fields(meter) if f.name not in ("node", "src", "dst", "first", "last")]


def _pack(parts: Sequence[MemberMeter | HopMeter]) -> list[float]:
    return [float(getattr(m, name)) for m in parts for name in _numbers(m)]


def _unpack(parts: Sequence[MemberMeter | HopMeter], values: Sequence[float]) -> None:
    it = iter(values)
    for m in parts:
        for f in fields(m):
            if f.name in _numbers(m):
                value = next(it)
                setattr(m, f.name, value if f.type == "float" else int(value))


class Distributed:
    """The engine of one process (`run.Engine`); rank 0 also keeps the run's records through `run.run_rounds`."""

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
            self.wire.send("result", torch.tensor([float(done), *self._pack_rank(r)], dtype=torch.float64), r)
        self._deliver(state)

    def follow(self) -> None:
        """A member process's whole run: as rank 0's `run_rounds`, without records."""
        mine = self._pack_rank(self.rank)
        got = self.wire.recv("result", [1 + len(mine)], torch.float64, 0, PATIENCE * self.topo.world)
        done = int(got[0])
        self._unpack_rank(self.rank, got[1:].tolist())
        self._deliver(self.delivered)
        for r in range(done + 1, self.setup.config.rounds + 1):
            self.train(self.setup, r, self.delivered)
            self.serve(self.setup, r)

    def _pack_rank(self, rank: int) -> list[float]:
        return _pack([m for i, ch in self.setup.chains.items() for k, r in enumerate(self.topo.clusters[i]) if r == rank
                      for m in _meters_of(ch, k)])

    def _unpack_rank(self, rank: int, values: Sequence[float]) -> None:
        _unpack([m for i, ch in self.setup.chains.items() for k, r in enumerate(self.topo.clusters[i]) if r == rank
                 for m in _meters_of(ch, k)], values)

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
        if fault is not None and any(r.failure is not None and r.failure.node == self.node for r in results):
            if fault.kind == "hang":  # alive and silent past every wait on it; bounded, as torchrun waits for it
                time.sleep(2 * PATIENCE * self.topo.world * self.wire.timeout)
            os._exit(KILLED)  # the injected fault: this member's process dies mid-round
        weights, loss, failures = self._decide(round_no, jobs, results)
        new = self._average(state, jobs, results, weights)
        self._deliver(new)
        return RoundOutcome(self.delivered, loss, failures)

    @staticmethod
    def _status(jobs: Sequence[ClusterJob], results: Sequence[ClusterResult]) -> torch.Tensor:
        """This process's view of each of its clusters (`_STATUS` numbers each; NaN: not known here)."""
        nan = float("nan")
        rows = []
        for job, res in zip(jobs, results):
            f = res.failure
            culprit = [w.node for w in job.chain.workers].index(f.node) if f is not None else -1
            rows.append([float(f is not None), float(culprit), float(f.iteration) if f is not None else -1.0,
                         nan if res.loss is None else res.loss, nan if res.samples is None else res.samples])
        return torch.tensor(rows, dtype=torch.float64).reshape(-1, _STATUS)

    def _decide(self, round_no: int, jobs: Sequence[ClusterJob], results: Sequence[ClusterResult]) -> tuple[list[float], float | None, tuple[str, ...]]:
        """Rank 0 gathers every live member's status and decides each cluster's FedAvg weight (0: left out)."""
        finetune = [j.index for j in self.setup.jobs]
        active = {i: self._whole(i) for i in finetune}
        if self.rank:
            if jobs:
                self.wire.send("result", self._status(jobs, results), 0)
            got = self.wire.recv("result", [self.topo.world + len(finetune)], torch.float64, 0, PATIENCE * self.topo.world).tolist()
            self._mark_lost([r for r in range(self.topo.world) if self.alive[r] and not got[r]], round_no)
            return got[self.topo.world:], None, ()
        statuses: dict[int, list[list[float]]] = {i: [] for i in finetune}
        for job, row in zip(jobs, self._status(jobs, results).tolist()):
            statuses[job.index].append(row)
        lost = []
        for r in self._followers():
            theirs = [i for i in finetune if active[i] and r in self.topo.clusters[i]]
            if not theirs:
                continue
            try:
                rows = self.wire.recv("result", [len(theirs), _STATUS], torch.float64, r, PATIENCE).tolist()
            except LostPeer:
                lost.append(r)
                continue
            for i, row in zip(theirs, rows):
                statuses[i].append(row)
        self._mark_lost(lost, round_no)
        weights, losses, failures = [], [], []
        for i in finetune:
            why = self._failure(i, statuses[i], active[i])
            rows = statuses[i]
            samples = next((row[4] for row in rows if row[4] == row[4]), 0.0)
            if why is not None:
                failures.append(f"cluster {i}: {why}")
                weights.append(0.0)
                continue
            weights.append(samples)
            losses += [(row[3], samples) for row in rows if row[3] == row[3]]
        decision = torch.tensor([float(a) for a in self.alive] + weights, dtype=torch.float64)
        for r in self._followers():
            self.wire.send("result", decision, r)
        return weights, mean_loss(losses), tuple(failures)

    def _failure(self, index: int, rows: list[list[float]], active: bool) -> str | None:
        """Why cluster `index` is left out of this round (None: it is averaged)."""
        members = [m.node for m in self.setup.plan.clusters[index].members]
        ranks = self.topo.clusters[index]
        if not active:
            gone = next(r for r in ranks if not self.alive[r] and r in self.lost_in)
            return f"member {self.topo.nodes[gone]} is gone (lost in round {self.lost_in[gone]})"
        dead = [members[k] for k, r in enumerate(ranks) if not self.alive[r]]
        failed = [row for row in rows if row[0]]
        if not dead and not failed:
            return None
        culprit = dead[0] if dead else members[int(failed[0][1])]
        seen = [int(row[2]) for row in failed if int(row[1]) >= 0 and members[int(row[1])] == culprit]
        return str(MemberFailure(culprit, min(seen))) if seen else f"member {culprit} failed (its process is gone)"

    def _mark_lost(self, ranks: Sequence[int], round_no: int) -> None:
        for r in ranks:
            self.alive[r] = False
            self.lost_in[r] = round_no

    def _average(self, state: State, jobs: Sequence[ClusterJob], results: Sequence[ClusterResult], weights: Sequence[float]) -> State:
        """Sample-weighted FedAvg (`fedavg.fedavg`'s arithmetic): each holder's weighted modules summed at rank 0
        by a reduce in its module's group (the sum's order aside, the same numbers)."""
        weight = dict(zip((j.index for j in self.setup.jobs), weights))
        total = sum(weights)
        new = dict(state)
        if total == 0:
            return new  # nobody finished: the modules stay as delivered
        for name, ranks in self._groups():
            if self.rank not in ranks:
                continue
            acc = weighted_sum([(res.update, weight[job.index]) for job, res in zip(jobs, results)
                                if weight[job.index] and res.update is not None and self._holds(job, name)], name, state[name])
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
            mine = [served[i].accuracy for i, start, _ in setup.serving if self.topo.nodes[self.rank] == start and i in served]  # type: ignore[union-attr]
            self.wire.send("result", torch.tensor(mine + self._pack_rank(self.rank), dtype=torch.float64), 0)
            return []
        for r in self._followers():
            starts = [i for i, start, _ in setup.serving if self.topo.nodes[r] == start and self._whole(i)]
            size = len(starts) + len(self._pack_rank(r))
            try:
                got = self.wire.recv("result", [size], torch.float64, r, PATIENCE).tolist()
            except LostPeer:
                continue  # its meters stay as last reported; the next round's statuses mark it lost
            for i, acc in zip(starts, got):
                request = setup.scenario.node[setup.plan.clusters[i].start].request
                assert request is not None
                served[i] = InferenceRecord(cluster=i, start=setup.plan.clusters[i].start, samples=request.samples, accuracy=acc)
            self._unpack_rank(r, got[len(starts):])
        return [rec for _, rec in sorted(served.items()) if rec is not None]


def _rank_main(rank: int, world: int, init_method: str, scenario: Scenario, plan: Plan, config: RunConfig,
               faults: Sequence[Fault], out_dir: str, resume: bool, timeout: float, threads: int,
               record: str | None, progress: Any) -> None:
    """One process of a run (spawned here or started by torchrun)."""
    torch.set_num_threads(threads)
    dist.init_process_group("gloo", init_method=init_method, rank=rank, world_size=world, timeout=timedelta(seconds=timeout))
    try:
        topo = Topology.of(scenario, plan)
        wire = Wire(rank, topo.nodes, timeout, record is not None)
        wire.connect(topo.links)
        node = topo.nodes[rank]
        setup = prepare(scenario, plan, config, faults,
                        link_for=lambda i: ProcessLink(wire, topo.clusters[i], tuple(m.last for m in plan.clusters[i].members)),
                        holds=lambda start: start == node)
        wire.shapes = unit_shapes(setup)
        engine = Distributed(wire, topo, setup)
        if rank == 0:
            run_rounds(setup, engine, out_dir, resume, None if progress is None else lambda rec, total: progress.put(rec.model_dump_json()))
        else:
            engine.follow()
        if record is not None:
            Path(record, f"rank{rank}.json").write_text(json.dumps({"node": node, "messages": wire.log}))
    finally:
        dist.destroy_process_group()


def free_port(addr: str = "127.0.0.1") -> int:
    """A TCP port free on `addr` now (bound to port 0 and released)."""
    with socket.socket() as s:
        s.bind((addr, 0))
        return int(s.getsockname()[1])


def check_topology(scenario: Scenario, plan: Plan, faults: Sequence[Fault], nprocs: int | None) -> Topology:
    """The plan's processes; an InputError for another process count, or a fault on rank 0 (the run itself)."""
    topo = Topology.of(scenario, plan)
    if nprocs is not None and nprocs != topo.world:
        raise InputError("validate", [("--nprocs", f"{nprocs}: the plan needs {topo.world} processes ({', '.join(topo.nodes)})")])
    bad = [f.node for f in faults if f.node == topo.nodes[0]]
    if bad:
        raise InputError("validate", [("faults", f"{bad[0]} is the aggregating edge server (rank 0); only members can be lost")])
    return topo


def launch(
    scenario: Scenario, plan: Plan, config: RunConfig, faults: Sequence[Fault] = (), *, out_dir: str | Path = "validation",
    resume: bool = False, nprocs: int | None = None, master_addr: str = "127.0.0.1", master_port: int = 0,
    timeout: float = DEFAULT_TIMEOUT_S, progress: ProgressFn | None = None, record: str | Path | None = None,
    deadline: float | None = None,
) -> ValidationReport:
    """Spawn the plan's processes on this machine, run, and return rank 0's report.

    Inputs are checked here first (nothing is written or spawned for bad ones).
    `record`: a directory where each process writes every message it sent or
    received (kind, dtype, shape, peers) as rank<r>.json. `deadline`: seconds
    after which the processes are killed and a TimeoutError raised. Members
    still running `timeout` seconds after rank 0 ends (a hung one) are killed.
    """
    setup = prepare(scenario, plan, config, faults)
    topo = check_topology(scenario, plan, faults, nprocs)
    if resume:
        read_checkpoint(out_dir, setup.fingerprint)
    del setup
    if record is not None:
        Path(record).mkdir(parents=True, exist_ok=True)
    init = f"tcp://{master_addr}:{master_port or free_port(master_addr)}"
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    records: Any = ctx.Queue()
    procs = mp.start_processes(
        _rank_main, nprocs=topo.world, join=False, start_method="forkserver",
        args=(topo.world, init, scenario, plan, config, tuple(faults), str(out_dir), resume, timeout,
              torch.get_num_threads(), None if record is None else str(record), records),
    )
    def relay(wait: float) -> bool:
        """Pass one round record from rank 0 to `progress`; False if none came within `wait` seconds."""
        try:
            line = records.get(timeout=wait) if wait else records.get_nowait()
        except queue.Empty:
            return False
        if progress is not None:
            progress(RoundRecord.model_validate_json(line), config.rounds)
        return True

    started = time.monotonic()
    rank0 = procs.processes[0]
    try:
        while rank0.is_alive():
            if deadline is not None and time.monotonic() - started > deadline:
                raise TimeoutError(f"distributed validation still running after {deadline} s")
            relay(0.2)
        for p in procs.processes[1:]:
            p.join(timeout)
        while relay(0):
            pass
    finally:
        for p in procs.processes:
            if p.is_alive():
                p.kill()
                p.join()
    if rank0.exitcode != 0:
        codes = {topo.nodes[r]: p.exitcode for r, p in enumerate(procs.processes)}
        raise RuntimeError(f"distributed validation failed: exit codes by node {codes}\n{_traceback(procs.error_files[0])}")
    return ValidationReport.model_validate_json((Path(out_dir) / "report.json").read_text())


def _traceback(error_file: str) -> str:
    """What a spawned process raised (torch.multiprocessing writes it pickled), or '' if it wrote nothing."""
    path = Path(error_file)
    return str(pickle.loads(path.read_bytes())) if path.is_file() and path.stat().st_size else ""


def under_torchrun() -> bool:
    """Whether this process was started by torchrun (or any env:// launcher): RANK and WORLD_SIZE are set."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def run_from_env(
    scenario: Scenario, plan: Plan, rounds: int = 5, data: str | Path = "digits", checkpoint: str | Path | None = None,
    seed: int = 0, out_dir: str | Path = "validation", resume: bool = False, *, partition_scheme: Partition = "classes",
    alpha: float = 0.5, lr: float = DEFAULT_LR, faults: Sequence[Fault] = (), tune: Tune = "prompts",
    timeout: float = DEFAULT_TIMEOUT_S,
) -> str:
    """Run as one process of a torchrun launch (`validate`'s options; the rendezvous from RANK, WORLD_SIZE,
    MASTER_ADDR, MASTER_PORT); returns this process's node. Rank 0 writes the report in `out_dir`."""
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    topo = check_topology(scenario, plan, faults, world)
    config = run_config(rounds, data, checkpoint, seed, partition_scheme, alpha, lr, tune)
    _rank_main(rank, world, "env://", scenario, plan, config, faults, str(out_dir), resume, timeout,
               torch.get_num_threads(), None, None)
    return topo.nodes[rank]
