"""`gaisnet-opt profile`, bad input, the shipped measured profiles, and the torch-free core."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gaisnet_opt.cli import app
from gaisnet_opt.profile import ModelProfile
from gaisnet_opt.profile_catalog import DEFAULT_PROFILE, builtin_profiles, load_profile
from gaisnet_opt.profilers.closed_form import closed_form_profile
from gaisnet_opt.profilers.config import DIGITS_VIT, VitConfig, config_for

SHIPPED = [f"vit_{size}_patch16_224-vpt50deep-c102" for size in ("tiny", "small", "base", "large")] + [DIGITS_VIT.profile_name]
TINY = ["--model", "vit_digits_patch2_8", "--prompts", "2", "--shallow", "--classes", "3", "--repeats", "1"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_profile_is_measured_and_within_half_a_percent(name: str) -> None:
    assert name in builtin_profiles()
    profile = load_profile(name)
    assert profile.provenance.method == "measured"
    assert {"torch", "timm", "fvcore"} <= set(profile.provenance.versions) and profile.provenance.host
    cfg = VitConfig.model_validate(profile.provenance.config)
    assert cfg.profile_name == name
    for ours, ref in zip(profile.units, closed_form_profile(cfg).units, strict=True):
        assert ours.name == ref.name
        for figure in ("fwd_flops", "bwd_flops"):
            reference = getattr(ref, figure)
            assert abs(getattr(ours, figure) - reference) <= 0.005 * reference, (name, ours.name, figure)
        assert (ours.out_bytes, ours.grad_bytes) == (ref.out_bytes, ref.grad_bytes)
        assert ours.fwd_time_s is not None and ours.fwd_time_s > 0


def test_default_profile_is_the_measured_vit_b16_and_no_placeholder_is_left() -> None:
    assert DEFAULT_PROFILE == "vit_base_patch16_224-vpt50deep-c102"
    assert load_profile().provenance.method == "measured"
    assert all(load_profile(n).provenance.method == "measured" for n in builtin_profiles())


def test_profile_command_prints_the_table_and_writes_the_profile(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    out = tmp_path / "p.json"
    result = CliRunner().invoke(app, ["profile", *TINY, "-o", str(out)])
    assert result.exit_code == 0, result.output
    for text in ("block_4", "head", "total", "GFLOP", "MB", "vit_digits_patch2_8-vpt2shallow-c3"):
        assert text in result.output
    profile = load_profile(out)
    assert profile.name == "vit_digits_patch2_8-vpt2shallow-c3"
    assert profile.provenance.config["prompts"] == 2 and profile.provenance.config["deep"] is False


def test_profile_to_stdout_is_pure_json() -> None:
    pytest.importorskip("torch")
    result = CliRunner().invoke(app, ["profile", *TINY, "-o", "-"])
    assert result.exit_code == 0
    assert ModelProfile.model_validate(json.loads(result.stdout)).units[-1].out_bytes == 12


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--model", "vit_base_patch15_224"], "patch_size"),
        (["--model", "vit_base_patch16_224", "--prompts", "-1"], "prompts"),
        (["--model", "vit_huge_patch14_224"], "model"),
        (["--model", "vit_digits_patch2_8", "--classes", "0"], "num_classes"),
    ],
)
def test_bad_model_exits_2_naming_the_field_and_writes_nothing(tmp_path: Path, args: list[str], named: str) -> None:
    out = tmp_path / "p.json"
    result = CliRunner().invoke(app, ["profile", *args, "-o", str(out)])
    assert result.exit_code == 2
    assert named in result.stderr and "Traceback" not in result.output + result.stderr
    assert not out.exists()


def test_checkpoint_shape_mismatch_exits_2(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from gaisnet_opt.profilers.prompted_vit import build_model

    ckpt = tmp_path / "w.pt"
    torch.save(build_model(config_for("vit_digits_patch2_8", num_classes=5)).state_dict(), ckpt)
    out = tmp_path / "p.json"
    result = CliRunner().invoke(app, ["profile", "--model", "vit_digits_patch2_8", "--checkpoint", str(ckpt), "-o", str(out)])
    assert result.exit_code == 2
    assert "head.fc.weight" in result.stderr and "(5, 64) in the file, the model needs (10, 64)" in result.stderr
    assert not out.exists()


def test_core_and_cli_work_without_torch() -> None:
    script = (
        "import sys\n"
        "for m in ('torch', 'timm', 'fvcore'):\n"
        "    sys.modules[m] = None\n"
        "import gaisnet_opt.profilers as p\n"
        "from gaisnet_opt.cli import app\n"
        "from gaisnet_opt.profile_catalog import load_profile\n"
        "assert p.closed_form_profile(p.DIGITS_VIT).units[0].name == 'embed'\n"
        "assert load_profile().provenance.method == 'measured'\n"
        "try:\n"
        "    p.profile_model\n"
        "except ImportError:\n"
        "    print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.stdout.strip() == "ok", done.stderr
