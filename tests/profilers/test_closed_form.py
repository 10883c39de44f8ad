"""The closed-form ViT figures against published model sizes (timm model cards)."""

from __future__ import annotations

import pytest

from gaisnet_opt.errors import InputError
from gaisnet_opt.profile_catalog import DEFAULT_PROFILE, builtin_profiles, load_profile
from gaisnet_opt.profilers.closed_form import closed_form_profile
from gaisnet_opt.profilers.config import VitConfig


@pytest.mark.parametrize(
    ("model", "gmacs", "params"),
    [  # timm model cards: GMACs; parameter counts of timm's vit_*_patch16_224 with 1000 classes
        ("vit_tiny_patch16_224", 1.3, 5_717_416),
        ("vit_small_patch16_224", 4.6, 22_050_664),
        ("vit_base_patch16_224", 17.6, 86_567_656),
    ],
)
def test_matches_model_cards(model, gmacs, params):
    p = closed_form_profile(VitConfig.from_timm_name(model))
    assert sum(u.fwd_macs for u in p.units) / 1e9 == pytest.approx(gmacs, rel=0.04)
    assert sum(u.frozen_param_bytes + u.tunable_param_bytes for u in p.units) / 4 == params


def test_prompts_cross_no_hop_in_deep_but_do_in_shallow():
    deep = closed_form_profile(VitConfig.from_timm_name("vit_tiny_patch16_224", prompts=10))
    shallow = closed_form_profile(VitConfig.from_timm_name("vit_tiny_patch16_224", prompts=10, deep=False))
    d = 192
    assert deep.units[1].out_bytes == (1 + 196) * d * 4
    assert shallow.units[1].out_bytes == (1 + 196 + 10) * d * 4
    assert deep.units[-2].out_bytes == shallow.units[-2].out_bytes == d * 4  # the class token only
    assert deep.units[0].grad_bytes == 0 and deep.units[0].bwd_flops == 0
    assert sum(u.tunable_param_bytes > 0 for u in deep.units) == 12 + 1
    assert sum(u.tunable_param_bytes > 0 for u in shallow.units) == 1 + 1


def test_builtin_default_loads():
    assert DEFAULT_PROFILE in builtin_profiles()
    p = load_profile()
    assert p.name == DEFAULT_PROFILE and p.n_units == 14


def test_bad_configs_name_the_field():
    with pytest.raises(ValueError, match="patch_size"):
        VitConfig(img_size=224, patch_size=15)
    with pytest.raises(ValueError, match="prompts"):
        VitConfig(prompts=-1)
    with pytest.raises(ValueError, match="unknown model 'vit_giant_patch16_224'"):
        VitConfig.from_timm_name("vit_giant_patch16_224")
    with pytest.raises(InputError, match="neither a built-in profile"):
        load_profile("no-such-profile")
