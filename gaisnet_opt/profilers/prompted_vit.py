"""A prompted ViT (VPT, Jia et al. 2022) on timm's VisionTransformer, built as the chain of units of docs/model.md §1.

The units are real sub-modules: `embed`, `block_1`..`block_N` (prompt i + frozen
layer i) and `head` (final norm + classifier). Run in order they are the whole
model, so the profiler measures exactly what the validator later places on
different clients, and the tensors returned by one unit are the smashed data
that cross to the next:

- `embed` emits the class token and the patch tokens (no prompts);
- a VPT-deep block inserts its P prompts after the class token and drops their
  outputs before returning (the next block brings its own); a VPT-shallow
  `block_1` inserts them once and they travel on;
- the last block returns only the class token, the one thing the head reads.

The backbone is frozen; the prompts and the classifier are tunable.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)  # timm's import calls the deprecated torch.jit.script
    from timm.models.vision_transformer import VisionTransformer

from gaisnet_opt.errors import InputError
from gaisnet_opt.profilers.config import VitConfig


class Embed(nn.Module):
    """Patch projection, class token and position embedding (frozen): the unit on the data source."""

    def __init__(self, vit: VisionTransformer):
        super().__init__()
        self.patch_embed = vit.patch_embed
        assert vit.cls_token is not None and vit.pos_embed is not None  # timm builds both for class_token=True
        self.cls_token: nn.Parameter = vit.cls_token
        self.pos_embed: nn.Parameter = vit.pos_embed

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        patches = self.patch_embed(images)
        cls = self.cls_token.expand(patches.shape[0], -1, -1)
        return torch.cat([cls, patches], dim=1) + self.pos_embed


class PromptedBlock(nn.Module):
    """Prompt module i (P tunable tokens, or none) and frozen Transformer layer i."""

    prompt: nn.Parameter | None

    def __init__(self, layer: nn.Module, dim: int, prompts: int, patch_dim: int, drop_prompts: int, class_only: bool):
        super().__init__()
        if prompts:
            # VPT's initialisation: Xavier-uniform over (patch dim -> width)
            bound = math.sqrt(6.0 / (patch_dim + dim))
            self.prompt = nn.Parameter(torch.empty(1, prompts, dim).uniform_(-bound, bound))
        else:
            self.register_parameter("prompt", None)
        self.layer = layer
        self.drop_prompts = drop_prompts
        self.class_only = class_only

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if self.prompt is not None:
            prompt = self.prompt.expand(tokens.shape[0], -1, -1)
            tokens = torch.cat([tokens[:, :1], prompt, tokens[:, 1:]], dim=1)
        tokens = self.layer(tokens)
        if self.class_only:
            return tokens[:, 0].clone()  # its own storage: a view would keep (and serialize) the whole sequence
        if self.drop_prompts:
            return torch.cat([tokens[:, :1], tokens[:, 1 + self.drop_prompts :]], dim=1)
        return tokens


class Head(nn.Module):
    """Final norm (frozen) and classifier (tunable) over the class token."""

    def __init__(self, vit: VisionTransformer):
        super().__init__()
        self.norm = vit.norm
        self.fc = vit.head

    def forward(self, cls: torch.Tensor) -> torch.Tensor:
        return self.fc(self.norm(cls))


class PromptedViT(nn.Module):
    """The whole model; its children, in order, are the units (`units()`), named as in the profile."""

    def __init__(self, cfg: VitConfig):
        super().__init__()
        self.cfg = cfg
        vit = VisionTransformer(
            img_size=cfg.img_size, patch_size=cfg.patch_size, in_chans=cfg.in_chans, num_classes=cfg.num_classes,
            embed_dim=cfg.embed_dim, depth=cfg.depth, num_heads=cfg.num_heads, mlp_ratio=cfg.mlp_ratio,
        )
        for layer in vit.blocks:
            # one attention kernel whatever TIMM_FUSED_ATTN says, so counts do not depend on the environment
            layer.attn.fused_attn = True  # type: ignore[union-attr]
        self.embed = Embed(vit)
        patch_dim = cfg.in_chans * cfg.patch_size**2
        for i, layer in enumerate(vit.blocks, start=1):
            last = i == cfg.depth
            prompts = cfg.prompts if cfg.has_prompt(i) else 0
            drop = cfg.prompts if cfg.deep and not last else 0
            self.add_module(f"block_{i}", PromptedBlock(layer, cfg.embed_dim, prompts, patch_dim, drop, last))
        self.head = Head(vit)
        for name, param in self.named_parameters():
            param.requires_grad_(is_tunable(name))

    def units(self) -> list[tuple[str, nn.Module]]:
        """(name, module) of every unit in chain order: `embed`, `block_1`..`block_N`, `head`."""
        return list(self.named_children())

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images
        for _, unit in self.units():
            x = unit(x)
        return x


def is_tunable(param_name: str) -> bool:
    """Whether a parameter (by its name in PromptedViT) is fine-tuned: prompts and the classifier."""
    return param_name.endswith(".prompt") or param_name.startswith("head.fc.")


def build_model(cfg: VitConfig, checkpoint: str | Path | None = None, seed: int = 0) -> PromptedViT:
    """A PromptedViT with seeded random weights (never downloaded), then `checkpoint` loaded if given."""
    torch.manual_seed(seed)
    model = PromptedViT(cfg)
    if checkpoint is not None:
        load_checkpoint(model, checkpoint)
    return model


# timm's VisionTransformer state-dict keys -> PromptedViT keys, so timm checkpoints load as they are
_TIMM_KEYS: tuple[tuple[str, str], ...] = (
    (r"patch_embed\.", "embed.patch_embed."),
    (r"(cls_token|pos_embed)$", r"embed.\1"),
    (r"norm\.", "head.norm."),
    (r"head\.(weight|bias)$", r"head.fc.\1"),
)


def _our_key(key: str) -> str:
    block = re.match(r"blocks\.(\d+)\.", key)
    if block:
        return f"block_{int(block.group(1)) + 1}.layer.{key[block.end():]}"
    for pattern, repl in _TIMM_KEYS:
        if re.match(pattern, key):
            return re.sub(pattern, repl, key, count=1)
    return key


def _read_state_dict(path: Path) -> Mapping[str, torch.Tensor]:
    source = str(path)
    if not path.is_file():
        raise InputError(source, [("checkpoint", "no such file")])
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state: object = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unreadable file is bad input, whatever the loader raised
        raise InputError(source, [("checkpoint", f"cannot read: {exc}")]) from None
    for wrapper in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(wrapper), dict):
            state = state[wrapper]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError(source, [("checkpoint", "not a state dict of tensors")])
    return state


def load_checkpoint(model: PromptedViT, path: str | Path) -> list[str]:
    """Load weights saved from a PromptedViT or a timm ViT (safetensors or torch.save).

    A backbone checkpoint need not hold the prompts or the classifier (they are
    what fine-tuning creates); any other missing, unexpected or wrongly shaped
    tensor is an InputError naming it, and nothing is loaded. Returns the
    tunable parameters left at their initial values.
    """
    path = Path(path)
    state = _read_state_dict(path)
    expected = model.state_dict()
    renamed = {_our_key(k): (k, v) for k, v in state.items()}
    problems: list[tuple[str, str]] = []
    for key, (file_key, tensor) in renamed.items():
        label = file_key if file_key == key else f"{file_key} (as {key})"
        if key not in expected:
            problems.append((label, "not a parameter of this model"))
        elif tensor.shape != expected[key].shape:
            problems.append((label, f"shape {tuple(tensor.shape)} in the file, the model needs {tuple(expected[key].shape)}"))
    missing = [k for k in expected if k not in renamed]
    problems += [(k, "missing from the file (a frozen backbone tensor)") for k in missing if not is_tunable(k)]
    if problems:
        raise InputError(str(path), problems)
    model.load_state_dict({k: v for k, (_, v) in renamed.items()}, strict=False)
    return missing
