"""Bad inputs to a run are refused by name before anything is written."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from gaisnet_opt.errors import InputError  # noqa: E402
from gaisnet_opt.plan import Member, Plan, cluster_from_counts  # noqa: E402
from gaisnet_opt.profile_catalog import load_profile  # noqa: E402
from gaisnet_opt.profilers.closed_form import closed_form_profile  # noqa: E402
from gaisnet_opt.profilers.config import DIGITS_VIT  # noqa: E402
from gaisnet_opt.validator import validate  # noqa: E402
from gaisnet_opt.validator.checkpoint import CHECKPOINT  # noqa: E402
from tests.support.validator_worlds import digits_world, two_cluster_plan  # noqa: E402

torch.set_num_threads(1)

A = cluster_from_counts("finetune", ["c0", "c2", "e0"], [2, 3, 1])


def _refused(tmp_path, scenario, plan, match: str, **kwargs) -> None:
    out = tmp_path / "never"
    with pytest.raises(InputError, match="(?s)" + match):
        validate(scenario, plan, out_dir=out, **{"rounds": 1, **kwargs})
    assert not out.exists()  # nothing written


def test_bad_inputs_are_refused_by_name(tmp_path):
    scenario = digits_world()
    broken = Plan(clusters=(cluster_from_counts("finetune", ["c2", "c0"], [3, 3]),))  # c2 holds no data
    _refused(tmp_path, scenario, broken, r"plan.*start-point")
    gap = Plan(clusters=(A.model_copy(update={"members": (Member(node="c0", first=0, last=1), *A.members[1:2])}),))
    _refused(tmp_path, scenario, gap, r"embed-head")
    vit_b = digits_world(profile=load_profile())  # a plan for ViT-B/16: not what digits can train
    _refused(tmp_path, vit_b, Plan(clusters=(cluster_from_counts("finetune", ["c0", "e0"], [2, vit_b.profile.n_units - 2]),)),
             r"profile mismatch.*digits are \(1, 8, 8\)")
    wrong = closed_form_profile(DIGITS_VIT)
    units = list(wrong.units)
    units[2] = units[2].model_copy(update={"out_bytes": 1.0})
    _refused(tmp_path, digits_world(profile=wrong.model_copy(update={"units": tuple(units)})), two_cluster_plan(),
             r"profile mismatch.*units\[2\]\.out_bytes")
    _refused(tmp_path, scenario, two_cluster_plan(), r"no such folder", data=str(tmp_path / "missing"))
    _refused(tmp_path, scenario, two_cluster_plan(), r"checkpoint", checkpoint=tmp_path / "missing.safetensors")
    _refused(tmp_path, scenario, two_cluster_plan(), r"rounds.*at least one", rounds=0)
    (tmp_path / "torn").mkdir()
    (tmp_path / "torn" / CHECKPOINT).write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="cannot read"):
        validate(scenario, two_cluster_plan(), rounds=1, out_dir=tmp_path / "torn", resume=True)
