"""The model trained is the one the profile describes; a timm checkpoint is its frozen backbone."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from gaisnet_opt.plan import Plan, cluster_from_counts  # noqa: E402
from gaisnet_opt.profilers.config import DIGITS_VIT  # noqa: E402
from gaisnet_opt.validator import validate  # noqa: E402
from tests.support.validator_worlds import digits_world  # noqa: E402

torch.set_num_threads(1)

B = cluster_from_counts("finetune", ["c1", "c3"], [1, 5])


def test_a_timm_checkpoint_is_the_frozen_backbone(tmp_path):
    from timm.models.vision_transformer import VisionTransformer

    from gaisnet_opt.validator.model import build_for, digits_profile

    c = DIGITS_VIT
    timm_vit = VisionTransformer(img_size=c.img_size, patch_size=c.patch_size, in_chans=c.in_chans, num_classes=c.num_classes,
                                 embed_dim=c.embed_dim, depth=c.depth, num_heads=c.num_heads)
    torch.save(timm_vit.state_dict(), tmp_path / "timm.pth")
    model = build_for(digits_profile(), tmp_path / "timm.pth", seed=0)
    assert torch.equal(model.block_3.layer.mlp.fc1.weight, timm_vit.blocks[2].mlp.fc1.weight)
    assert torch.equal(model.embed.pos_embed, timm_vit.pos_embed)
    report = validate(digits_world(), Plan(clusters=(B,)), rounds=1, checkpoint=tmp_path / "timm.pth", out_dir=tmp_path / "o")
    assert report.config.checkpoint.endswith("timm.pth")
