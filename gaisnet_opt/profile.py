"""The model profile (docs/model.md §1): a prompted ViT as an ordered chain of units.

Every figure is per sample and in SI units (FLOPs, bytes, seconds), so the
cost model can scale by batch size and device speed without guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, model_validator

NonNeg = NonNegativeFloat


class Unit(BaseModel):
    """One unit of the chain: `embed`, `block_i` (prompt i + layer i) or `head`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    fwd_flops: NonNeg = Field(description="forward FLOPs per sample")
    bwd_flops: NonNeg = Field(description="backward FLOPs per sample, frozen backbone")
    fwd_macs: NonNeg = Field(description="forward multiply-accumulates per sample")
    bwd_macs: NonNeg = Field(description="backward multiply-accumulates per sample")
    out_bytes: NonNeg = Field(description="bytes per sample crossing to the next unit; for the last unit, the result")
    grad_bytes: NonNeg = Field(description="bytes per sample of the gradient sent back into this unit's output")
    frozen_param_bytes: NonNeg
    tunable_param_bytes: NonNeg
    train_mem_bytes: NonNeg = Field(description="activation bytes per sample saved for backward")
    infer_mem_bytes: NonNeg = Field(description="peak working activation bytes per sample in inference")
    fwd_time_s: NonNeg | None = Field(default=None, description="measured forward seconds per sample on the provenance host")
    bwd_time_s: NonNeg | None = Field(default=None, description="measured backward seconds per sample on the provenance host")


class Provenance(BaseModel):
    """Where a profile's figures come from, so a reader can trust or redo them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["closed-form", "measured"]
    model: str = Field(description="timm model name or architecture label")
    config: dict[str, int | float | str | bool] = Field(default_factory=dict)
    versions: dict[str, str] = Field(default_factory=dict)
    host: str | None = None
    date: str | None = None
    note: str | None = None


class ModelProfile(BaseModel):
    """Ordered units from the input embedding to the classifier head."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    bytes_per_value: int = Field(default=4, gt=0, description="bytes per tensor element (4 for fp32)")
    units: tuple[Unit, ...] = Field(min_length=2)
    provenance: Provenance

    @model_validator(mode="after")
    def _unique_names(self) -> ModelProfile:
        names = [u.name for u in self.units]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"units: unit names must be unique, repeated: {', '.join(dup)}")
        return self

    @property
    def n_units(self) -> int:
        return len(self.units)

    @cached_property
    def prefix(self) -> PrefixSums:
        """Cumulative sums over units, so any range's total costs O(1) (solvers call this a lot)."""
        return PrefixSums.of(self.units)

    def index(self, name: str) -> int:
        """Position of the unit called `name`."""
        for i, u in enumerate(self.units):
            if u.name == name:
                return i
        raise KeyError(name)


@dataclass(frozen=True)
class PrefixSums:
    """`x[j] - x[i]` is the sum of a figure over units i..j-1."""

    fwd_flops: tuple[float, ...]
    bwd_flops: tuple[float, ...]
    frozen_param_bytes: tuple[float, ...]
    tunable_param_bytes: tuple[float, ...]
    train_mem_bytes: tuple[float, ...]

    @classmethod
    def of(cls, units: tuple[Unit, ...]) -> PrefixSums:
        def cum(attr: str) -> tuple[float, ...]:
            return tuple(accumulate((getattr(u, attr) for u in units), initial=0.0))

        return cls(*(cum(f) for f in ("fwd_flops", "bwd_flops", "frozen_param_bytes", "tunable_param_bytes", "train_mem_bytes")))

    def total(self, figure: str, first: int, last: int) -> float:
        """Sum of `figure` over units first..last inclusive."""
        x = getattr(self, figure)
        return x[last + 1] - x[first]
