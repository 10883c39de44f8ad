"""Local search: never worse than the constructive plans it starts from; coverage fills clusters up to the deadline."""

from __future__ import annotations

from gaisnet_opt.generator import generate
from gaisnet_opt.params import SolveParams
from gaisnet_opt.result import Objective
from gaisnet_opt.solvers.construction import HEURISTICS
from gaisnet_opt.solvers.solve import solve


def test_local_search_never_worsens_the_constructive_plans():
    s = generate(40, seed=9)
    local = solve(s, method="local", clusters=3, params=SolveParams(time_limit_s=5))
    for method in HEURISTICS:
        r = solve(s, method=method, clusters=3)
        assert r.objective is None or local.objective <= r.objective


def test_coverage_fills_clusters_up_to_the_deadline():
    s = generate(30, seed=3)
    tight, loose = (solve(s, method="local", objective=Objective(kind="coverage", deadline_s=d)) for d in (60.0, 1e4))
    assert tight.objective <= loose.objective
    assert len(loose.plan.clusters) >= len(tight.plan.clusters)
