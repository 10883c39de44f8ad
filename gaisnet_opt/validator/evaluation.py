"""The aggregated model on held-out data, after every round."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from gaisnet_opt.validator.data import Split


def evaluate(model: nn.Module, data: Split, batch: int = 512) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of the whole model on held-out data."""
    loss, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(data), batch):
            logits = model(data.images[start : start + batch])
            labels = data.labels[start : start + batch]
            loss += F.cross_entropy(logits, labels, reduction="sum").item()
            correct += int((logits.argmax(1) == labels).sum())
    return loss / len(data), correct / len(data)
