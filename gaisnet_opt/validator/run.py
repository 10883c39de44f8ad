"""`validate`: execute a plan with real HFSL training and SL inference, round by round, resumable.

A training checkpoint is written after every round (the aggregated tunable
modules, the records so far, the meters and torch's RNG state). Batches are a
stateless function of (seed, client, step), so `resume=True` continues a
stopped run and ends exactly where an uninterrupted run ends. A checkpoint
records a fingerprint of everything that shapes the result except the number
of rounds; resuming with different inputs is refused.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import torch

from gaisnet_opt.checker import check
from gaisnet_opt.errors import InputError
from gaisnet_opt.io import atomic_write
from gaisnet_opt.plan import Plan
from gaisnet_opt.profilers.prompted_vit import PromptedViT
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.validator.data import Dataset, Partition, Split, load_data, partition
from gaisnet_opt.validator.engine import LOCAL, HopMeter, Link, MemberMeter, SplitChain
from gaisnet_opt.validator.fedavg import (
    ClusterJob,
    Fault,
    RoundOutcome,
    State,
    evaluate,
    load_tunable,
    train_round,
    tunable_state,
)
from gaisnet_opt.validator.inference import InferenceChain
from gaisnet_opt.validator.model import Tune, build_for, config_of
from gaisnet_opt.validator.report import (
    InferenceRecord,
    RoundRecord,
    RunConfig,
    ValidationReport,
    build_report,
    write_report,
)

CHECKPOINT = "checkpoint.pt"
DEFAULT_LR = 1e-2
DEFAULT_TIMEOUT_S = 60.0

EngineName = Literal["inprocess", "distributed"]

ProgressFn = Callable[[RoundRecord, int], None]
"""Called after every round with its record and the total number of rounds."""


def _fingerprint(scenario: Scenario, plan: Plan, config: RunConfig, faults: Sequence[Fault]) -> str:
    body = json.dumps([scenario.model_dump(mode="json"), plan.model_dump(mode="json"),
                       config.model_dump(mode="json", exclude={"rounds"}), [asdict(f) for f in faults]], sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def _save_checkpoint(path: Path, payload: dict[str, object]) -> None:
    atomic_write(path, lambda tmp: torch.save(payload, tmp))


def restore_meters(chains: Sequence[SplitChain], saved: list[dict[str, list[dict[str, object]]]]) -> None:
    """Meters from `meters_of` back into the chains."""
    for chain, meters in zip(chains, saved):
        for w, m in zip(chain.workers, meters["members"]):
            w.meter = MemberMeter(**m)  # type: ignore[arg-type]
        chain.hops = [HopMeter(**h) for h in meters["hops"]]  # type: ignore[arg-type]
        if isinstance(chain, InferenceChain) and meters["return"]:
            chain.return_hop = HopMeter(**meters["return"][0])  # type: ignore[arg-type]


def meters_of(chain: SplitChain) -> dict[str, list[dict[str, object]]]:
    """A chain's meters as plain data (for the checkpoint)."""
    ret = chain.return_hop if isinstance(chain, InferenceChain) else None
    return {"members": [asdict(w.meter) for w in chain.workers], "hops": [asdict(h) for h in chain.hops],
            "return": [asdict(ret)] if ret is not None else []}


@dataclass
class Setup:
    """What one process builds for a run: a distributed run builds it in every process, each running its own members."""

    scenario: Scenario
    plan: Plan
    config: RunConfig
    faults: tuple[Fault, ...]
    fingerprint: str
    dataset: Dataset
    model: PromptedViT
    jobs: list[ClusterJob]
    serving: list[tuple[int, str, InferenceChain]]
    """(cluster index, start point, chain) of every inference cluster"""

    @property
    def chains(self) -> dict[int, SplitChain]:
        """Every cluster's chain by cluster index."""
        return {j.index: j.chain for j in self.jobs} | {i: ch for i, _, ch in self.serving}


def prepare(
    scenario: Scenario, plan: Plan, config: RunConfig, faults: Sequence[Fault] = (), *,
    link_for: Callable[[int], Link] = lambda _: LOCAL, holds: Callable[[str], bool] = lambda _: True,
) -> Setup:
    """Check the inputs and build the model, the chains and the local data.

    `link_for(i)` is cluster i's link; `holds(node)` says whether this process
    holds that start point's data (its partition is made nowhere else).
    Refused with an InputError: a plan the checker rejects, a scenario profile
    that does not describe the model trained, unreadable data or checkpoint.
    """
    violations = check(scenario, plan)
    if violations:
        raise InputError("plan", [(v.path, f"{v.message} (rule {v.rule})") for v in violations])
    if config.rounds < 1:
        raise InputError("validate", [("rounds", f"{config.rounds}: at least one round is needed")])
    cfg = config_of(scenario.profile)
    dataset = load_data(config.data, cfg)
    model = build_for(scenario.profile, config.checkpoint, config.seed, config.tune)  # type: ignore[arg-type]
    clients = frozenset(n.id for n in scenario.clients)
    units = model.units()

    finetune = [(i, c) for i, c in enumerate(plan.clusters) if c.kind == "finetune"]
    sources = {c.start: scenario.node[c.start].data for _, c in finetune if holds(c.start)}
    local = partition(dataset.pool, {k: v for k, v in sources.items() if v is not None},
                      config.partition, config.seed, config.alpha)  # type: ignore[arg-type]
    jobs = [ClusterJob(i, SplitChain(units, c.members, clients, link_for(i)), local.get(c.start), c.start) for i, c in finetune]
    serving = [(i, c.start, InferenceChain(units, c.members, clients, link_for(i)))
               for i, c in enumerate(plan.clusters) if c.kind == "inference"]
    return Setup(scenario, plan, config, tuple(faults), _fingerprint(scenario, plan, config, faults), dataset, model, jobs, serving)


class Engine(Protocol):
    """How a round's training and inference run: in this process, or across processes."""

    def start(self, setup: Setup, done: int, state: State) -> None:
        """Before the first round to run (`done` rounds already in the checkpoint, `state` the aggregated modules)."""
        ...

    def train(self, setup: Setup, round_no: int, state: State) -> RoundOutcome:
        """Every cluster's local training and the FedAvg; the model holds the aggregated modules after it."""
        ...

    def serve(self, setup: Setup, round_no: int) -> list[InferenceRecord]:
        """Every inference request of the round; afterwards `setup`'s chains hold every member's meters."""
        ...


class InProcess:
    """The default engine: every member in this process, clusters one after another."""

    def start(self, setup: Setup, done: int, state: State) -> None:
        """Nothing to tell anyone."""

    def train(self, setup: Setup, round_no: int, state: State) -> RoundOutcome:
        t = setup.scenario.training
        return train_round(setup.model, setup.jobs, state, round_no=round_no, iterations=t.local_iters, batch=t.batch_size,
                           optimizer=t.optimizer, lr=setup.config.lr, seed=setup.config.seed, faults=setup.faults)

    def serve(self, setup: Setup, round_no: int) -> list[InferenceRecord]:
        return [record for i, start, chain in setup.serving
                if (record := serve_request(setup, i, start, chain, round_no)) is not None]


def read_checkpoint(out_dir: str | Path, fingerprint: str) -> dict[str, object] | None:
    """The checkpoint in `out_dir` if there is one (None otherwise); an InputError if unreadable or of another run."""
    ckpt = Path(out_dir) / CHECKPOINT
    if not ckpt.is_file():
        return None
    try:
        saved = torch.load(ckpt, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unreadable file is bad input, whatever the loader raised
        raise InputError(str(ckpt), [("checkpoint", f"cannot read: {exc}")]) from None
    if saved.get("fingerprint") != fingerprint:
        raise InputError(str(ckpt), [("fingerprint", "the checkpoint is of another run (scenario, plan, data, checkpoint, seed or options differ)")])
    return saved  # type: ignore[no-any-return]


def run_config(rounds: int, data: str | Path, checkpoint: str | Path | None, seed: int, partition_scheme: Partition,
               alpha: float, lr: float, tune: Tune) -> RunConfig:
    """The run's inputs besides scenario, plan and faults, as recorded in the report and fingerprinted."""
    return RunConfig(rounds=rounds, data=str(data), checkpoint=None if checkpoint is None else str(checkpoint),
                     seed=seed, partition=partition_scheme, alpha=alpha, lr=lr, tune=tune)


def validate(
    scenario: Scenario,
    plan: Plan,
    rounds: int = 5,
    data: str | Path = "digits",
    checkpoint: str | Path | None = None,
    seed: int = 0,
    out_dir: str | Path = "validation",
    resume: bool = False,
    *,
    partition_scheme: Partition = "classes",
    alpha: float = 0.5,
    lr: float = DEFAULT_LR,
    faults: Sequence[Fault] = (),
    progress: ProgressFn | None = None,
    tune: Tune = "prompts",
    engine: EngineName = "inprocess",
    nprocs: int | None = None,
    master_addr: str = "127.0.0.1",
    master_port: int = 0,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> ValidationReport:
    """Train the plan's fine-tuning clusters for `rounds` rounds, serve its inference requests each round, and report.

    `engine="distributed"` runs every chain member and the aggregating edge
    server as its own torch.distributed process (`validator.distributed`):
    `nprocs` (default: as many as the plan needs) are spawned here, meeting at
    `master_addr:master_port` (port 0: a free one), and a member silent for
    `timeout` seconds is declared lost.

    Refused with an InputError (nothing written): a plan the checker rejects, a
    scenario profile that does not describe the model trained, unreadable data or
    checkpoint, a checkpoint of another run to resume, a process count the plan does not need.
    """
    config = run_config(rounds, data, checkpoint, seed, partition_scheme, alpha, lr, tune)
    if engine == "distributed":
        from gaisnet_opt.validator.distributed import launch

        return launch(scenario, plan, config, faults, out_dir=out_dir, resume=resume, nprocs=nprocs,
                      master_addr=master_addr, master_port=master_port, timeout=timeout, progress=progress)
    setup = prepare(scenario, plan, config, faults)
    return run_rounds(setup, InProcess(), out_dir, resume, progress)


def run_rounds(setup: Setup, engine: Engine, out_dir: str | Path, resume: bool, progress: ProgressFn | None = None) -> ValidationReport:
    """Round by round from the checkpoint (if resuming) to `config.rounds`: train, serve, evaluate, checkpoint; then report."""
    out = Path(out_dir)
    model, chains = setup.model, setup.chains
    records: list[RoundRecord] = []
    global_state = tunable_state(model)
    done = 0
    saved = read_checkpoint(out, setup.fingerprint) if resume else None
    if saved is not None:
        global_state, done = saved["state"], saved["round"]  # type: ignore[assignment]
        records = [RoundRecord.model_validate(r) for r in saved["records"]]  # type: ignore[attr-defined]
        restore_meters(list(chains.values()), saved["meters"])  # type: ignore[arg-type]
        torch.set_rng_state(saved["rng"])  # type: ignore[arg-type]
        load_tunable(model, global_state)
    engine.start(setup, done, global_state)
    out.mkdir(parents=True, exist_ok=True)
    test = setup.dataset.test
    if not records:
        loss, acc = evaluate(model, test)
        records.append(RoundRecord(round=0, test_loss=loss, test_accuracy=acc))

    rounds = setup.config.rounds
    for r in range(done + 1, rounds + 1):
        t0 = time.perf_counter()
        outcome = engine.train(setup, r, global_state)
        global_state = outcome.state
        served = engine.serve(setup, r)
        loss, acc = evaluate(model, test)
        records.append(RoundRecord(round=r, train_loss=outcome.train_loss, test_loss=loss, test_accuracy=acc,
                                   failures=list(outcome.failures), inference=served, seconds=time.perf_counter() - t0))
        _save_checkpoint(out / CHECKPOINT, {"fingerprint": setup.fingerprint, "round": r, "state": global_state,
                                            "records": [x.model_dump(mode="json") for x in records],
                                            "meters": [meters_of(ch) for ch in chains.values()], "rng": torch.get_rng_state()})
        if progress is not None:
            progress(records[-1], rounds)

    report = build_report(setup.scenario, setup.plan, setup.config, records, chains)
    write_report(report, out)
    return report


def serve_request(setup: Setup, index: int, start: str, chain: InferenceChain, round_no: int) -> InferenceRecord | None:
    """The start point's request this round: `samples` held-out images, classified along the chain.

    Every process with a member runs it; the record is made where the start point is (None elsewhere).
    """
    request = setup.scenario.node[start].request
    assert request is not None  # the checker guarantees a requesting start point
    chain.new_round(None, deliver=not request.cached)
    test: Split = setup.dataset.test
    here = chain.link.here(0)
    idx = np.random.default_rng([setup.config.seed, index, round_no]).choice(
        len(test), size=request.samples, replace=request.samples > len(test))
    served = chain.serve(test.images[idx] if here else None, setup.scenario.training.batch_size, request.samples)
    if served is None:
        return None
    return InferenceRecord(cluster=index, start=start, samples=request.samples,
                           accuracy=float((served.predictions == test.labels[idx]).float().mean()))
