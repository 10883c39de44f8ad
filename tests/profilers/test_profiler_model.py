"""The prompted ViT's units: they are the model, they match timm and an independent VPT, they split cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
from safetensors.torch import save_file  # noqa: E402
from timm.models.vision_transformer import VisionTransformer  # noqa: E402

from gaisnet_opt.errors import InputError  # noqa: E402
from gaisnet_opt.profilers.config import VitConfig  # noqa: E402
from gaisnet_opt.profilers.prompted_vit import PromptedViT, build_model, load_checkpoint  # noqa: E402

SMALL = dict(img_size=16, patch_size=4, in_chans=3, embed_dim=32, depth=3, num_heads=4, num_classes=5)


def small(prompts: int, deep: bool) -> VitConfig:
    return VitConfig(name="small", prompts=prompts, deep=deep, **SMALL)


def timm_vit(cfg: VitConfig) -> VisionTransformer:
    torch.manual_seed(1)
    return VisionTransformer(
        img_size=cfg.img_size, patch_size=cfg.patch_size, in_chans=cfg.in_chans, num_classes=cfg.num_classes,
        embed_dim=cfg.embed_dim, depth=cfg.depth, num_heads=cfg.num_heads, mlp_ratio=cfg.mlp_ratio,
    ).eval()


def vpt_reference(vit: VisionTransformer, prompts: list[torch.Tensor | None], deep: bool, images: torch.Tensor) -> torch.Tensor:
    """VPT as Jia et al. write it, on timm's own forward pieces: deep prompts replace the previous ones."""
    tokens = vit._pos_embed(vit.patch_embed(images))
    for i, block in enumerate(vit.blocks):
        if prompts[i] is not None:
            if deep and i > 0:
                tokens = torch.cat([tokens[:, :1], tokens[:, 1 + prompts[i].shape[1]:]], dim=1)
            tokens = torch.cat([tokens[:, :1], prompts[i].expand(len(tokens), -1, -1), tokens[:, 1:]], dim=1)
        tokens = block(tokens)
    return vit.forward_head(vit.norm(tokens))


@pytest.fixture
def timm_checkpoint(tmp_path: Path) -> tuple[VisionTransformer, Path]:
    vit = timm_vit(small(0, True))
    path = tmp_path / "vit.safetensors"
    save_file({k: v.contiguous() for k, v in vit.state_dict().items()}, str(path))
    return vit, path


def test_units_are_named_in_chain_order() -> None:
    model = build_model(small(2, True))
    assert [name for name, _ in model.units()] == ["embed", "block_1", "block_2", "block_3", "head"]
    tunable = sorted(n for n, p in model.named_parameters() if p.requires_grad)
    assert tunable == ["block_1.prompt", "block_2.prompt", "block_3.prompt", "head.fc.bias", "head.fc.weight"]


def test_shallow_has_one_prompt_module() -> None:
    model = build_model(small(3, False))
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["block_1.prompt", "head.fc.weight", "head.fc.bias"]


@pytest.mark.parametrize(("prompts", "deep"), [(0, True), (3, True), (3, False)])
def test_matches_timm_and_independent_vpt(timm_checkpoint: tuple[VisionTransformer, Path], prompts: int, deep: bool) -> None:
    vit, path = timm_checkpoint
    model = build_model(small(prompts, deep), checkpoint=path).eval()
    images = torch.randn(3, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    prompt_tensors = [getattr(model, f"block_{i}").prompt for i in range(1, 4)]
    with torch.no_grad():
        ours = model(images)
        reference = vpt_reference(vit, prompt_tensors, deep, images)
        if prompts == 0:
            torch.testing.assert_close(ours, vit(images), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("prompts", "deep"), [(3, True), (3, False)])
def test_split_hop_by_hop_equals_whole_model_with_gradients(prompts: int, deep: bool) -> None:
    """Running each unit on a detached copy and handing gradients back gives the whole model's outputs and gradients."""
    cfg = small(prompts, deep)
    images = torch.randn(4, 3, 16, 16, generator=torch.Generator().manual_seed(2))
    labels = torch.tensor([0, 1, 2, 3])

    whole = build_model(cfg)
    loss = torch.nn.functional.cross_entropy(whole(images), labels)
    loss.backward()

    split = build_model(cfg)
    received, sent, x = [], [], images
    for _, unit in split.units():
        inp = x.detach().requires_grad_(bool(received))  # embed needs no gradient into its input
        out = unit(inp)
        received.append(inp)
        sent.append(out)
        x = out
    split_loss = torch.nn.functional.cross_entropy(x, labels)
    grad = torch.autograd.grad(split_loss, x)[0]
    for k in reversed(range(1, len(sent))):
        sent[k].backward(grad)
        grad = received[k].grad
        assert grad.shape == sent[k - 1].shape
    torch.testing.assert_close(split_loss, loss)
    for (name, p), (_, q) in zip(whole.named_parameters(), split.named_parameters()):
        if p.requires_grad:
            torch.testing.assert_close(q.grad, p.grad, rtol=1e-5, atol=1e-6, msg=name)


def test_last_block_sends_only_the_class_token_in_its_own_storage() -> None:
    model = build_model(small(2, True))
    tokens = model.embed(torch.randn(2, 3, 16, 16))
    for name in ("block_1", "block_2", "block_3"):
        tokens = getattr(model, name)(tokens)
    assert tokens.shape == (2, 32)
    assert tokens.untyped_storage().nbytes() == tokens.numel() * tokens.element_size()


def test_checkpoint_roundtrip_keeps_prompts(tmp_path: Path) -> None:
    source = build_model(small(2, True), seed=5)
    path = tmp_path / "vpt.pt"
    torch.save(source.state_dict(), path)
    target = build_model(small(2, True), seed=6)
    assert load_checkpoint(target, path) == []
    for (name, a), (_, b) in zip(source.state_dict().items(), target.state_dict().items()):
        assert torch.equal(a, b), name


def test_backbone_checkpoint_leaves_tunables(timm_checkpoint: tuple[VisionTransformer, Path]) -> None:
    _, path = timm_checkpoint
    full = {k: v for k, v in timm_vit(small(0, True)).state_dict().items() if not k.startswith("head.")}
    backbone = path.with_name("backbone.safetensors")
    save_file({k: v.contiguous() for k, v in full.items()}, str(backbone))
    assert load_checkpoint(PromptedViT(small(2, True)), backbone) == [
        "block_1.prompt", "block_2.prompt", "block_3.prompt", "head.fc.weight", "head.fc.bias",
    ]


def test_checkpoint_shape_mismatch_names_the_parameter(timm_checkpoint: tuple[VisionTransformer, Path]) -> None:
    _, path = timm_checkpoint
    model = PromptedViT(VitConfig(name="small", prompts=0, **(SMALL | {"num_classes": 7})))
    before = model.head.fc.weight.clone()
    with pytest.raises(InputError) as err:
        load_checkpoint(model, path)
    problems = dict(err.value.problems)
    assert set(problems) == {"head.weight (as head.fc.weight)", "head.bias (as head.fc.bias)"}
    assert "(5, 32) in the file, the model needs (7, 32)" in problems["head.weight (as head.fc.weight)"]
    assert torch.equal(model.head.fc.weight, before)  # nothing loaded


def test_checkpoint_unexpected_missing_and_unreadable(tmp_path: Path) -> None:
    model = PromptedViT(small(0, True))
    state = model.state_dict()
    state["dist_token"] = torch.zeros(1, 1, 32)
    del state["block_2.layer.mlp.fc1.weight"]
    path = tmp_path / "bad.pt"
    torch.save(state, path)
    with pytest.raises(InputError) as err:
        load_checkpoint(model, path)
    assert dict(err.value.problems) == {
        "dist_token": "not a parameter of this model",
        "block_2.layer.mlp.fc1.weight": "missing from the file (a frozen backbone tensor)",
    }
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"not a checkpoint")
    for bad in (garbage, tmp_path / "absent.pt"):
        with pytest.raises(InputError):
            load_checkpoint(model, bad)
