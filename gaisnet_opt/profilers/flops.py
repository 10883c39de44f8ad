"""Counted multiply-accumulates: fvcore for the forward, torch's FlopCounterMode for a real backward.

Both counters miss fused attention, the op timm's ViT runs: fvcore has no
handle for `aten::scaled_dot_product_attention`, and torch's counter knows the
CUDA kernels but not the CPU one (`aten._scaled_dot_product_flash_attention_for_cpu`
and its backward). We register torch's own attention formulas for them, so
both passes count attention the same way: Q·Kᵀ and A·V forward; backward
recomputes Q·Kᵀ (fused kernels keep no n×n matrix) and takes gradients of both
operands of both products. Only matrix products are counted (norms,
softmax, GELU and additions are not MACs), as in the closed form. Any matrix
op a counter does not know is an error, not a silent zero.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch.utils import flop_counter
from torch.utils._python_dispatch import TorchDispatchMode

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)  # fvcore's import calls the deprecated torch.jit.script
    from fvcore.nn import FlopCountAnalysis
    from fvcore.nn.flop_count import _DEFAULT_SUPPORTED_OPS
    from fvcore.nn.jit_handles import get_shape

aten = torch.ops.aten
Shape = tuple[int, ...]

_MATRIX_OP = re.compile(r"mm|matmul|conv|einsum|attention|(^|[.:])linear")
"""Op names that do multiply-accumulates; a counter must know every one it meets."""


def _attention(query: Shape, key: Shape, value: Shape, *args: Any, **kwargs: Any) -> int:
    return flop_counter.sdpa_flop_count(query, key, value)


def _attention_backward(grad_out: Shape, query: Shape, key: Shape, value: Shape, *args: Any, **kwargs: Any) -> int:
    return flop_counter.sdpa_backward_flop_count(grad_out, query, key, value)


CPU_ATTENTION_FORMULAS: dict[Any, Callable[..., int]] = {
    aten._scaled_dot_product_flash_attention_for_cpu: _attention,
    aten._scaled_dot_product_flash_attention_for_cpu_backward: _attention_backward,
}
"""torch's attention FLOP formulas, mapped onto the CPU kernels torch's counter lacks."""


def _check_known(counter: str, ops: Iterable[str]) -> None:
    missed = sorted(op for op in ops if _MATRIX_OP.search(op))
    if missed:
        raise RuntimeError(f"{counter} has no FLOP formula for {', '.join(missed)}: the count would be short")


def _fvcore_attention(inputs: list[Any], outputs: list[Any]) -> int:
    """fvcore handle (MACs) for `aten::scaled_dot_product_attention(q, k, v, ...)`."""
    q, k, v = (get_shape(x) for x in inputs[:3])
    return flop_counter.sdpa_flop_count(q, k, v) // 2


def fvcore_analysis(module: torch.nn.Module, inputs: tuple[torch.Tensor, ...], complete: bool = True) -> FlopCountAnalysis:
    """fvcore's analysis of `module(*inputs)`, quiet; `complete`: matrix products only, attention included.

    Without `complete` it is fvcore as shipped (norms counted, attention missed).
    """
    analysis = FlopCountAnalysis(module, inputs)
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False).tracer_warnings("none")
    if complete:
        matrix_handles = {op: h for op, h in _DEFAULT_SUPPORTED_OPS.items() if _MATRIX_OP.search(op)}
        analysis.clear_op_handles().set_op_handle(**matrix_handles, **{"aten::scaled_dot_product_attention": _fvcore_attention})
    return analysis


def forward_macs(module: torch.nn.Module, inputs: tuple[torch.Tensor, ...]) -> int:
    """Multiply-accumulates of one forward of `module(*inputs)`, for the whole batch."""
    analysis = fvcore_analysis(module, inputs)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # torch.jit.trace's deprecation notice
        total = analysis.total()
    _check_known("fvcore", analysis.unsupported_ops())
    return int(total)


class _OpsSeen(TorchDispatchMode):
    """Records the name of every aten op that runs."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: set[Any] = set()

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        self.ops.add(func.overloadpacket)
        return func(*args, **(kwargs or {}))


def counted_macs(run: Callable[[], object]) -> int:
    """Multiply-accumulates of whatever `run()` executes (e.g. a backward), from torch's FlopCounterMode."""
    counter = flop_counter.FlopCounterMode(display=False, custom_mapping=CPU_ATTENTION_FORMULAS)
    seen = _OpsSeen()
    with counter, seen:
        run()
    _check_known("torch FlopCounterMode", (str(op) for op in seen.ops if op not in counter.flop_registry))
    return counter.get_total_flops() // 2
