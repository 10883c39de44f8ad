"""Measured activation memory: what autograd saves for backward, and the peak of live tensors in inference.

Both count tensor storages (views of one buffer count once) and leave out the
module's parameters, which the profile counts as parameter bytes.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves


def _storage_key(t: torch.Tensor) -> int:
    return t.untyped_storage().data_ptr()


def saved_bytes(run: Callable[[], object], exclude: Iterable[torch.Tensor]) -> int:
    """Bytes of the distinct storages autograd saves for backward while `run()` executes a forward."""
    skip = {_storage_key(t) for t in exclude}
    saved: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        key = _storage_key(t)
        if key not in skip:
            saved[key] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        run()
    return sum(saved.values())


class _PeakTracker(TorchDispatchMode):
    """Live bytes of the storages that ops create (freed when their last tensor dies), and their peak."""

    def __init__(self, skip: set[int]):
        super().__init__()
        self.skip = skip
        self.live: dict[int, int] = {}
        self.current = 0
        self.peak = 0

    def _free(self, key: int) -> None:
        self.current -= self.live.pop(key)

    def track(self, t: torch.Tensor) -> None:
        storage = t.untyped_storage()
        key = storage.data_ptr()
        if key in self.skip or key in self.live or storage.nbytes() == 0:
            return
        self.live[key] = storage.nbytes()
        self.current += storage.nbytes()
        self.peak = max(self.peak, self.current)
        weakref.finalize(storage, self._free, key)

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        out = func(*args, **(kwargs or {}))
        for leaf in tree_leaves(out):
            if isinstance(leaf, torch.Tensor):
                self.track(leaf)
        return out


def peak_bytes(run: Callable[[torch.Tensor], object], inputs: torch.Tensor, exclude: Iterable[torch.Tensor]) -> int:
    """Peak bytes of live tensors while `run(inputs)` executes, the input included."""
    tracker = _PeakTracker({_storage_key(t) for t in exclude})
    tracker.track(inputs)
    with tracker:
        run(inputs)
    return tracker.peak
