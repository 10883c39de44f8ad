"""Resuming from the checkpoint ends where an uninterrupted run ends; a checkpoint of another run is refused."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from gaisnet_opt.errors import InputError  # noqa: E402
from gaisnet_opt.plan import Plan, cluster_from_counts  # noqa: E402
from gaisnet_opt.validator import Fault, validate  # noqa: E402
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


def test_resume_after_a_lost_member_keeps_it_lost(tmp_path):
    """The checkpoint records who was lost: a resumed run ends where an uninterrupted one with the same fault ends."""
    scenario, plan = digits_world(), two_cluster_plan()
    fault = [Fault(round=1, node="c3", iteration=1)]
    straight = validate(scenario, plan, rounds=3, out_dir=tmp_path / "straight", faults=fault)
    validate(scenario, plan, rounds=1, out_dir=tmp_path / "stopped", faults=fault)
    resumed = validate(scenario, plan, rounds=3, out_dir=tmp_path / "stopped", faults=fault, resume=True)
    assert same_state(state_of(tmp_path / "stopped"), state_of(tmp_path / "straight"))
    assert [r.failures for r in resumed.rounds] == [r.failures for r in straight.rounds]
    assert resumed.rounds[3].failures == ["cluster 1: member c3 is gone (lost in round 1)"]


def test_the_fingerprint_covers_the_backbone_content_not_its_path(tmp_path):
    from gaisnet_opt.validator.pretrain import pretrain

    scenario, plan = digits_world(), Plan(clusters=(cluster_from_counts("finetune", ["c1", "c3"], [2, 4]),))
    backbone = tmp_path / "backbone.safetensors"
    pretrain(backbone, epochs=1, seed=0)
    validate(scenario, plan, rounds=1, checkpoint=backbone, out_dir=tmp_path / "run")
    pretrain(backbone, epochs=1, seed=1)  # another backbone at the same path
    with pytest.raises(InputError, match="another run"):
        validate(scenario, plan, rounds=2, checkpoint=backbone, out_dir=tmp_path / "run", resume=True)
