"""`validate` end to end on a generated scenario with a solver's plan."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from gaisnet_opt.validator import validate  # noqa: E402

torch.set_num_threads(1)


def test_a_generated_scenario_with_a_greedy_plan_validates(tmp_path):
    from gaisnet_opt.generator import generate
    from gaisnet_opt.scenario import Training
    from gaisnet_opt.solvers.best_effort import solve_best_effort
    from gaisnet_opt.validator.model import digits_profile

    scenario = generate(8, 1, profile=digits_profile(), samples=(20, 40), training=Training(batch_size=8, local_iters=2))
    result = solve_best_effort(scenario, clusters=2)
    assert result.status == "feasible"
    report = validate(scenario, result.plan, rounds=1, out_dir=tmp_path)
    assert len(report.clusters) == len(result.plan.clusters) and len(report.rounds) == 2
