"""Figures: the Gantt timeline ends where the cost model says; files are written and non-empty."""

from __future__ import annotations

import itertools

import pytest
from matplotlib.figure import Figure

from gaisnet_opt.cost import cluster_cost
from gaisnet_opt.generator import generate
from gaisnet_opt.plotting.figure_io import save_figure
from gaisnet_opt.plotting.gantt import plot_gantt
from gaisnet_opt.plotting.plan_map import plot_plan_map
from gaisnet_opt.round_timeline import cluster_timeline
from gaisnet_opt.solvers.best_effort import solve_best_effort
from tests.support.worlds import FT, FT_EDGE, INF


@pytest.mark.parametrize("cluster", [FT, INF, FT_EDGE], ids=["finetune", "inference", "edge"])
def test_timeline_ends_at_cluster_latency(scenario, cluster):
    cost = cluster_cost(scenario, cluster)
    segments = cluster_timeline(cost)
    assert max(s.start_s + s.duration_s for s in segments) == pytest.approx(cost.latency_s)
    busy = sum(s.duration_s for s in segments if s.phase in ("forward", "backward"))
    assert busy == pytest.approx(cost.iterations * sum(m.fwd_s + m.bwd_s for m in cost.members))


def test_timeline_is_serial_within_an_iteration(scenario):
    segments = [s for s in cluster_timeline(cluster_cost(scenario, FT)) if s.phase not in ("delivery", "upload")]
    for a, b in itertools.pairwise(segments):
        assert b.start_s == pytest.approx(a.start_s + a.duration_s)


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plots_are_written(tmp_path, suffix):
    s = generate(25, seed=3)
    plan = solve_best_effort(s, clusters=3).plan
    for draw, name in ((plot_plan_map, "map"), (plot_gantt, "gantt")):
        out = save_figure(draw(s, plan), tmp_path / f"{name}{suffix}")
        assert out.stat().st_size > 1000


def test_plots_draw_on_a_given_axes(scenario):
    from gaisnet_opt.plan import Plan

    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert plot_gantt(scenario, Plan(clusters=(FT,)), ax=right) is fig
    assert right.get_title().startswith("Round of") and not left.get_title()


def test_plotting_forces_no_backend():
    import subprocess
    import sys

    code = ("import matplotlib; matplotlib.use('pdf'); import gaisnet_opt.plotting.gantt, gaisnet_opt.plotting.plan_map, "
            "gaisnet_opt.plotting.cumulative_profit, gaisnet_opt.plotting.validation; print(matplotlib.get_backend())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "pdf"


def test_unknown_format_writes_nothing(tmp_path, scenario):
    from gaisnet_opt.plan import Plan

    with pytest.raises(ValueError, match="must end in one of"):
        save_figure(plot_gantt(scenario, Plan(clusters=(FT,))), tmp_path / "x.jpg")
    assert list(tmp_path.iterdir()) == []
