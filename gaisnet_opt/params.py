"""`SolveParams`: every option of `solve`, `solve_split`, `solve_schedule` and `compare`, in one frozen value.

One value rather than a dozen keywords, so a scheduler can keep, log and
reuse what it asked for, and every entry point reads the same names
(docs/model.md §7, README "Solver contract"). A bad value is a pydantic
ValidationError naming the field.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, NonNegativeInt, PositiveInt

from gaisnet_opt.errors import InputError

DEFAULT_MAX_ARCS = 400_000
"""Segments and hops an exact model may have by default. Measured on generate(100, seed=7101), energy, K = 3,
CP-SAT: peak RSS 0.50 GB at 33k model variables, 1.08 GB at 236k (about 2.9 kB per variable: rows, CP-SAT's
model and search), the table about 0.6 kB per arc; so 400k arcs stay under about 1.7 GB even when pruning keeps
every arc. Past the cap the candidate limit is tightened until the table fits (`solvers.exact_table`)."""


class SolveParams(BaseModel):
    """What a solve may spend and how: time, threads, seed, gap, candidate limits, model-size cap, log, warm start."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time_limit_s: NonNegativeFloat | None = Field(
        default=30.0, description="wall seconds for the whole call, every phase included (None: no limit)")
    threads: PositiveInt = Field(default=1, description="exact solvers' worker threads")
    seed: int = Field(default=0, description="seed of the solvers, the heuristics and the local search")
    rel_gap: NonNegativeFloat = Field(default=1e-6, description="relative gap at which exact methods stop")
    candidates: PositiveInt | None = Field(
        default=None, description="exact methods: at most this many candidate clients per cluster (restricts the model)")
    radius: NonNegativeInt | None = Field(
        default=None, description="exact methods: candidates within this many hops of the start point")
    max_arcs: PositiveInt | None = Field(
        default=DEFAULT_MAX_ARCS, description="exact methods: at most this many segments and hops (bounds memory); "
        "past it the candidate limit is tightened (None: no cap)")
    log_file: str | None = Field(default=None, description="the exact solver's own log goes here")
    warm_start: bool = Field(default=True, description="hint the exact solver with the best heuristic plan")
    stop_at_floor: bool = Field(
        default=True, description="an exact method whose warm start meets the relaxation floor returns it as optimal")


def check_method(method: str, methods: Sequence[str], field_name: str = "method") -> None:
    """An unknown method is an InputError (a ValueError) naming the field, in every entry point (CLI: exit 2)."""
    if method not in methods:
        raise InputError("options", [(field_name, f"unknown '{method}'; choose one of {', '.join(methods)}")])
