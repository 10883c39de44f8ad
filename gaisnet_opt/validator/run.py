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
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from gaisnet_opt.checker import check
from gaisnet_opt.errors import InputError
from gaisnet_opt.plan import Plan
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.validator.data import Partition, Split, load_data, partition
from gaisnet_opt.validator.engine import HopMeter, MemberMeter, SplitChain
from gaisnet_opt.validator.fedavg import ClusterJob, Fault, evaluate, load_tunable, train_round, tunable_state
from gaisnet_opt.validator.inference import InferenceChain
from gaisnet_opt.validator.model import build_for, config_of
from gaisnet_opt.validator.report import InferenceRecord, RoundRecord, RunConfig, ValidationReport, build_report, write_report

CHECKPOINT = "checkpoint.pt"
DEFAULT_LR = 1e-2

ProgressFn = Callable[[RoundRecord, int], None]
"""Called after every round with its record and the total number of rounds."""


def _fingerprint(scenario: Scenario, plan: Plan, config: RunConfig, faults: Sequence[Fault]) -> str:
    body = json.dumps([scenario.model_dump(mode="json"), plan.model_dump(mode="json"),
                       config.model_dump(mode="json", exclude={"rounds"}), [asdict(f) for f in faults]], sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def _save_checkpoint(path: Path, payload: dict[str, object]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _restore_meters(chains: Sequence[SplitChain], saved: list[dict[str, list[dict[str, object]]]]) -> None:
    for chain, meters in zip(chains, saved):
        for w, m in zip(chain.workers, meters["members"]):
            w.meter = MemberMeter(**m)  # type: ignore[arg-type]
        chain.hops = [HopMeter(**h) for h in meters["hops"]]  # type: ignore[arg-type]
        if isinstance(chain, InferenceChain) and meters["return"]:
            chain.return_hop = HopMeter(**meters["return"][0])  # type: ignore[arg-type]


def _meters(chain: SplitChain) -> dict[str, list[dict[str, object]]]:
    ret = chain.return_hop if isinstance(chain, InferenceChain) else None
    return {"members": [asdict(w.meter) for w in chain.workers], "hops": [asdict(h) for h in chain.hops],
            "return": [asdict(ret)] if ret is not None else []}


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
) -> ValidationReport:
    """Train the plan's fine-tuning clusters for `rounds` rounds, serve its inference requests each round, and report.

    Refused with an InputError (nothing written): a plan the checker rejects, a
    scenario profile that does not describe the model trained, unreadable data or
    checkpoint, a checkpoint of another run to resume.
    """
    violations = check(scenario, plan)
    if violations:
        raise InputError("plan", [(v.path, f"{v.message} (rule {v.rule})") for v in violations])
    if rounds < 1:
        raise InputError("validate", [("rounds", f"{rounds}: at least one round is needed")])
    config = RunConfig(rounds=rounds, data=str(data), checkpoint=None if checkpoint is None else str(checkpoint),
                       seed=seed, partition=partition_scheme, alpha=alpha, lr=lr)
    cfg = config_of(scenario.profile)
    dataset = load_data(data, cfg)
    model = build_for(scenario.profile, checkpoint, seed)
    clients = frozenset(n.id for n in scenario.clients)
    units = model.units()

    finetune = [(i, c) for i, c in enumerate(plan.clusters) if c.kind == "finetune"]
    sources = {c.start: scenario.node[c.start].data for _, c in finetune}
    local = partition(dataset.pool, {k: v for k, v in sources.items() if v is not None}, partition_scheme, seed, alpha)
    jobs = [ClusterJob(i, SplitChain(units, c.members, clients), local[c.start], c.start) for i, c in finetune]
    serving = [(i, c.start, InferenceChain(units, c.members, clients)) for i, c in enumerate(plan.clusters) if c.kind == "inference"]
    chains: dict[int, SplitChain] = {j.index: j.chain for j in jobs} | {i: ch for i, _, ch in serving}

    out = Path(out_dir)
    ckpt = out / CHECKPOINT
    fingerprint = _fingerprint(scenario, plan, config, faults)
    records: list[RoundRecord] = []
    global_state = tunable_state(model)
    done = 0
    if resume and ckpt.is_file():
        try:
            saved = torch.load(ckpt, map_location="cpu", weights_only=True)
        except Exception as exc:  # any unreadable file is bad input, whatever the loader raised
            raise InputError(str(ckpt), [("checkpoint", f"cannot read: {exc}")]) from None
        if saved.get("fingerprint") != fingerprint:
            raise InputError(str(ckpt), [("fingerprint", "the checkpoint is of another run (scenario, plan, data, checkpoint, seed or options differ)")])
        global_state, done = saved["state"], saved["round"]
        records = [RoundRecord.model_validate(r) for r in saved["records"]]
        _restore_meters(list(chains.values()), saved["meters"])
        torch.set_rng_state(saved["rng"])
        load_tunable(model, global_state)
    out.mkdir(parents=True, exist_ok=True)
    if not records:
        loss, acc = evaluate(model, dataset.test)
        records.append(RoundRecord(round=0, test_loss=loss, test_accuracy=acc))

    training = scenario.training
    for r in range(done + 1, rounds + 1):
        t0 = time.perf_counter()
        outcome = train_round(model, jobs, global_state, round_no=r, iterations=training.local_iters,
                              batch=training.batch_size, optimizer=training.optimizer, lr=lr, seed=seed, faults=faults)
        global_state = outcome.state
        served = [_serve(i, start, chain, dataset.test, seed, r, scenario) for i, start, chain in serving]
        loss, acc = evaluate(model, dataset.test)
        records.append(RoundRecord(round=r, train_loss=outcome.train_loss, test_loss=loss, test_accuracy=acc,
                                   failures=list(outcome.failures), inference=served, seconds=time.perf_counter() - t0))
        _save_checkpoint(ckpt, {"fingerprint": fingerprint, "round": r, "state": global_state,
                                "records": [x.model_dump(mode="json") for x in records],
                                "meters": [_meters(ch) for ch in chains.values()], "rng": torch.get_rng_state()})
        if progress is not None:
            progress(records[-1], rounds)

    report = build_report(scenario, plan, config, records, chains)
    write_report(report, out)
    return report


def _serve(index: int, start: str, chain: InferenceChain, test: Split, seed: int, round_no: int, scenario: Scenario) -> InferenceRecord:
    """The start point's request this round: `samples` held-out images, classified along the chain."""
    request = scenario.node[start].request
    assert request is not None  # the checker guarantees a requesting start point
    chain.new_round(None, deliver=not request.cached)
    idx = np.random.default_rng([seed, index, round_no]).choice(len(test), size=request.samples, replace=request.samples > len(test))
    served = chain.serve(test.images[idx], scenario.training.batch_size)
    return InferenceRecord(cluster=index, start=start, samples=request.samples,
                           accuracy=float((served.predictions == test.labels[idx]).float().mean()))
