"""This host's compute speed for the cost model, measured once and saved, then used to predict later runs.

The cost model prices a pass at o + FLOPs / F (backward: o + FLOPs / (η·F)).
`calibrate_host` measures it apart from any run: it trains and serves the
validator's model split every way one member can hold a contiguous range of
units, at the run's batch size and thread count, times every pass as the run
does (the first pass of each shape counted and not timed), and fits o, F and
η by least squares of the relative error (a 0.3 MFLOP pass must count as much
as a 300 MFLOP one). η stays 1 unless a backward efficiency of its own fits
the data clearly better. A backward pass is timed with the optimizer's step
after it: the run spends that time too, and the step's FLOPs are not counted.

A run given the saved calibration predicts its seconds with it on every node
(`on_host`); without one, the report fits the run's own passes and says that
its seconds are a fit, not a prediction.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field

from gaisnet_opt.host import host_description, package_versions
from gaisnet_opt.plan import cluster_from_counts
from gaisnet_opt.profile import ModelProfile
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.validator.data import batch_indices, load_digits
from gaisnet_opt.validator.inference import InferenceChain
from gaisnet_opt.validator.meters import MemberMeter
from gaisnet_opt.validator.model import build_for
from gaisnet_opt.validator.split_chain import SplitChain

APART_GAIN = 0.9
"""η is fitted apart only if that cuts the relative error's RMS to this share of the single-speed fit's or less."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PassPoint(_Record):
    """One member's mean timed pass: its FLOPs and seconds."""

    direction: Literal["forward", "backward"]
    units: str
    flops: float
    seconds: float


class SpeedFit(_Record):
    """Seconds per pass = o + FLOPs / F forward, o + FLOPs / (η·F) backward, and how well that fits."""

    flops_per_s: float = Field(gt=0)
    pass_overhead_s: float = Field(ge=0)
    bwd_efficiency: float = Field(default=1.0, gt=0)
    rms_relative_error: float

    def seconds(self, direction: str, flops: float) -> float:
        speed = self.flops_per_s * (self.bwd_efficiency if direction == "backward" else 1.0)
        return self.pass_overhead_s + flops / speed


class HostCalibration(_Record):
    """A saved calibration: where and how it was measured, every point, the fit used and the single-speed one."""

    host: str
    versions: dict[str, str]
    measured_at: str
    profile: str
    batch: int
    threads: int
    steps: int
    load_average: float
    """this host's 1-minute load average when the measurement started (others' work slows it)"""
    points: list[PassPoint]
    single: SpeedFit
    """one speed for forward and backward"""
    fit: SpeedFit
    """the one used: `single`, or with a backward efficiency of its own where that fits clearly better"""


def meter_points(meters: Sequence[MemberMeter]) -> list[PassPoint]:
    """The mean timed pass of every member and direction (a backward with its optimizer step)."""
    out = []
    for m in meters:
        if not m.timed_passes:
            continue
        for direction, flops, passes, secs, timed in (("forward", m.fwd_flops, m.passes, m.fwd_s, m.timed_passes),
                                                      ("backward", m.bwd_flops, m.bwd_passes, m.bwd_s + m.step_s,
                                                       m.timed_bwd_passes)):
            if flops > 0 and secs > 0 and passes and timed:
                out.append(PassPoint(direction=direction, units=f"{m.first}..{m.last}",
                                     flops=flops / passes, seconds=secs / timed))
    return out


def _solve(rows: list[list[float]]) -> list[float] | None:
    """Least squares of rows · x ≈ 1 (normal equations; None if singular)."""
    n = len(rows[0])
    a = [[sum(r[i] * r[j] for r in rows) for j in range(n)] for i in range(n)]
    b = [sum(r[i] for r in rows) for i in range(n)]
    try:
        x = torch.linalg.solve(torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64))
    except RuntimeError:
        return None
    return [float(v) for v in x]


def _rms(points: Sequence[PassPoint], fit: SpeedFit) -> float:
    return (sum(((p.seconds - fit.seconds(p.direction, p.flops)) / p.seconds) ** 2 for p in points) / len(points)) ** 0.5


def fit_speed(points: Sequence[PassPoint], apart: bool = False) -> SpeedFit | None:
    """o, F (and, `apart`, η) minimizing the relative error; o is held at 0 where the free fit would make it or a
    speed negative, or cannot separate it (one pass size only). None without points."""
    if not points:
        return None
    # rows (1/t, f/t [forward], f/t [backward]) · (o, 1/F, 1/(ηF)) ≈ 1
    cols = [lambda p: 1.0, lambda p: p.flops if p.direction == "forward" or not apart else 0.0]
    cols += [lambda p: p.flops if p.direction == "backward" else 0.0] if apart else []
    for free in (cols, cols[1:]):
        x = _solve([[c(p) / p.seconds for c in free] for p in points])
        if x is None:
            continue
        overhead, inverse = (x[0], x[1:]) if len(free) == len(cols) else (0.0, x)
        if overhead >= 0 and all(v > 0 for v in inverse):
            eff = inverse[0] / inverse[1] if apart else 1.0
            fit = SpeedFit(flops_per_s=1 / inverse[0], pass_overhead_s=overhead, bwd_efficiency=eff, rms_relative_error=0)
            return fit.model_copy(update={"rms_relative_error": _rms(points, fit)})
    return None


def best_fit(points: Sequence[PassPoint]) -> tuple[SpeedFit, SpeedFit] | None:
    """(the single-speed fit, the one to use): backward apart only where that fits clearly better."""
    single, apart = fit_speed(points), fit_speed(points, apart=True)
    if single is None:
        return None
    if apart is not None and apart.rms_relative_error <= APART_GAIN * single.rms_relative_error:
        return single, apart
    return single, single


def _ranges(n: int) -> list[list[int]]:
    """Unit counts of chains that give every contiguous range of units a member of its own."""
    return [[c for c in (first, last - first + 1, n - 1 - last) if c] for first in range(n) for last in range(first, n)]


def calibrate_host(profile: ModelProfile, *, batch: int = 32, threads: int = 1, steps: int = 6, seed: int = 0,
                   optimizer: str = "adam") -> HostCalibration:
    """Measure this host on `profile`'s model (the validator's), every range of units on a member of its own."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    load = os.getloadavg()[0]
    try:
        model = build_for(profile, None, seed)
        pool = load_digits().pool
        meters: list[MemberMeter] = []
        for counts in _ranges(profile.n_units):
            members = cluster_from_counts("finetune", [f"m{i}" for i in range(len(counts))], counts).members
            chain = SplitChain(model.units(), members)
            chain.new_round(optimizer, 1e-3)
            for step in range(steps):
                idx = batch_indices(len(pool), batch, seed, "calibration", step)
                chain.train_step(pool.images[idx], pool.labels[idx])
            serving = InferenceChain(model.units(), members)
            for step in range(steps):
                serving.serve(pool.images[batch_indices(len(pool), batch, seed, "serving", step)], batch)
            meters += [w.meter for w in (*chain.workers, *serving.workers)]
    finally:
        torch.set_num_threads(previous)
    points = meter_points(meters)
    fits = best_fit(points)
    assert fits is not None  # every chain has timed passes
    return HostCalibration(
        host=host_description(), versions=package_versions(("torch", "timm", "numpy")),
        measured_at=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"), profile=profile.name,
        batch=batch, threads=threads, steps=steps, load_average=load, points=points, single=fits[0], fit=fits[1],
    )


def on_host(scenario: Scenario, fit: SpeedFit, time_scale: float = 1.0) -> Scenario:
    """The scenario as the testbed runs it: every node computing as this host (per cluster: an edge server keeps its
    slots) and every link at its rate divided by `time_scale`."""
    data = scenario.model_dump()
    for node in data["nodes"]:
        node["flops"] = fit.flops_per_s * max(1, node["slots"])  # undo effective_flops' division
        node["pass_overhead_s"] = fit.pass_overhead_s
        node["bwd_efficiency"] = fit.bwd_efficiency
    for link in data["d2d"]:
        link["rate_bps"] /= time_scale
    for link in data["server_links"]:
        link["uplink_bps"] /= time_scale
        link["downlink_bps"] /= time_scale
    return Scenario.model_validate(data)
