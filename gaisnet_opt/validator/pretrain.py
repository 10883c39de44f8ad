"""The cloud's pre-training (paper §III.B): the whole tiny ViT trained on the digits `source` part.

Fine-tuning then starts from this backbone, frozen (VPT). The checkpoint
holds the backbone only: no prompts (the pre-trained model has none) and no
classifier (fine-tuning learns its own head, as VPT does for a new task).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch.nn import functional as F

from gaisnet_opt.io import atomic_write
from gaisnet_opt.profilers.config import DIGITS_VIT, VitConfig
from gaisnet_opt.profilers.prompted_vit import build_model
from gaisnet_opt.validator.data import load_digits

HEAD_PREFIX = "head.fc."


def pretrain(
    out: str | Path, *, epochs: int = 40, seed: int = 0, cfg: VitConfig = DIGITS_VIT, batch: int = 32, lr: float = 1e-3,
) -> tuple[float, float]:
    """Train on digits' source part and write the backbone as safetensors; returns (train loss, source accuracy) of the last epoch."""
    from safetensors.torch import save_file

    data = load_digits().source
    model = build_model(cfg.model_copy(update={"prompts": 0}), seed=seed)
    for p in model.parameters():
        p.requires_grad_(True)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.05)
    generator = torch.Generator().manual_seed(seed)
    loss_sum, correct = 0.0, 0
    for _ in range(epochs):
        loss_sum, correct = 0.0, 0
        for idx in torch.randperm(len(data), generator=generator).split(batch):
            logits = model(data.images[idx])
            loss = F.cross_entropy(logits, data.labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            correct += int((logits.argmax(1) == data.labels[idx]).sum())
    backbone = {k: v.contiguous() for k, v in model.state_dict().items() if not k.startswith(HEAD_PREFIX)}
    atomic_write(out, lambda tmp: save_file(backbone, str(tmp), metadata={"model": cfg.name, "epochs": str(epochs),
                                                                          "seed": str(seed)}))
    return loss_sum / len(data), correct / len(data)
