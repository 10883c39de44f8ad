"""City-scale benchmark: the decomposition (`gaisnet_opt.solvers.decompose`) against the previous best, with gaps to
its proven bound, on generated scenarios of 500 to 20,000 clients (seeds 8001-8003, used by no other benchmark).

Every case runs in its own process, so its peak RSS (ru_maxrss) is its own; two run at once (2 cores).
Writes benchmarks/results/scale.md.

    PYTHONPATH=. python benchmarks/scale_bench.py [--sizes 500,2000] [--seeds 8001,8002,8003] [--limit 60]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

OUT = Path(__file__).parent / "results" / "scale.md"
CACHE = Path("/tmp/gaisnet-scale")
"""Generated scenarios of 10,000+ clients are cached here as JSON (the generator takes minutes there)."""
PREVIOUS = ("local", "cpsat")
FIXED_K = 10
THRESHOLDS = (0.05, 0.02, 0.01)
PSS_EVERY_S = 0.5
"""How often the case's process tree's proportional set size is sampled (each sample reads /proc)."""
ALONE_FROM = 10000
"""Cases of this many clients run one at a time, after the others (their cells use both cores)."""


def _scenario(n: int, seed: int):  # type: ignore[no-untyped-def]
    from gaisnet_opt import generator
    from gaisnet_opt.io import load, save
    from gaisnet_opt.scenario import Scenario

    path = CACHE / f"n{n}-s{seed}.json"
    if path.exists():
        return load(Scenario, path)
    generator.MAX_CLIENTS = max(generator.MAX_CLIENTS, n)  # the generator's own cap is another change's
    scenario = generator.generate(n, seed=seed)
    if n >= 10000:
        CACHE.mkdir(exist_ok=True)
        save(scenario, path)
    return scenario


def _tree_pss_kb(root: int) -> int:
    """Proportional set size of `root` and every process below it, in kB: shared pages (a forked worker's
    copy-on-write pages) are counted once over the tree, unlike RSS."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, grew = {root}, True
    while grew:
        below = {p for p, pp in parents.items() if pp in tree} - tree
        tree |= below
        grew = bool(below)
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
        except (OSError, StopIteration):
            continue
    return total


class PeakPss(threading.Thread):
    """Samples `_tree_pss_kb` of this process every `PSS_EVERY_S` until stopped; `peak_mb` is the largest."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kb, self.done = 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(PSS_EVERY_S):
            self.peak_kb = max(self.peak_kb, _tree_pss_kb(os.getpid()))

    @property
    def peak_mb(self) -> int:
        return round(max(self.peak_kb, _tree_pss_kb(os.getpid())) / 1024)


def run_case(n: int, seed: int, kind: str, k: str, method: str, limit: float) -> dict:
    """One case in this process, through `solve` (whatever route it takes for `method`): the plan's objective,
    the bound, the gap, the seconds to each gap of `THRESHOLDS` (from the anytime trace), seconds, notes."""
    from gaisnet_opt import SolveParams, solve
    from gaisnet_opt.errors import InputError
    from gaisnet_opt.result import Objective
    from gaisnet_opt.solvers.decompose.trace import time_to_gap
    from gaisnet_opt.solvers.service import with_clusters

    scenario = _scenario(n, seed)
    if k != "default":
        scenario = with_clusters(scenario, int(k))
    t0 = time.perf_counter()
    objective = Objective(kind=kind)  # type: ignore[arg-type]
    pss = PeakPss()
    pss.start()
    try:
        r = solve(scenario, method, objective, params=SolveParams(time_limit_s=limit, seed=seed))  # type: ignore[arg-type]
    except InputError as exc:
        return dict(error="refused: " + " ".join(str(exc).split()))  # one table row
    finally:
        pss.done.set()
    notes = [r.status, *r.params.get("decompose_notes", [])]
    out = dict(objective=r.objective, bound=r.bound, gap=r.gap, notes="; ".join(notes),
               phases={p: round(s, 2) for p, s in r.phases.items()}, traced=bool(r.trace),
               time_to={str(g): time_to_gap(r.trace, g) for g in THRESHOLDS})
    out.update(seconds=round(time.perf_counter() - t0, 2), rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
               worker_rss_mb=round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024), pss_mb=pss.peak_mb)
    return out


def _subprocess(case: tuple, limit: float) -> dict:
    n, seed, kind, k, method = case
    cmd = [sys.executable, __file__, "--case", json.dumps([n, seed, kind, k, method]), "--limit", str(limit)]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parent.parent))
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=limit * 3 + 120, env=env, check=False)
        lines = done.stdout.strip().splitlines()
        if done.returncode == 0 and lines:
            return json.loads(lines[-1])
        return dict(error=f"exit {done.returncode}: {done.stderr.strip().splitlines()[-1:] or ''}")
    except subprocess.TimeoutExpired:
        return dict(error=f"killed after {limit * 3 + 120:.0f} s")


def _rss(res: dict) -> str:
    """The case's peak RSS, and its largest worker's when cells ran in a pool (they run beside it)."""
    worker = res.get("worker_rss_mb") or 0
    return f"{res.get('rss_mb')} + {worker}" if worker else str(res.get("rss_mb"))


def _fmt(x: object, digits: int = 4) -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return str(x)


def _time_to(res: dict, threshold: float) -> str:
    """Seconds to the gap from the run's trace; a method without one (local, cpsat) shows its end when its
    final gap is within the threshold (an upper bound)."""
    if res.get("traced"):
        t = res.get("time_to", {}).get(str(threshold))
        return "—" if t is None else f"{t:.1f}"
    gap = res.get("gap")
    return f"≤ {res['seconds']:.1f}" if gap is not None and gap <= threshold else "—"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--case")
    ap.add_argument("--limit", type=float, default=60.0)
    ap.add_argument("--sizes", default="500,2000")
    ap.add_argument("--seeds", default="8001,8002,8003")
    ap.add_argument("--previous-sizes", default="500,2000")
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(*json.loads(args.case), limit=args.limit)))
        return
    sizes = [int(x) for x in args.sizes.split(",")]
    seeds = [int(x) for x in args.seeds.split(",")]
    previous_sizes = {int(x) for x in args.previous_sizes.split(",")}
    cases = [(n, s, kind, k, "decompose") for n in sizes for s in seeds for kind in ("latency", "energy")
             for k in ("default", str(FIXED_K))]
    cases += [(n, seeds[0], kind, k, m) for n in sizes if n in previous_sizes for kind in ("latency", "energy")
              for k in ("default", str(FIXED_K)) for m in PREVIOUS]
    load_before = os.getloadavg()
    t0 = time.time()
    paired = [c for c in cases if c[0] < ALONE_FROM]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(paired, pool.map(lambda c: _subprocess(c, args.limit), paired), strict=True))
    results |= {c: _subprocess(c, args.limit) for c in cases if c[0] >= ALONE_FROM}
    _write(results, sizes, seeds, args, load_before, time.time() - t0)


def _write(results: dict, sizes: list[int], seeds: list[int], args: argparse.Namespace, load_before: tuple,
           wall: float) -> None:
    lines = [
        "# City-scale plans with a proven gap (issue 16)", "",
        f"Command: `PYTHONPATH=. python benchmarks/scale_bench.py --sizes {args.sizes} --seeds {args.seeds} "
        f"--previous-sizes {args.previous_sizes} --limit {args.limit:g}` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{wall:.0f} s wall on {os.cpu_count()} cores: two cases at a time below {ALONE_FROM:,} clients, one at a "
        "time from there).",
        f"Load (`uptime` 1/5/15 min) before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}; "
        f"after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}.", "",
        "Each case is its own process (peak RSS = its ru_maxrss; where the cells ran in a process pool, "
        "`a + b` is the case's own and its largest worker's, which counts pages shared with the case's process in both; "
        "`PSS MB` is the peak of the proportional set size summed over the case's process and its workers, sampled every "
        f"{PSS_EVERY_S:g} s, which counts each shared page once: what the case held resident). `bound` is the decomposition's lower bound, "
        "valid for the whole problem (the floor over every start point's exact cheapest cluster, raised by the "
        "threshold search's infeasibility proofs or the column generation's Lagrangian bound). `gap` = "
        "(plan − bound) / plan. Every case is `solve(scenario, method, objective, params=SolveParams(time_limit_s="
        "limit, seed=seed))`, so `decompose` is whatever route `solve` takes. Its time-to-gap columns are the "
        "first point of its anytime trace (`SolveResult.trace`: each better plan and higher bound, when) within "
        "the gap, in seconds from the call's start; `local` and `cpsat` record no trace, so theirs give the run's "
        "end when the final gap is within it (≤, an upper bound). `local` and `cpsat` run with the same limit, "
        "seed 8001 only; their gap is to the decomposition's bound.", "",
        "| n | seed | objective | clusters | method | plan | bound | gap | ≤5 % (s) | ≤2 % (s) | ≤1 % (s) | s | RSS MB | PSS MB | notes |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (n, seed, kind, k, method), res in sorted(results.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][3], kv[0][1], kv[0][4] != "decompose", kv[0][4])):
        if "error" in res:
            lines.append(f"| {n} | {seed} | {kind} | {k} | {method} | — | — | — | — | — | — | — | — | — | {res['error']} |")
            continue
        if method != "decompose":
            ref = results.get((n, seed, kind, k, "decompose"), {})
            if ref.get("bound") is not None and res.get("objective") is not None:
                res = dict(res, bound=ref["bound"], gap=(res["objective"] - ref["bound"]) / max(abs(res["objective"]), 1e-12))
        notes = str(res.get("notes", "")).replace("|", "/")
        lines.append(f"| {n} | {seed} | {kind} | {k} | {method} | {_fmt(res.get('objective'))} | {_fmt(res.get('bound'))} | "
                     f"{_fmt(res.get('gap'), 3)} | {_time_to(res, 0.05)} | {_time_to(res, 0.02)} | {_time_to(res, 0.01)} | "
                     f"{res.get('seconds')} | {_rss(res)} | {res.get('pss_mb', '—')} | {notes} |")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
