"""Cells: the joined plan passes the checker for the whole problem, through a real 2-worker process pool."""

from __future__ import annotations

from gaisnet_opt.checker import check
from gaisnet_opt.generator import generate
from gaisnet_opt.result import Objective
from gaisnet_opt.solvers.decompose.cells import cell_scenarios, homes, solve_cells, split_range
from gaisnet_opt.solvers.service import cluster_range, with_clusters


def test_cells_partition_the_clients_and_share_out_the_range():
    scenario = with_clusters(generate(600, seed=3), 5)
    cells = cell_scenarios(scenario)
    assert len(cells) == len(scenario.edges) > 1
    clients = [n.id for c in cells for n in c.clients]
    assert sorted(clients) == sorted(c for c, h in homes(scenario).items() if h is not None)
    assert sum(cluster_range(c)[0] for c in cells) == 5
    assert split_range(scenario, [[], []]) == [(0, 0), (0, 0)]


def test_the_joined_plan_is_feasible_for_the_whole_problem():
    scenario = with_clusters(generate(600, seed=3), 4)
    plan, results = solve_cells(scenario, Objective(kind="latency"), 10.0, workers=2)
    assert plan is not None and len(results) == len(scenario.edges)
    assert not check(scenario, plan)
    assert sum(c.kind == "finetune" for c in plan.clusters) == 4
