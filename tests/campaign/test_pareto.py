"""The latency-energy front of one round, by ε-constraint over CP-SAT, and its command."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gaisnet_opt.campaign.pareto import FrontPoint, campaign_round, epsilon_front, nondominated
from gaisnet_opt.checker import check
from gaisnet_opt.cli import app
from gaisnet_opt.params import SolveParams
from gaisnet_opt.plan import Plan
from gaisnet_opt.plotting.campaign import plot_front
from gaisnet_opt.result import Objective
from gaisnet_opt.solvers.solve import solve
from tests.campaign.support import small_spec


def _p(latency: float, energy: float, status: str = "optimal") -> FrontPoint:
    return FrontPoint(None, "energy", latency, energy, status, 0.0, Plan())


def test_nondominated_keeps_the_points_nothing_beats_on_both() -> None:
    pts = [_p(3, 1), _p(1, 5), _p(2, 5), _p(2, 2), _p(1, 5), _p(4, 1)]
    assert [(p.latency_s, p.energy_j) for p in nondominated(pts)] == [(1, 5), (2, 2), (3, 1)]


@pytest.fixture(scope="module")
def sweep():
    scenario = campaign_round(small_spec(), "A", 1)
    return scenario, epsilon_front(scenario, points=4, params=SolveParams(time_limit_s=20.0))


@pytest.mark.slow
def test_the_sweep_runs_from_the_fastest_to_the_most_frugal_plan(sweep) -> None:
    scenario, points = sweep
    assert len(points) == 4 and all(p.status == "optimal" for p in points)
    fastest = solve(scenario, "cpsat", Objective(kind="latency"), params=SolveParams(time_limit_s=20.0))
    frugal = solve(scenario, "cpsat", Objective(kind="energy"), params=SolveParams(time_limit_s=20.0))
    assert math.isclose(points[0].latency_s, fastest.objective or 0.0, rel_tol=1e-5)
    assert math.isclose(points[-1].energy_j, frugal.objective or 0.0, rel_tol=1e-6)
    for p in points:
        assert check(scenario, p.plan) == []
        if p.deadline_s is not None:
            assert p.latency_s <= p.deadline_s * (1 + 1e-6)
    energies = [p.energy_j for p in points]
    assert all(b <= a * (1 + 1e-9) for a, b in itertools.pairwise(energies))  # a later deadline never costs more
    assert points[-1].energy_j < points[0].energy_j and points[-1].latency_s > points[0].latency_s  # a real trade-off


@pytest.mark.slow
def test_the_front_plot_and_command(sweep, tmp_path: Path) -> None:
    _, points = sweep
    fig = plot_front(points)
    assert len(fig.axes[0].lines) == 1 and len(fig.axes[0].collections) >= 1
    result = CliRunner().invoke(app, ["front", str(_write(tmp_path)), "--points", "3", "--csv", str(tmp_path / "f.csv"),
                                      "--plot", str(tmp_path / "f.png"), "--time-limit", "20"])
    assert result.exit_code == 0, result.output
    rows = (tmp_path / "f.csv").read_text().splitlines()
    assert rows[0].startswith("deadline_s,") and len(rows) == 4 and (tmp_path / "f.png").stat().st_size > 0


def _write(tmp_path: Path) -> Path:
    import yaml

    path = tmp_path / "camp.yaml"
    path.write_text(yaml.safe_dump(small_spec().model_dump(mode="json")))
    return path
