"""Data for the validator: scikit-learn's bundled digits (no download) or a local image folder.

The split is fixed (seed `SPLIT_SEED`, whatever the run's seed), so
`gaisnet-opt pretrain` and `validate` agree on it: the cloud pre-trains on
the `source` part, clients draw their local data from the `pool` part, and
every round is evaluated on the held-out `test` part. Each data-source
client's samples stay with it, at its chain's start point.

Partitions (paper Table III studies the non-IID case):
- `classes`: the scenario's own statement, `samples` drawn from the client's `classes`;
- `iid`: `samples` drawn from all classes;
- `dirichlet`: class shares drawn from Dirichlet(alpha), then `samples` by those shares.
Within a client the draw is without replacement while its classes last;
different clients may share samples when the pool is smaller than their sum
(digits is small).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from gaisnet_opt.errors import InputError
from gaisnet_opt.profilers.config import VitConfig
from gaisnet_opt.scenario import DataSource

Partition = Literal["classes", "iid", "dirichlet"]

SPLIT_SEED = 0
TEST_FRACTION = 0.2
SOURCE_FRACTION = 0.5
"""share of the non-test data kept by the cloud for pre-training (digits only; a folder is all pool)"""

DIGITS = "digits"


@dataclass(frozen=True)
class Split:
    """Images (N, C, H, W) float32 and labels (N,) int64."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, idx: np.ndarray) -> Split:
        index = torch.as_tensor(idx, dtype=torch.long)
        return Split(self.images[index], self.labels[index])


@dataclass(frozen=True)
class Dataset:
    """The three fixed parts of a data set, and its number of classes."""

    name: str
    source: Split
    pool: Split
    test: Split
    classes: int


def _stratified(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a stratified (rest, part) split with `fraction` of every class in `part`."""
    rng = np.random.default_rng(seed)
    part: list[int] = []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        part += idx[: round(fraction * len(idx))].tolist()
    chosen = np.zeros(len(labels), dtype=bool)
    chosen[part] = True
    return np.flatnonzero(~chosen), np.flatnonzero(chosen)


def _split(whole: Split, name: str, classes: int, source_fraction: float) -> Dataset:
    labels = whole.labels.numpy()
    rest, test = _stratified(labels, TEST_FRACTION, SPLIT_SEED)
    pool, source = _stratified(labels[rest], source_fraction, SPLIT_SEED + 1)
    return Dataset(name, whole.take(rest[source]), whole.take(rest[pool]), whole.take(test), classes)


def load_digits() -> Dataset:
    """scikit-learn's 1797 8×8 digits (shipped with the library), scaled to [0, 1], as 1-channel images."""
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    images = torch.tensor(bunch.images / 16.0, dtype=torch.float32).unsqueeze(1)
    return _split(Split(images, torch.tensor(bunch.target, dtype=torch.long)), DIGITS, 10, SOURCE_FRACTION)


def load_folder(path: str | Path, cfg: VitConfig) -> Dataset:
    """A torchvision ImageFolder tree (one sub-folder per class), resized to the model's input."""
    from torchvision import datasets, transforms

    root = Path(path)
    if not root.is_dir():
        raise InputError(str(root), [("data", "no such folder (expected an ImageFolder tree: one sub-folder per class)")])
    steps = [transforms.Resize((cfg.img_size, cfg.img_size))]
    if cfg.in_chans == 1:
        steps.append(transforms.Grayscale(1))
    elif cfg.in_chans != 3:
        raise InputError(str(root), [("data", f"the model takes {cfg.in_chans} channels; image folders give 1 or 3")])
    try:
        folder = datasets.ImageFolder(str(root), transform=transforms.Compose([*steps, transforms.ToTensor()]))
    except (FileNotFoundError, OSError) as exc:
        raise InputError(str(root), [("data", str(exc))]) from None
    if len(folder.classes) != cfg.num_classes:
        raise InputError(str(root), [("data", f"{len(folder.classes)} class folders, the profile's model has {cfg.num_classes} classes")])
    images = torch.stack([folder[i][0] for i in range(len(folder))])
    labels = torch.tensor(folder.targets, dtype=torch.long)
    return _split(Split(images, labels), str(root), cfg.num_classes, 0.0)


def load_data(data: str | Path, cfg: VitConfig) -> Dataset:
    """`digits` or an image folder, checked against the model the profile describes."""
    if str(data) != DIGITS:
        return load_folder(data, cfg)
    shape = (cfg.in_chans, cfg.img_size, cfg.img_size)
    if shape != (1, 8, 8) or cfg.num_classes != 10:
        raise InputError("profile mismatch", [(
            "scenario.profile.provenance.config",
            f"model '{cfg.name}' takes {shape} images in {cfg.num_classes} classes; digits are (1, 8, 8) in 10",
        )])
    return load_digits()


def _key(seed: int, node: str) -> list[int]:
    return [seed, zlib.crc32(node.encode())]


def partition(
    pool: Split, sources: dict[str, DataSource], scheme: Partition = "classes", seed: int = 0, alpha: float = 0.5,
) -> dict[str, Split]:
    """Each data source's local samples, reproducible from `seed` and its node id."""
    labels = pool.labels.numpy()
    classes = int(labels.max()) + 1
    by_class = [np.flatnonzero(labels == c) for c in range(classes)]
    out = {}
    for node, source in sources.items():
        bad = [c for c in source.classes if not 0 <= c < classes]
        if bad:
            raise InputError("scenario", [(f"nodes[{node}].data.classes", f"labels {bad} are not classes 0..{classes - 1} of the data")])
        rng = np.random.default_rng(_key(seed, node))
        if scheme == "classes":
            counts = _even(source.samples, [len(by_class[c]) for c in source.classes])
            picks = [rng.choice(by_class[c], size=n, replace=False) for c, n in zip(source.classes, counts)]
        elif scheme == "iid":
            picks = [rng.choice(len(labels), size=min(source.samples, len(labels)), replace=False)]
        else:
            shares = rng.dirichlet(np.full(classes, alpha))
            wanted = rng.multinomial(source.samples, shares)
            picks = [rng.choice(by_class[c], size=min(n, len(by_class[c])), replace=False) for c, n in enumerate(wanted)]
        out[node] = pool.take(np.sort(np.concatenate(picks)))
    return out


def _even(total: int, available: list[int]) -> list[int]:
    """`total` spread as evenly as possible over classes, none above what it has."""
    counts = [0] * len(available)
    left = min(total, sum(available))
    while left:
        open_ = [i for i, a in enumerate(available) if counts[i] < a]
        share, extra = divmod(left, len(open_))
        for j, i in enumerate(open_):
            give = min(share + (j < extra), available[i] - counts[i])
            counts[i] += give
            left -= give
    return counts


def batch_indices(n: int, batch: int, seed: int, node: str, step: int) -> np.ndarray:
    """Indices of a client's batch at `step`: epochs of seeded permutations, always `batch` samples.

    Stateless in `step`, so a resumed run draws exactly the batches an uninterrupted one does.
    """
    positions = np.arange(step * batch, (step + 1) * batch)
    epochs = positions // n
    out = np.empty(batch, dtype=np.int64)
    for e in np.unique(epochs):
        perm = np.random.default_rng([*_key(seed, node), int(e)]).permutation(n)
        mask = epochs == e
        out[mask] = perm[positions[mask] % n]
    return out
