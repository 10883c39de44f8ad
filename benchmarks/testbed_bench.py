"""Testbed benchmark: plans of digits scenarios trained on the emulated network, round latency measured against predicted.

First the host is calibrated in a process of its own (`gaisnet-opt calibrate`) and the calibration saved; every run
afterwards is predicted with it. Two digits scenarios are generated with the clients' memory capped so chains need
2-4 members (one whose edge server may join chains, one whose edge server only delivers and aggregates), planned by
the greedy baseline, local search and CP-SAT, plus a plan with the edge server in the middle of a chain; every plan
serves its scenario's inference requests. Each plan runs on the distributed engine over the emulated network (needs
root and iproute2), links at their rates divided by the time scale. Writes benchmarks/results/testbed.md and
testbed_timeline.png (one round predicted beside measured).

    python benchmarks/testbed_bench.py [--time-scales 4 8] [--rounds 2] [--iters 4]
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from gaisnet_opt.cost import resolve_server
from gaisnet_opt.generator import generate
from gaisnet_opt.host import host_description, package_versions
from gaisnet_opt.io import load, write_text
from gaisnet_opt.params import SolveParams
from gaisnet_opt.plan import Plan
from gaisnet_opt.plotting.figure_io import save_figure
from gaisnet_opt.plotting.validation import plot_timelines
from gaisnet_opt.result import SolveResult
from gaisnet_opt.scenario import Scenario, Training
from gaisnet_opt.solvers.best_effort import solve_best_effort
from gaisnet_opt.solvers.solve import solve
from gaisnet_opt.solvers.split import solve_split
from gaisnet_opt.validator import ValidationReport, validate
from gaisnet_opt.validator.calibration import HostCalibration
from gaisnet_opt.validator.model import digits_profile
from gaisnet_opt.validator.network.namespaces import available
from gaisnet_opt.validator.report_markdown import error, g

sys.path.insert(0, str(Path(__file__).parent))
from validator_bench import capped

RESULTS = Path(__file__).parent / "results"
HOP_GOAL, LATENCY_GOAL, RANK_GAP = 0.10, 0.15, 0.20
SMALL_BYTES = 10_000
"""a message under this is a few packets: it takes the host's fixed latency and a wake-up, which no rate prices"""
OPTIONS = (("--time-scales", float, [4.0, 8.0], "+"), ("--rounds", int, 2, None), ("--iters", int, 4, None),
           ("--threads", int, 1, None), ("--timeout", float, 120.0, None))
"""every plan runs at each time scale (link rates divided by it); rounds (the last is timed); local iterations;
torch threads per process; seconds a process waits for one message"""
SCENARIOS = {"A": (16, 2, 2), "B": (14, 4, 0)}
"""name -> (clients, seed, edge server slots): A's edge server may join chains, B's only delivers and aggregates"""


@dataclass
class Run:
    """One plan on the testbed."""

    name: str
    scenario: str
    plan: Plan
    report: ValidationReport
    iters: int
    """local iterations: a fine-tuning cluster's passes per round"""


def scenario_of(clients: int, seed: int, slots: int, iters: int) -> Scenario:
    """A digits scenario with the clients' memory capped at 2.5 MB, as `validator_bench` builds it."""
    training = Training(batch_size=32, local_iters=iters, optimizer="adam")
    return capped(generate(clients, seed, profile=digits_profile(), samples=(80, 200), classes_per_source=(4, 8),
                           training=training, edge_slots=slots), 2.5e6)


def _feasible(result: SolveResult, what: str) -> Plan:
    if result.plan is None or result.status not in ("optimal", "feasible"):
        raise SystemExit(f"{what}: no plan ({result.status}: {result.reason})")
    return result.plan


def edge_mid_chain(scenario: Scenario, base: Plan) -> Plan:
    """The largest data source's cluster through the edge server to a client, split by torchgpipe's balance (which
    uses every member), beside `base`'s inference clusters."""
    taken = {n for c in base.clusters if c.kind == "inference" for n in c.chain}
    start = max((n for n in scenario.data_sources if n.id not in taken and n.request is None), key=lambda n: n.data.samples)  # type: ignore[union-attr]
    server = resolve_server(scenario, Plan(clusters=(base.clusters[0],)).clusters[0]) or scenario.edges[0].id
    for end in (n.id for n in scenario.clients if n.id not in taken | {start.id}):
        result = solve_split(scenario, [start.id, server, end], "finetune", method="balance")
        if result.plan is not None and result.status == "feasible":
            return Plan(clusters=(*[c for c in base.clusters if c.kind == "inference"], *result.plan.clusters))
    raise SystemExit("no client ends a chain through the edge server")


def plans(iters: int) -> list[tuple[str, str, Scenario, Plan]]:
    """(plan name, scenario name, scenario, plan) of every plan benchmarked."""
    out = []
    for key, (clients, seed, slots) in SCENARIOS.items():
        s = scenario_of(clients, seed, slots, iters)
        results = {"greedy": solve_best_effort(s, clusters=2), "local": solve(s, method="local", params=SolveParams(time_limit_s=5)),
                   "cpsat": solve(s, method="cpsat", params=SolveParams(time_limit_s=30))}
        out += [(f"{key}-{name}", key, s, _feasible(result, f"{key} {name}")) for name, result in results.items()]
        if slots:
            out.append((f"{key}-edge-mid-chain", key, s, edge_mid_chain(s, out[-1][3])))
    return out


def calibrate(path: Path, threads: int) -> HostCalibration:
    """`gaisnet-opt calibrate` in a process of its own, saved to `path` before any run."""
    cmd = [sys.executable, "-c", "from gaisnet_opt.cli import main; main()", "calibrate", "-o", str(path),
           "--batch", "32", "--threads", str(threads), "--steps", "5"]
    subprocess.run(cmd, check=True, env=os.environ | {"PYTHONPATH": str(Path(__file__).parents[1])})
    return load(HostCalibration, path)


def _chain(plan: Plan, i: int) -> str:
    return " → ".join(f"{m.node}[{m.first}..{m.last}]" for m in plan.clusters[i].members)


def _within(measured: float | None, predicted: float, goal: float) -> bool:
    return measured is not None and abs(measured - predicted) <= goal * predicted


def hop_lines(runs: list[Run]) -> tuple[list[str], str]:
    """The hop table (every transfer direction of every hop), and how many are within the goal, small messages apart."""
    lines = ["| plan | cluster | hop | direction | bytes per pass | measured s | predicted s | error |",
             "| --- | ---: | --- | --- | ---: | ---: | ---: | ---: |"]
    counts = {True: [0, 0], False: [0, 0]}  # small -> [within, of]
    for run in runs:
        for h in run.report.hops:
            for direction, nbytes, meas, pred in (("forward", h.fwd_bytes + h.label_bytes, h.fwd_s, h.fwd_s_pred),
                                                  ("backward", h.bwd_bytes, h.bwd_s, h.bwd_s_pred)):
                if nbytes:
                    tally = counts[nbytes < SMALL_BYTES]
                    tally[0] += _within(meas, pred, HOP_GOAL)
                    tally[1] += 1
                    lines.append(f"| {run.name} | {h.cluster} | {h.src} → {h.dst} ({h.role}) | {direction} | {nbytes:g} "
                                 f"| {g(meas)} | {g(pred)} | {error(meas, pred)} |")
    (small_ok, small), (large_ok, large) = counts[True], counts[False]
    return lines, (f"{small_ok + large_ok} of {small + large} transfer directions: {large_ok} of the {large} of "
                   f"{SMALL_BYTES // 1000} kB or more, {small_ok} of the {small} smaller (inference results home)")


def cluster_lines(runs: list[Run]) -> tuple[list[str], str]:
    """Per cluster: chain, delivery, compute, upload and latency measured / predicted; how many are within the goal."""
    lines = ["| plan | cluster | kind | chain | delivery s meas / pred | compute s per pass meas / pred | upload s meas / pred "
             "| latency s meas / pred | error |", "| --- | ---: | --- | --- | --- | --- | --- | --- | ---: |"]
    counts = {"finetune": [0, 0], "inference": [0, 0]}
    for run in runs:
        for c in run.report.clusters:
            tally = counts[c.kind]
            tally[0] += _within(c.latency_s, c.latency_s_pred, LATENCY_GOAL)
            tally[1] += 1
            lines.append(f"| {run.name} | {c.cluster} | {c.kind} | {_chain(run.plan, c.cluster)} | {g(c.delivery_s)} / "
                         f"{g(c.delivery_s_pred)} | {g(c.compute_s)} / {g(c.compute_s_pred)} | {g(c.upload_s)} / "
                         f"{g(c.upload_s_pred)} | {g(c.latency_s)} / {g(c.latency_s_pred)} | {error(c.latency_s, c.latency_s_pred)} |")
    (ft_ok, ft), (inf_ok, inf) = counts["finetune"], counts["inference"]
    return lines, f"{ft_ok + inf_ok} of {ft + inf} clusters: {ft_ok} of {ft} fine-tuning, {inf_ok} of {inf} inference"


def ranking_lines(runs: list[Run]) -> tuple[list[str], int, int]:
    """Plans by measured and by predicted round latency; the pairs predicted more than `RANK_GAP` apart that the
    measurement orders the same way."""
    by_pred = sorted(runs, key=lambda r: r.report.round_latency_s_pred)
    by_meas = sorted(runs, key=lambda r: r.report.round_latency_s or float("inf"))
    lines = ["| rank | by predicted (s) | by measured (s) |", "| ---: | --- | --- |"]
    lines += [f"| {i + 1} | {p.name} ({p.report.round_latency_s_pred:.3f}) | {m.name} ({g(m.report.round_latency_s)}) |"
              for i, (p, m) in enumerate(zip(by_pred, by_meas))]
    pairs = [(a, b) for a, b in itertools.combinations(runs, 2)
             if max(a.report.round_latency_s_pred, b.report.round_latency_s_pred)
             > (1 + RANK_GAP) * min(a.report.round_latency_s_pred, b.report.round_latency_s_pred)]
    same = sum((a.report.round_latency_s_pred < b.report.round_latency_s_pred)
               == ((a.report.round_latency_s or 0) < (b.report.round_latency_s or 0)) for a, b in pairs)
    return lines, same, len(pairs)


def round_lines(runs: list[Run]) -> tuple[list[str], int]:
    lines = ["| plan | clusters | chains (members) | round latency s measured | predicted (testbed) | error | "
             "compute share of the slowest cluster (predicted) | predicted on the plan's nodes s |",
             "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    ok = 0
    for run in runs:
        r = run.report
        ok += _within(r.round_latency_s, r.round_latency_s_pred, LATENCY_GOAL)
        sizes = ", ".join(f"{c.kind[:3]} {len(c.members)}" for c in run.plan.clusters)
        slowest = max(r.clusters, key=lambda c: c.latency_s_pred)
        share = slowest.compute_s_pred * (1 if slowest.kind == "inference" else run.iters) / slowest.latency_s_pred
        lines.append(f"| {run.name} | {len(run.plan.clusters)} | {sizes} | {g(r.round_latency_s)} | "
                     f"{r.round_latency_s_pred:.4g} | {error(r.round_latency_s, r.round_latency_s_pred)} | "
                     f"{100 * share:.0f} % | {r.round_latency_s_pred_devices:.4g} |")
    return lines, ok


def section(runs: list[Run], scale: float) -> list[str]:
    """Goals and tables of every plan run at one time scale."""
    hops, hops_result = hop_lines(runs)
    clusters, clusters_result = cluster_lines(runs)
    ranks, same, pairs = ranking_lines(runs)
    rounds, rounds_ok = round_lines(runs)
    return [
        f"## Time scale S = {scale:g}", "", "| goal | result |", "| --- | --- |",
        f"| every hop's transfer within ±{100 * HOP_GOAL:.0f} % | {hops_result} |",
        f"| cluster latency within ±{100 * LATENCY_GOAL:.0f} % (held-out calibration) | {clusters_result} |",
        f"| round latency within ±{100 * LATENCY_GOAL:.0f} % | {rounds_ok} of {len(runs)} plans |",
        f"| same order measured as predicted where predictions differ by > {100 * RANK_GAP:.0f} % | {same} of {pairs} pairs |",
        "", f"### Rounds (S = {scale:g})", "", *rounds, "", f"### Ranking (S = {scale:g})", "", *ranks, "",
        f"### Clusters (S = {scale:g})", "", *clusters, "",
        f"### Hops (S = {scale:g}; seconds per pass; forward carries the smashed data and the labels)", "", *hops, "",
    ]


def header(cal: HostCalibration, args: argparse.Namespace, command: str, loads: tuple[float, float],
           seconds: float) -> list[str]:
    fit = cal.fit
    return [
        "# Testbed benchmark: round latency measured on the emulated network against the cost model's", "",
        f"Command: `{command}` (as root)", "",
        f"- host: {host_description()}; 1-minute load average {loads[0]:.2f} at the start, {loads[1]:.2f} at the end "
        "(the host is shared: others' work slows compute, not the shaped links)",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in package_versions(("torch", "timm", "numpy")).items()),
        f"- calibration, measured first in a process of its own (`gaisnet-opt calibrate --batch 32 --threads "
        f"{args.threads} --steps 5`, {cal.repeats} repeats, load average {cal.load_average:.2f}): "
        f"{fit.flops_per_s / 1e9:.3f} GFLOP/s, {1e3 * fit.pass_overhead_s:.3f} ms per pass, backward at "
        f"{fit.bwd_efficiency:.3f} of the forward rate, residual {1e3 * fit.rms_s:.3f} ms RMS over "
        f"{len(cal.points)} members' median passes",
        f"- scenarios: `generate(clients, seed, profile=vit_digits_patch2_8-vpt4deep-c10, samples=(80, 200), "
        f"classes_per_source=(4, 8), edge_slots=slots)` with client memory capped at 2.5 MB, batch 32, "
        f"{args.iters} local iterations, Adam: " + "; ".join(f"{k} = ({c}, {s}, slots {e})" for k, (c, s, e) in SCENARIOS.items()),
        f"- runs: `validate(engine='distributed', network='emulate', time_scale=S, calibration=..., "
        f"rounds={args.rounds})`, {args.threads} torch thread(s) per process; clusters take turns, each with the host to "
        "itself; figures are the last round's (the first round also counts FLOPs and is not timed)",
        f"- total {seconds:.0f} s", "",
        "Predicted is the cost model on the testbed: every node at the calibrated speed (per cluster), every link at its "
        "rate divided by S. Compute runs at the host's speed whatever S, so a larger S leaves compute, and the host's "
        "load, a smaller share of a round. Plot: `testbed_timeline.png`, the round of the plan with the longest chain "
        "at the first S as predicted (left) and as measured (right), each cluster from the start of its turn.", "",
        "Reading the goals: the cost model prices a transfer as bytes·8/rate. A message of under 10 kB (here the "
        "inference results going home, 1-2 kB, predicted well under 2 ms) also takes the host's fixed per-message "
        "latency and its receiver's wake-up, which no rate prices and which grow with the host's load; such a hop is "
        "counted apart. An inference cluster lasts 10-100 ms here, mostly compute, so its latency follows the host's "
        "load more than the fine-tuning clusters' do.", "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag, kind, default, nargs in OPTIONS:
        parser.add_argument(flag, type=kind, default=default, nargs=nargs)
    args = parser.parse_args()
    if (why := available()) is not None:
        raise SystemExit(f"the emulated network needs root and iproute2: {why}")
    command = "python " + " ".join(["benchmarks/testbed_bench.py", *sys.argv[1:]])
    load_start, t0 = os.getloadavg()[0], time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="testbed-bench-"))
    by_scale: dict[float, list[Run]] = {}
    try:
        cal = calibrate(work / "host.json", args.threads)
        for scale in args.time_scales:
            for name, key, scenario, plan in plans(args.iters):
                report = validate(scenario, plan, rounds=args.rounds, out_dir=work / f"{name}-{scale:g}",
                                  engine="distributed", network="emulate", time_scale=scale,
                                  calibration=work / "host.json", timeout=args.timeout)
                by_scale.setdefault(scale, []).append(Run(name, key, plan, report, scenario.training.local_iters))
                print(f"S={scale:g} {name}: round {g(report.round_latency_s)} s measured, "
                      f"{report.round_latency_s_pred:.4g} s predicted")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    first = by_scale[args.time_scales[0]]
    longest = max(first, key=lambda r: max(len(c.members) for c in r.plan.clusters))
    RESULTS.mkdir(parents=True, exist_ok=True)
    save_figure(plot_timelines(longest.report), RESULTS / "testbed_timeline.png")
    lines = header(cal, args, command, (load_start, os.getloadavg()[0]), time.perf_counter() - t0)
    for scale, runs in by_scale.items():
        lines += section(runs, scale)
    write_text(RESULTS / "testbed.md", "\n".join(lines) + "\n")
    print("\n".join(lines[:14]))


if __name__ == "__main__":
    main()
