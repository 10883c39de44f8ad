"""Validator benchmark: a best-effort plan on a generated digits scenario, trained for real, measured against the cost model.

Pre-trains the tiny ViT backbone (the cloud), generates a scenario with the
tiny ViT's profile, caps the clients' memory so that chains need several
members, plans it with the best-effort baseline and runs `validate`. Then times
in-process HFSL (the split chains) against monolithic VPT training of the same
model on the same batches and host. Writes benchmarks/results/validator.md
and two plots beside it.

    python benchmarks/validator_bench.py [--rounds 8] [--clients 20] [--clusters 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from gaisnet_opt.generator import generate
from gaisnet_opt.host import host_description, package_versions
from gaisnet_opt.io import write_text
from gaisnet_opt.plan import Plan
from gaisnet_opt.plotting.figure_io import save_figure
from gaisnet_opt.plotting.validation import plot_accuracy, plot_member_seconds
from gaisnet_opt.profilers.config import DIGITS_VIT
from gaisnet_opt.profilers.prompted_vit import build_model
from gaisnet_opt.scenario import Scenario, Training
from gaisnet_opt.solvers.best_effort import solve_best_effort
from gaisnet_opt.validator import ValidationReport, validate
from gaisnet_opt.validator.data import batch_indices, load_digits, partition
from gaisnet_opt.validator.model import digits_profile
from gaisnet_opt.validator.pretrain import pretrain
from gaisnet_opt.validator.report_markdown import to_markdown
from gaisnet_opt.validator.split_chain import OPTIMIZERS, SplitChain

RESULTS = Path(__file__).parent / "results"


def capped(scenario: Scenario, client_memory_bytes: float) -> Scenario:
    """The scenario with every client's memory for the model capped (phones running other apps)."""
    data = scenario.model_dump()
    for node in data["nodes"]:
        if node["kind"] == "client":
            node["memory_bytes"] = min(node["memory_bytes"], client_memory_bytes)
    return Scenario.model_validate(data)


def throughput(scenario: Scenario, plan: Plan, steps: int, lr: float, checkpoint: Path, seed: int) -> list[dict[str, float | str]]:
    """Samples/s of each fine-tuning chain (in-process HFSL) and of the unsplit model on the same batches."""
    pool = load_digits().pool
    finetune = [c for c in plan.clusters if c.kind == "finetune"]
    local = partition(pool, {c.start: scenario.node[c.start].data for c in finetune}, "classes", seed)  # type: ignore[misc]
    batch, optimizer = scenario.training.batch_size, scenario.training.optimizer
    rows = []
    for cluster in finetune:
        data = local[cluster.start]
        batches = [(data.images[i], data.labels[i]) for i in
                   (batch_indices(len(data), batch, seed, cluster.start, s) for s in range(steps + 1))]
        whole, split = build_model(DIGITS_VIT, checkpoint, seed), build_model(DIGITS_VIT, checkpoint, seed)
        opt = OPTIMIZERS[optimizer]([p for p in whole.parameters() if p.requires_grad], lr)
        chain = SplitChain(split.units(), cluster.members)
        chain.new_round(optimizer, lr)

        def mono_step(images: torch.Tensor, labels: torch.Tensor, whole: nn.Module = whole,
                      opt: torch.optim.Optimizer = opt) -> None:
            loss = F.cross_entropy(whole(images), labels)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        mono_step(*batches[0])
        chain.train_step(*batches[0])  # the chain's counted pass: FLOPs and saved bytes, untimed
        mono, hfsl = [], []
        for images, labels in batches[1:]:  # interleaved, so both see the same load on a shared host
            t = time.perf_counter()
            mono_step(images, labels)
            mono.append(time.perf_counter() - t)
            t = time.perf_counter()
            chain.train_step(images, labels)
            hfsl.append(time.perf_counter() - t)
        rows.append({"chain": " → ".join(cluster.chain), "split": ", ".join(f"{m.first}..{m.last}" for m in cluster.members),
                     "mono": batch / statistics.median(mono), "hfsl": batch / statistics.median(hfsl)})
    return rows


def within(report: ValidationReport, field: str, tolerance: float) -> tuple[int, int]:
    """Members whose measured `field` is within `tolerance` of the prediction, and members compared."""
    pairs = [(getattr(m, field), getattr(m, f"{field}_pred")) for m in report.members
             if getattr(m, field) is not None and getattr(m, f"{field}_pred") > 0]
    return sum(abs(a - p) <= tolerance * p for a, p in pairs), len(pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--clusters", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pretrain-epochs", type=int, default=40)
    parser.add_argument("--client-memory-mb", type=float, default=2.5)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    command = "python " + " ".join(["benchmarks/validator_bench.py", *sys.argv[1:]])

    work = Path(tempfile.mkdtemp(prefix="validator-bench-"))
    try:
        t0 = time.perf_counter()
        ckpt = work / "backbone.safetensors"
        pre_loss, pre_acc = pretrain(ckpt, epochs=args.pretrain_epochs, seed=0)
        pretrain_s = time.perf_counter() - t0

        training = Training(batch_size=32, local_iters=10, optimizer="adam")
        scenario = capped(generate(args.clients, args.seed, profile=digits_profile(), samples=(80, 200),
                                   classes_per_source=(4, 8), training=training),
                          args.client_memory_mb * 1e6)
        result = solve_best_effort(scenario, clusters=args.clusters)
        if result.plan is None or result.status != "feasible":
            raise SystemExit(f"best-effort plan not feasible: {result.reason}")
        t0 = time.perf_counter()
        report = validate(scenario, result.plan, rounds=args.rounds, checkpoint=ckpt, seed=args.seed,
                          out_dir=work / "run", lr=args.lr)
        validate_s = time.perf_counter() - t0
        speed = throughput(scenario, result.plan, 40, args.lr, ckpt, args.seed)

        RESULTS.mkdir(parents=True, exist_ok=True)
        save_figure(plot_accuracy(report), RESULTS / "validator_accuracy.png")
        save_figure(plot_member_seconds(report), RESULTS / "validator_members.png")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    secs_ok = [within(report, f, 0.20) for f in ("fwd_s", "bwd_s")]
    mem_ok = within(report, "memory_bytes", 0.10)
    lines = [
        "# Validator benchmark", "",
        f"Command: `{command}`", "",
        f"- host: {host_description()}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in package_versions(("torch", "timm", "numpy", "scikit-learn")).items()),
        f"- pre-training (cloud): {args.pretrain_epochs} epochs on the digits source split, {pretrain_s:.1f} s, "
        f"last-epoch loss {pre_loss:.3f}, accuracy {pre_acc:.3f}",
        f"- scenario: `generate({args.clients}, {args.seed}, profile={scenario.profile.name})`, batch 32, 10 local "
        f"iterations, Adam lr {args.lr}, client memory capped at {args.client_memory_mb} MB so chains need several members; "
        f"plan: `solve_best_effort(scenario, clusters={args.clusters})` ({len(result.plan.clusters)} clusters)",
        f"- validate: {args.rounds} rounds in {validate_s:.1f} s", "",
        "## Goals", "",
        "| goal | result |", "| --- | --- |",
        f"| bytes per hop (smashed, labels, gradients) = cost model | "
        f"{sum(h.fwd_bytes == h.fwd_bytes_pred and h.label_bytes == h.label_bytes_pred and h.bwd_bytes == h.bwd_bytes_pred for h in report.hops)}"
        f" of {len(report.hops)} hops exact |",
        f"| FLOPs per member within 1 % | {within(report, 'fwd_flops', 0.01)[0]} of {within(report, 'fwd_flops', 0.01)[1]} forward, "
        f"{within(report, 'bwd_flops', 0.01)[0]} of {within(report, 'bwd_flops', 0.01)[1]} backward |",
        f"| compute seconds per member within 20 % (a fit of this run's passes) | {secs_ok[0][0]} of {secs_ok[0][1]} forward, "
        f"{secs_ok[1][0]} of {secs_ok[1][1]} backward |",
        f"| memory per member within 10 % | {mem_ok[0]} of {mem_ok[1]} |",
        "| HFSL throughput ≥ 0.9 × monolithic | " + "; ".join(f"{r['hfsl'] / r['mono']:.2f}×" for r in speed) + " |",
        "", "Notes: FLOPs, bytes and memory are exact properties of the run and match the cost model. Seconds are "
        "a fit of this run's own passes (seconds per pass = o + FLOPs / F, backward at η·F; in the report below; o "
        "and η enter the cost model as every node's `pass_overhead_s` and `bwd_efficiency`), not a prediction: "
        "`testbed_bench.py` predicts with a calibration measured beforehand. A member holding only `embed` (0.26 "
        "MFLOP per pass) spends almost all its time in o. A backward pass is timed with the optimizer's step after "
        f"it (also apart, column `step s`). This host is shared (1-min load average {load:.2f} at start), so seconds "
        "and throughput vary from run to run.",
        "", "## Throughput: in-process HFSL against monolithic VPT (same batches, same host, median of 40 steps)", "",
        "| chain | split (units) | monolithic samples/s | HFSL samples/s | ratio |", "| --- | --- | ---: | ---: | ---: |",
        *(f"| {r['chain']} | {r['split']} | {r['mono']:.0f} | {r['hfsl']:.0f} | {r['hfsl'] / r['mono']:.2f} |" for r in speed),
        "", "Plots: `validator_accuracy.png` (held-out accuracy per round), `validator_members.png` "
        "(predicted against measured compute seconds per member).", "",
        "## The validator's report", "",
        to_markdown(report).split("\n", 2)[2],
    ]
    write_text(RESULTS / "validator.md", "\n".join(lines))
    print("\n".join(lines[:20]))


if __name__ == "__main__":
    main()
