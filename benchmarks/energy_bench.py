"""The energy decomposition through `solve(method="decompose")` under the time-limit contract: plan, bound,
gap, wall seconds against the limit, time to a 5 % gap (from the anytime trace) and peak RSS, on the city-scale
seeds (8001-8003, as `scale_bench`). One case at a time, each in its own process (peak RSS = its ru_maxrss).
Writes benchmarks/results/energy.md.

    PYTHONPATH=. python benchmarks/energy_bench.py [--cases 500:8001:default,500:8001:10,...] [--limit 60]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

OUT = Path(__file__).parent / "results" / "energy.md"
DEFAULT_CASES = [f"{n}:{s}:{k}" for n, seeds in ((500, (8001, 8002, 8003)), (2000, (8001,)))
                 for s in seeds for k in ("default", "10")]


def run_case(n: int, seed: int, k: str, limit: float) -> dict:
    """One case in this process."""
    from gaisnet_opt import Objective, SolveParams, generate, solve
    from gaisnet_opt.solvers.service import with_clusters

    scenario = generate(n, seed=seed)
    if k != "default":
        scenario = with_clusters(scenario, int(k))
    t0 = time.perf_counter()
    r = solve(scenario, "decompose", Objective(kind="energy"), params=SolveParams(time_limit_s=limit))
    wall = time.perf_counter() - t0
    to5 = next((p.t_s for p in r.trace if p.objective and p.bound and (p.objective - p.bound) / p.objective <= 0.05),
               None)
    return dict(status=r.status, objective=r.objective, bound=r.bound, gap=r.gap, wall=round(wall, 2), to5=to5,
                rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                notes="; ".join(r.params.get("decompose_notes", [])))


def _cell(x: object) -> str:
    if x is None:
        return "—"
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default=",".join(DEFAULT_CASES))
    ap.add_argument("--limit", type=float, default=60.0)
    ap.add_argument("--case")
    args = ap.parse_args()
    if args.case:
        n, seed, k = args.case.split(":")
        print(json.dumps(run_case(int(n), int(seed), k, args.limit)))
        return
    load0 = os.getloadavg()
    rows = []
    for case in args.cases.split(","):
        cmd = [sys.executable, __file__, "--case", case, "--limit", str(args.limit)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.limit * 3 + 120, check=False)
        lines = done.stdout.strip().splitlines()
        out = json.loads(lines[-1]) if done.returncode == 0 and lines else dict(notes=f"exit {done.returncode}")
        rows.append((case, out))
        print(case, out, flush=True)
    load1 = os.getloadavg()
    head = ["n", "seed", "clusters", "status", "plan", "bound", "gap", "≤5 % (s)", "s", "RSS MB", "notes"]
    lines = [
        "# The energy decomposition through `solve` (issue 16)", "",
        f"Command: `PYTHONPATH=. python benchmarks/energy_bench.py --limit {args.limit:g}` "
        f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, one case at a time on {os.cpu_count()} cores shared with other work).",
        f"Load (1/5/15 min) before: {' '.join(f'{x:.2f}' for x in load0)}; after: {' '.join(f'{x:.2f}' for x in load1)}.",
        "", "`s` is the call's wall time (the contract: at most limit × 1.05 + 0.1 s); `≤5 %` the first trace point "
        "within a 5 % gap; `gap` = (plan − bound) / plan, the bound valid for the whole problem (docs/model.md §7.4).",
        "", "| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |",
    ]
    for case, o in rows:
        n, seed, k = case.split(":")
        cells = [n, seed, k, o.get("status"), o.get("objective"), o.get("bound"), o.get("gap"), o.get("to5"),
                 o.get("wall"), o.get("rss_mb"), o.get("notes")]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    OUT.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
