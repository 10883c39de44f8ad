"""Architecture of a prompted ViT: what both the closed-form and the measured profiler read."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator

from gaisnet_opt.errors import FieldProblem, fail, raise_problems

# Widths, depths and heads of timm's ViT/DeiT family (timm/models/vision_transformer.py
# and deit.py model definitions), all with mlp_ratio 4 and 3 input channels.
TIMM_ARCHS: dict[str, tuple[int, int, int]] = {
    "vit_tiny": (192, 12, 3),
    "vit_small": (384, 12, 6),
    "vit_base": (768, 12, 12),
    "vit_large": (1024, 24, 16),
    "deit_tiny": (192, 12, 3),
    "deit_small": (384, 12, 6),
    "deit_base": (768, 12, 12),
}


class VitConfig(BaseModel):
    """A ViT with P learnable prompt tokens (VPT), deep (a prompt before every layer) or shallow."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "vit"
    img_size: PositiveInt = 224
    patch_size: PositiveInt = 16
    in_chans: PositiveInt = 3
    embed_dim: PositiveInt = 768
    depth: PositiveInt = 12
    num_heads: PositiveInt = 12
    mlp_ratio: float = Field(default=4.0, gt=0)
    num_classes: PositiveInt = 1000
    prompts: int = Field(default=0, ge=0, description="prompt tokens per prompt module")
    deep: bool = True

    @model_validator(mode="after")
    def _shapes(self) -> VitConfig:
        problems = []
        if self.img_size % self.patch_size:
            problems.append(FieldProblem(("patch_size",), f"{self.patch_size} does not divide img_size {self.img_size}", self.patch_size))
        if self.embed_dim % self.num_heads:
            problems.append(FieldProblem(("num_heads",), f"{self.num_heads} does not divide embed_dim {self.embed_dim}", self.num_heads))
        raise_problems("VitConfig", problems)
        return self

    @property
    def patches(self) -> int:
        return (self.img_size // self.patch_size) ** 2

    @property
    def mlp_dim(self) -> int:
        return int(self.embed_dim * self.mlp_ratio)

    @property
    def seq_len(self) -> int:
        """Tokens inside every layer: class token, patches and prompts."""
        return 1 + self.patches + self.prompts

    @property
    def profile_name(self) -> str:
        """`<model>-vpt<P><deep|shallow>-c<C>`: the name of this config's profile (and its JSON file)."""
        return f"{self.name}-vpt{self.prompts}{'deep' if self.deep else 'shallow'}-c{self.num_classes}"

    def has_prompt(self, layer: int) -> bool:
        """Whether block `layer` (1-based) owns a prompt module."""
        return self.prompts > 0 and (self.deep or layer == 1)

    @classmethod
    def from_timm_name(cls, model: str, *, num_classes: int = 1000, prompts: int = 0, deep: bool = True) -> VitConfig:
        """Config of a timm name such as `vit_base_patch16_224` (no weights involved)."""
        match = re.fullmatch(r"(\w+?)_patch(\d+)_(\d+)", model)
        dims = TIMM_ARCHS.get(match.group(1)) if match else None
        if match is None or dims is None:
            known = ", ".join(f"{a}_patch16_224" for a in TIMM_ARCHS)
            fail("VitConfig", ("model",), f"unknown model '{model}'; known: {known}", model)
        width, depth, heads = dims
        return cls(
            name=model, img_size=int(match.group(3)), patch_size=int(match.group(2)), embed_dim=width,
            depth=depth, num_heads=heads, num_classes=num_classes, prompts=prompts, deep=deep,
        )


DIGITS_VIT = VitConfig(
    name="vit_digits_patch2_8", img_size=8, patch_size=2, in_chans=1, embed_dim=64, depth=4,
    num_heads=4, num_classes=10, prompts=4, deep=True,
)
"""The tiny prompted ViT the validator trains on scikit-learn digits (8×8 grayscale, 10 classes):
small enough to fine-tune for real on 2 CPU cores, same unit chain as ViT-B/16."""

NAMED_CONFIGS: dict[str, VitConfig] = {DIGITS_VIT.name: DIGITS_VIT}
"""Configs that are not timm models, reachable by name like timm names are."""


def config_for(
    model: str | VitConfig, *, prompts: int | None = None, deep: bool | None = None, num_classes: int | None = None,
) -> VitConfig:
    """The config of a timm name, a named config or a VitConfig, with the given fields replaced (and re-validated)."""
    if isinstance(model, VitConfig):
        base = model
    elif model in NAMED_CONFIGS:
        base = NAMED_CONFIGS[model]
    else:
        base = VitConfig.from_timm_name(model)
    changes = {k: v for k, v in (("prompts", prompts), ("deep", deep), ("num_classes", num_classes)) if v is not None}
    return VitConfig.model_validate(base.model_dump() | changes)
