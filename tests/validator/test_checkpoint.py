"""Resuming from the checkpoint ends where an uninterrupted run ends; a checkpoint of another run is refused."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from gaisnet_opt.errors import InputError  # noqa: E402
from gaisnet_opt.validator import validate  # noqa: E402
from tests.support.validator_runs import same_state, state_of  # noqa: E402
from tests.support.validator_worlds import digits_world, two_cluster_plan  # noqa: E402

torch.set_num_threads(1)


def test_resume_ends_where_an_uninterrupted_run_ends_and_same_seed_same_result(tmp_path):
    scenario, plan = digits_world(), two_cluster_plan()
    straight = validate(scenario, plan, rounds=3, out_dir=tmp_path / "straight")
    validate(scenario, plan, rounds=1, out_dir=tmp_path / "stopped")  # stopped after round 1
    resumed = validate(scenario, plan, rounds=3, out_dir=tmp_path / "stopped", resume=True)
    again = validate(scenario, plan, rounds=3, out_dir=tmp_path / "again")
    for other in ("stopped", "again"):
        assert same_state(state_of(tmp_path / other), state_of(tmp_path / "straight"))
    for run in (resumed, again):
        assert [(r.train_loss, r.test_loss, r.test_accuracy) for r in run.rounds] == \
               [(r.train_loss, r.test_loss, r.test_accuracy) for r in straight.rounds]
    other_seed = validate(scenario, plan, rounds=1, out_dir=tmp_path / "seed1", seed=1)
    assert not same_state(state_of(tmp_path / "seed1"), state_of(tmp_path / "again"), atol=1e-4)
    with pytest.raises(InputError, match="another run"):
        validate(scenario, plan, rounds=4, out_dir=tmp_path / "stopped", resume=True, seed=1)
    assert other_seed.rounds[0].round == 0 and len(resumed.rounds) == 4
