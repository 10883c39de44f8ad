"""Benchmark of the scenario generator at city scale (issue 16, deliverable 4): time and peak memory to 20,000 clients.

    python benchmarks/generator_bench.py [--sizes 2000,5000,10000,20000] [--seeds 1,2] [--before bdd490c]

Writes benchmarks/results/generator.md. Each `generate(n, seed)` (Scenario
validation included) runs in a fresh subprocess, which reports its wall time
and peak RSS (`resource.getrusage`, ru_maxrss) and a SHA-256 of the scenario's
JSON. "before" is the package as of `--before` (the all-pairs link loops),
extracted with `git archive` and run with its MAX_CLIENTS raised, so the
digests show whether both give the same scenario at every size. Then the CLI
writes a 20,000-client scenario file, which is loaded back and compared.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

from provenance import header

from gaisnet_opt.io import write_text

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
GOAL_CLIENTS, GOAL_S, GOAL_MB = 20_000, 15.0, 2048.0

CHILD = """
import hashlib, json, resource, sys, time
import gaisnet_opt.generator as g
n, seed = int(sys.argv[1]), int(sys.argv[2])
g.MAX_CLIENTS = max(g.MAX_CLIENTS, n)
t = time.perf_counter()
s = g.generate(n, seed)
took = time.perf_counter() - t
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t = time.perf_counter()
s.model_copy()
revalidate = time.perf_counter() - t
print(json.dumps({"package": g.__file__, "time_s": took, "rss_mb": rss_mb, "revalidate_s": revalidate, "d2d": len(s.d2d),
                  "server_links": len(s.server_links), "edges": len(s.edges),
                  "sha256": hashlib.sha256(s.model_dump_json().encode()).hexdigest()}))
"""

LOAD = """
import hashlib, json, resource, sys, time
from gaisnet_opt.io import load
from gaisnet_opt.scenario import Scenario
t = time.perf_counter()
s = load(Scenario, sys.argv[1])
took = time.perf_counter() - t
print(json.dumps({"package": sys.modules["gaisnet_opt"].__file__, "time_s": took,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "clients": len(s.clients), "d2d": len(s.d2d),
                  "sha256": hashlib.sha256(s.model_dump_json().encode()).hexdigest()}))
"""


def run_child(argv: list[str], pythonpath: Path) -> dict:
    """What a Python child importing gaisnet_opt from `pythonpath` prints as its last line (a JSON object).

    It runs in `pythonpath` because `python -c` puts its working directory first on sys.path.
    """
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    proc = subprocess.run([sys.executable, *argv], env=env, cwd=pythonpath, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"child {argv[:3]} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    if not Path(report["package"]).resolve().is_relative_to(pythonpath.resolve()):
        raise RuntimeError(f"child imported {report['package']}, not the package under {pythonpath}")
    return report


def cli_peak_mb(argv: list[str], pythonpath: Path) -> tuple[float, float]:
    """Wall time and peak RSS (MB) of one CLI call in a child, from wait4's rusage."""
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", "from gaisnet_opt.cli import main; main()", *argv], env=env,
                            cwd=pythonpath, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    if status:
        raise RuntimeError(f"CLI {argv} failed: {proc.stderr.read().decode()[-2000:] if proc.stderr else status}")
    return wall, usage.ru_maxrss / 1024


def old_package(rev: str, into: Path) -> Path:
    """The gaisnet_opt package as of `rev`, extracted under `into` (the "before" code)."""
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "gaisnet_opt"], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(tar)) as archive:
        archive.extractall(into, filter="data")
    return into


def measure(sizes: list[int], seeds: list[int], before: str | None, scratch: Path) -> list[dict]:
    """One row per (n, seed): after (this tree) and, if asked, before (`before`'s package)."""
    old = old_package(before, scratch / "before") if before else None
    rows = []
    for n in sizes:
        for seed in seeds:
            row: dict = {"n": n, "seed": seed, "after": run_child(["-c", CHILD, str(n), str(seed)], ROOT)}
            if old is not None:
                row["before"] = run_child(["-c", CHILD, str(n), str(seed)], old)
            rows.append(row)
            print(f"n={n} seed={seed} done", file=sys.stderr)
    return rows


def cli_round_trip(n: int, seed: int, scratch: Path) -> dict:
    """The CLI writes an n-client scenario file; a child loads it back; both digests against generate's."""
    path = scratch / f"city-{n}.json"
    wall, rss = cli_peak_mb(["generate", "--clients", str(n), "--seed", str(seed), "-o", str(path)], ROOT)
    loaded = run_child(["-c", LOAD, str(path)], ROOT)
    made = run_child(["-c", CHILD, str(n), str(seed)], ROOT)
    return {"n": n, "seed": seed, "cli_s": wall, "cli_mb": rss, "file_mb": path.stat().st_size / 2**20,
            "load_s": loaded["time_s"], "load_mb": loaded["rss_mb"], "clients": loaded["clients"],
            "same": loaded["sha256"] == made["sha256"]}


def table(rows: list[dict]) -> list[str]:
    out = ["| clients | seed | edge servers | D2D links | server links | after: generate (s) | after: peak RSS (MB) "
           "| after: re-validate (s) | before: generate (s) | before: peak RSS (MB) | before: re-validate (s) "
           "| same JSON |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        a, b = r["after"], r.get("before")
        old = (f"{b['time_s']:.2f} | {b['rss_mb']:.0f} | {b['revalidate_s']:.2f} | "
               + ("yes" if b["sha256"] == a["sha256"] else "**NO**")) if b else "- | - | - | -"
        out.append(f"| {r['n']:,} | {r['seed']} | {a['edges']} | {a['d2d']:,} | {a['server_links']:,} "
                   f"| {a['time_s']:.2f} | {a['rss_mb']:.0f} | {a['revalidate_s']:.2f} | {old} |")
    return out


def write(rows: list[dict], cli: dict | None, wall_s: float, load_end: str) -> None:
    goal = [r for r in rows if r["n"] == GOAL_CLIENTS]
    worst_s = max((r["after"]["time_s"] for r in goal), default=float("nan"))
    worst_mb = max((r["after"]["rss_mb"] for r in goal), default=float("nan"))
    met = ("not measured" if not goal else "met" if worst_s < GOAL_S and worst_mb < GOAL_MB else "NOT met")
    lines = header("Scenario generator at city scale: benchmark (issue 16, deliverable 4)", ("pydantic", "numpy"))
    lines += [
        f"- wall time of the whole benchmark: {wall_s:.0f} s; `uptime` at the end: {load_end} "
        "(other jobs shared the 2 cores: timings are upper bounds)", "",
        "Each cell is one `generate(n, seed)` (default arguments: 2,500 m² per client, 800 m server cells, device mix),",
        "Scenario validation included, in a fresh subprocess: wall time inside the child, peak RSS of the child",
        "(ru_maxrss, interpreter and imports included). **re-validate** = `scenario.model_copy()`, a full",
        "validation of the built scenario (link cross-references included), timed after the peak RSS was read.",
        "**before** = the package at the `--before` revision (all-pairs link loops, per-link checks) with its",
        "MAX_CLIENTS raised; **same JSON** compares SHA-256 digests of `model_dump_json()` of before and after.", "",
        f"**Goal: {GOAL_CLIENTS:,} clients in under {GOAL_S:.0f} s and {GOAL_MB:.0f} MB — {met}** "
        f"(slowest {worst_s:.1f} s, largest {worst_mb:.0f} MB).", "",
        *table(rows), "",
    ]
    if cli:
        lines += [
            f"CLI round trip: `gaisnet-opt generate --clients {cli['n']} --seed {cli['seed']} -o city.json` took "
            f"{cli['cli_s']:.1f} s and {cli['cli_mb']:.0f} MB peak (the JSON written with indentation by "
            f"`gaisnet_opt.io.save`), a {cli['file_mb']:.0f} MB file; `io.load(Scenario, ...)` read it back in "
            f"{cli['load_s']:.1f} s, {cli['load_mb']:.0f} MB peak, {cli['clients']:,} clients, "
            + ("the same scenario as `generate` (equal digests)." if cli["same"] else "**a different scenario**."),
            "",
        ]
    write_text(RESULTS / "generator.md", "\n".join(lines))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,5000,10000,20000", help="client counts, comma-separated")
    parser.add_argument("--seeds", default="1,2", help="seeds, comma-separated")
    parser.add_argument("--before", default="bdd490c", help="git revision of the old generator; '' to skip")
    parser.add_argument("--no-cli", action="store_true", help="skip the CLI round trip at the largest size")
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",")]
    seeds = [int(x) for x in args.seeds.split(",")]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="generator-bench-") as tmp:
        rows = measure(sizes, seeds, args.before or None, Path(tmp))
        cli = None if args.no_cli else cli_round_trip(max(sizes), seeds[0], Path(tmp))
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    write(rows, cli, time.perf_counter() - start, uptime)
    print(f"wrote {RESULTS / 'generator.md'}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
