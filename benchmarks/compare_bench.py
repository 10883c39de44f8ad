"""Heuristics against the optimum on seeded instance suites, by size and by regime (issue 8).

Writes benchmarks/results/compare.md, compare.csv, anytime.csv and plots
(gap distribution per heuristic, exact solve time against size, objective and
bound against time). Reproduce: `python benchmarks/compare_bench.py`
(`--quick` for a smaller run).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from provenance import header, write_csv

from gaisnet_opt.comparison import compare, records
from gaisnet_opt.generator import generate
from gaisnet_opt.io import write_text
from gaisnet_opt.params import SolveParams
from gaisnet_opt.plotting.figure_io import axes_for, save_figure
from gaisnet_opt.result import Objective
from gaisnet_opt.solvers.solve import solve

RESULTS = Path(__file__).resolve().parent / "results"
EXACT = ("cpsat", "milp")
HEURISTICS = ("random", "largest-first", "roomiest-first", "fastest-first", "local")


@dataclass(frozen=True)
class Regime:
    """A family of generated scenarios."""

    links: str  # dense | sparse
    devices: str  # heterogeneous | homogeneous
    edge: str  # cooperative | aggregator

    def generate(self, clients: int, seed: int):
        return generate(
            clients, seed,
            area_per_client_m2=2500.0 if self.links == "dense" else 10000.0,
            heterogeneous=self.devices == "heterogeneous",
            edge_slots=2 if self.edge == "cooperative" else 0,
        )

    def __str__(self) -> str:
        return f"{self.links}/{self.devices}/{self.edge}"


DEFAULT = Regime("dense", "heterogeneous", "cooperative")
REGIMES = tuple(Regime(l, d, e) for l in ("dense", "sparse") for d in ("heterogeneous", "homogeneous")
                for e in ("cooperative", "aggregator"))


def suites(quick: bool) -> list[tuple[str, Regime, int, int]]:
    """(suite, regime, clients, seed) of every instance."""
    seeds = range(2 if quick else 3)
    sizes = (8, 12, 20) if quick else (8, 12, 20, 30, 50)
    by_size = [("size", DEFAULT, n, s) for n in sizes for s in seeds]
    by_regime = [("regime", r, 15, s) for r in REGIMES for s in seeds]
    return by_size + by_regime


def run_suites(quick: bool, time_limit: float, clusters: int) -> list[dict]:
    rows = []
    for suite, regime, n, seed in suites(quick):
        scenario = regime.generate(n, seed)
        comparison = compare(scenario, Objective(), methods=(*EXACT, *HEURISTICS), clusters=clusters,
                             params=SolveParams(time_limit_s=time_limit, seed=seed))
        for rec in records(comparison):
            rows.append({"suite": suite, "regime": str(regime), "clients": n, "seed": seed,
                         "best_bound": comparison.best_bound, **rec})
        print(f"{suite:6s} {regime!s:38s} n={n:3d} seed={seed} bound={comparison.best_bound}", flush=True)
    return rows


def anytime(n: int, seed: int, limits: tuple[float, ...], clusters: int) -> list[dict]:
    """Objective and bound of each exact method at increasing time limits (no warm start, to see the solver)."""
    scenario = DEFAULT.generate(n, seed)
    out = []
    for method in EXACT:
        for limit in limits:
            r = solve(scenario, method, clusters=clusters, params=SolveParams(time_limit_s=limit, seed=seed, warm_start=False))
            out.append({"clients": n, "seed": seed, "method": method, "time_limit_s": limit, "status": r.status,
                        "objective": r.objective, "bound": r.bound, "time_s": r.time_s})
    return out


def plot_gaps(rows: list[dict], path: Path) -> None:
    fig, ax = axes_for(None, (7, 4))
    data = [[100 * r["gap_to_best_bound"] for r in rows if r["method"] == h and r["gap_to_best_bound"] is not None]
            for h in HEURISTICS]
    ax.boxplot(data, tick_labels=HEURISTICS)
    ax.set_ylabel("gap to best proven bound (%)")
    ax.set_title("Heuristics against the optimum (all instances, latency)")
    save_figure(fig, path)


def plot_times(rows: list[dict], path: Path) -> None:
    fig, ax = axes_for(None, (7, 4))
    for m in EXACT:
        pts = sorted((r["clients"], r["time_s"]) for r in rows if r["suite"] == "size" and r["method"] == m)
        sizes = sorted({p[0] for p in pts})
        ax.plot(sizes, [statistics.median(t for n, t in pts if n == s) for s in sizes], marker="o", label=m)
    ax.set_xlabel("clients")
    ax.set_ylabel("median solve time (s), warm-started")
    ax.set_yscale("log")
    ax.legend()
    save_figure(fig, path)


def plot_anytime(rows: list[dict], path: Path) -> None:
    fig, ax = axes_for(None, (7, 4))
    for m, color in zip(EXACT, ("tab:blue", "tab:orange")):
        pts = [r for r in rows if r["method"] == m]
        ax.plot([r["time_limit_s"] for r in pts], [r["objective"] for r in pts], marker="o", color=color, label=f"{m} objective")
        ax.plot([r["time_limit_s"] for r in pts], [r["bound"] for r in pts], ls="--", color=color, label=f"{m} bound")
    ax.set_xscale("log")
    ax.set_xlabel("time limit (s)")
    ax.set_ylabel("round latency (s)")
    ax.legend()
    save_figure(fig, path)


def no_plan_reasons(rows: list[dict]) -> list[str]:
    """Why instances gave no plan at all (one line per distinct reason)."""
    reasons = sorted({(r["suite"], r["clients"], r["reason"]) for r in rows if r["objective"] is None})
    return [f"- {suite} suite, {n} clients: {reason}" for suite, n, reason in reasons]


def summary(rows: list[dict]) -> list[str]:
    lines = ["| suite | regime | clients | method | solved (optimal/feasible/none) | median gap % | max gap % | median time s |",
             "|---|---|---:|---|---|---:|---:|---:|"]
    keys = sorted({(r["suite"], r["regime"], r["clients"], r["method"]) for r in rows},
                  key=lambda k: (k[0], k[1], k[2], (*EXACT, *HEURISTICS).index(k[3])))
    for suite, regime, n, m in keys:
        grp = [r for r in rows if (r["suite"], r["regime"], r["clients"], r["method"]) == (suite, regime, n, m)]
        gaps = [100 * r["gap_to_best_bound"] for r in grp if r["gap_to_best_bound"] is not None]
        counts = "/".join(str(sum(r["status"] == s for r in grp)) for s in ("optimal", "feasible"))
        none = sum(r["objective"] is None for r in grp)
        med = f"{statistics.median(gaps):.2f}" if gaps else "—"
        mx = f"{max(gaps):.2f}" if gaps else "—"
        lines.append(f"| {suite} | {regime} | {n} | {m} | {counts}/{none} | {med} | {mx} | "
                     f"{statistics.median(r['time_s'] for r in grp):.3f} |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--clusters", type=int, default=3)
    args = ap.parse_args()
    RESULTS.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    rows = run_suites(args.quick, args.time_limit, args.clusters)
    write_csv(RESULTS / "compare.csv", rows)
    limits = (0.5, 1.0, 2.0, 5.0) if args.quick else (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
    any_rows = anytime(30 if args.quick else 50, 0, limits, args.clusters)
    write_csv(RESULTS / "anytime.csv", any_rows)
    plot_gaps(rows, RESULTS / "compare_gaps.png")
    plot_times(rows, RESULTS / "compare_times.png")
    plot_anytime(any_rows, RESULTS / "compare_anytime.png")
    lines = header("Heuristics against the optimum: instance suites (issue 8)",
                   ("numpy", "pydantic", "pyomo", "highspy", "ortools"))
    lines += [
        f"Latency objective, exactly {args.clusters} fine-tuning clusters plus one inference cluster per request, "
        f"{args.time_limit:g} s per method; exact methods warm-started from the best heuristic. "
        "Gaps are to the best bound any exact method proved on that instance (`gaisnet_opt.comparison`). "
        "Regimes: dense (2,500 m² per client) or sparse (10,000 m²) D2D links; heterogeneous (phones, Jetsons, "
        "laptops) or homogeneous (phones) devices; edge server as cooperative node (2 slots) or aggregator only "
        "(0 slots). Rows and raw records: `compare.csv`; figures: `compare_gaps.png` (gap distribution per "
        "heuristic), `compare_times.png` (exact solve time against size), `compare_anytime.png` "
        "(objective and bound against the time limit, `anytime.csv`, without warm start).",
        "", *summary(rows), "", "Instances without any plan:", "", *(no_plan_reasons(rows) or ["- none"]), "",
        f"Wall time of the whole benchmark: {time.perf_counter() - t0:.0f} s.",
    ]
    write_text(RESULTS / "compare.md", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
