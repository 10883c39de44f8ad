"""The round loop both engines run: train, serve, evaluate, checkpoint, round by round; then the report.

An engine (`InProcess`, or the distributed one in each process) says how a
round's training and inference run; the loop around them is this one, so a
resumed run, a distributed run and an in-process run go through the same
steps in the same order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from gaisnet_opt.validator.checkpoint import read_checkpoint, save_checkpoint
from gaisnet_opt.validator.data import Split
from gaisnet_opt.validator.evaluation import evaluate
from gaisnet_opt.validator.fedavg import Lost, RoundOutcome, State, gone_clusters, load_tunable, tunable_state
from gaisnet_opt.validator.inference import InferenceChain
from gaisnet_opt.validator.measured_turn import cluster_latencies
from gaisnet_opt.validator.meters import meter_data, restore
from gaisnet_opt.validator.records import InferenceRecord, RoundRecord, ValidationReport
from gaisnet_opt.validator.report import build_report
from gaisnet_opt.validator.report_markdown import write_report
from gaisnet_opt.validator.run_setup import Setup

ProgressFn = Callable[[RoundRecord, int], None]
"""Called after every round with its record and the total number of rounds."""

ServeOutcome = tuple[list[InferenceRecord], list[str]]
"""The round's served requests, and why the others were not served."""


class Engine(Protocol):
    """How a round's training and inference run: in this process, or across processes."""

    def start(self, setup: Setup, done: int, state: State, lost: Lost) -> None:
        """Before the first round to run (`done` rounds already in the checkpoint, `state` the aggregated modules,
        `lost` the members lost so far)."""
        ...

    def train(self, setup: Setup, round_no: int, state: State, lost: Lost) -> RoundOutcome:
        """Every cluster's local training and the FedAvg."""
        ...

    def serve(self, setup: Setup, round_no: int, state: State, lost: Lost) -> ServeOutcome:
        """Every inference request of the round with the aggregated modules `state` (a cached chain with the ones it
        holds); afterwards `setup`'s chains hold every member's meters."""
        ...


def gone_serving(setup: Setup, lost: Lost) -> dict[int, str]:
    """The inference clusters a lost member keeps from serving, and why."""
    return gone_clusters({i: [w.node for w in chain.workers] for i, _, chain in setup.serving}, lost)


def run_rounds(setup: Setup, engine: Engine, out_dir: str | Path, resume: bool, progress: ProgressFn | None = None) -> ValidationReport:
    """Round by round from the checkpoint (if resuming) to `config.rounds`: train, serve, evaluate, checkpoint; then report."""
    out = Path(out_dir)
    model, chains = setup.model, setup.chains
    records: list[RoundRecord] = []
    global_state = tunable_state(model)
    done, lost = 0, Lost()
    saved = read_checkpoint(out, setup.fingerprint) if resume else None
    if saved is not None:
        global_state, done, lost = saved["state"], saved["round"], saved["lost"]  # type: ignore[assignment]
        records = [RoundRecord.model_validate(r) for r in saved["records"]]  # type: ignore[attr-defined]
        for chain, data in zip(chains.values(), saved["meters"]):  # type: ignore[call-overload]
            restore(chain.meters(), data)
        torch.set_rng_state(saved["rng"])  # type: ignore[arg-type]
        load_tunable(model, global_state)
    engine.start(setup, done, global_state, lost)
    out.mkdir(parents=True, exist_ok=True)
    test = setup.dataset.test
    if not records:
        loss, acc = evaluate(model, test)
        records.append(RoundRecord(round=0, test_loss=loss, test_accuracy=acc))

    rounds = setup.config.rounds
    for r in range(done + 1, rounds + 1):
        t0 = time.perf_counter()
        outcome = engine.train(setup, r, global_state, lost)
        global_state, lost = outcome.state, outcome.lost
        served, unserved = engine.serve(setup, r, global_state, lost)
        load_tunable(model, global_state)
        loss, acc = evaluate(model, test)
        latencies = cluster_latencies(setup.plan, chains)
        records.append(RoundRecord(round=r, train_loss=outcome.train_loss, test_loss=loss, test_accuracy=acc,
                                   failures=[*outcome.failures, *unserved], inference=served,
                                   seconds=time.perf_counter() - t0, cluster_latency_s=latencies,
                                   latency_s=max(latencies.values()) if latencies else None))
        save_checkpoint(out, {"fingerprint": setup.fingerprint, "round": r, "state": global_state, "lost": lost,
                              "records": [x.model_dump(mode="json") for x in records],
                              "meters": [meter_data(ch.meters()) for ch in chains.values()], "rng": torch.get_rng_state()})
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
