"""This host's compute speed for the cost model, measured once and saved, then used to predict later runs.

The cost model prices a pass at o + FLOPs / F (backward: o + FLOPs / (η·F)).
`calibrate_host` measures it apart from any run: it trains and serves the
validator's model split every way one member can hold a contiguous range of
units, at the run's batch size and thread count, several times over, times
every pass as the run does (the first pass of each shape counted and not
timed, and each after a short idle spell, as a chain member waits for its
input before it computes), takes each member's median pass (others' work on a shared host slows
a pass now and then), and fits o, F and η by least squares of the seconds (a
round's compute is a sum of passes, which the large ones dominate). η stays
1 unless a backward efficiency of its own fits the data clearly better. A
backward pass is timed with the optimizer's step after it: the run spends
that time too, and the step's FLOPs are not counted.

A run given the saved calibration predicts its seconds with it on every node
(`on_host`); without one, the report fits the run's own passes and says that
its seconds are a fit, not a prediction.
"""

from __future__ import annotations

import datetime
import os
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field

from gaisnet_opt.host import host_description, package_versions
from gaisnet_opt.plan import cluster_from_counts
from gaisnet_opt.profile import ModelProfile
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.validator.data import Split, batch_indices, load_digits
from gaisnet_opt.validator.inference import InferenceChain
from gaisnet_opt.validator.meters import MemberMeter
from gaisnet_opt.validator.model import build_for
from gaisnet_opt.validator.split_chain import SplitChain, Units, Worker

IDLE_S = 0.01
"""idle before each timed pass, as a member of a chain waits for its input: measured here, a block's pass after 5 ms
idle took 35-45 % longer than one straight after another (the CPU leaves its fast state while it waits)"""
APART_GAIN = 0.9
"""η is fitted apart only if that cuts the residual's RMS to this share of the single-speed fit's or less."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PassPoint(_Record):
    """One member's typical timed pass: its FLOPs and seconds."""

    mode: Literal["training", "serving"] = "training"
    direction: Literal["forward", "backward"]
    units: str
    flops: float
    seconds: float


class SpeedFit(_Record):
    """Seconds per pass = o + FLOPs / F forward, o + FLOPs / (η·F) backward, and how well that fits."""

    flops_per_s: float = Field(gt=0)
    pass_overhead_s: float = Field(ge=0)
    bwd_efficiency: float = Field(default=1.0, gt=0)
    rms_s: float
    """the fit's residual, root mean square, in seconds per pass"""
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
    repeats: int
    load_average: float
    """this host's 1-minute load average when the measurement started (others' work slows it)"""
    points: list[PassPoint]
    single: SpeedFit
    """one speed for forward and backward"""
    fit: SpeedFit
    """the one used: `single`, or with a backward efficiency of its own where that fits clearly better"""


def meter_points(meters: Sequence[MemberMeter], mode: str) -> list[PassPoint]:
    """The mean timed pass of every member and direction (a backward with its optimizer step), `mode` "training"
    or "serving"."""
    out = []
    for m in meters:
        if not m.timed_passes:
            continue
        for direction, flops, passes, secs, timed in (("forward", m.fwd_flops, m.passes, m.fwd_s, m.timed_passes),
                                                      ("backward", m.bwd_flops, m.bwd_passes, m.bwd_s + m.step_s,
                                                       m.timed_bwd_passes)):
            if flops > 0 and secs > 0 and passes and timed:
                out.append(PassPoint(mode=mode, direction=direction, units=f"{m.first}..{m.last}",
                                     flops=flops / passes, seconds=secs / timed))
    return out


def _solve(rows: list[list[float]], targets: list[float]) -> list[float] | None:
    """Least squares of rows · x ≈ targets (normal equations; None if singular)."""
    n = len(rows[0])
    a = [[sum(r[i] * r[j] for r in rows) for j in range(n)] for i in range(n)]
    b = [sum(r[i] * t for r, t in zip(rows, targets)) for i in range(n)]
    try:
        x = torch.linalg.solve(torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64))
    except RuntimeError:
        return None
    return [float(v) for v in x]


def _rms(points: Sequence[PassPoint], fit: SpeedFit, relative: bool) -> float:
    errors = [(p.seconds - fit.seconds(p.direction, p.flops)) / (p.seconds if relative else 1.0) for p in points]
    return (sum(e * e for e in errors) / len(errors)) ** 0.5


def fit_speed(points: Sequence[PassPoint], apart: bool = False) -> SpeedFit | None:
    """o, F (and, `apart`, η) by least squares of the seconds: a round's compute is the sum of its passes, which the
    large ones dominate. o is held at 0 where the free fit would make it or a speed negative, or cannot separate it
    (one pass size only). None without points."""
    if not points:
        return None
    # rows (1, f [forward], f [backward]) · (o, 1/F, 1/(ηF)) ≈ t
    cols = [lambda p: 1.0, lambda p: p.flops if p.direction == "forward" or not apart else 0.0]
    cols += [lambda p: p.flops if p.direction == "backward" else 0.0] if apart else []
    for free in (cols, cols[1:]):
        x = _solve([[c(p) for c in free] for p in points], [p.seconds for p in points])
        if x is None:
            continue
        overhead, inverse = (x[0], x[1:]) if len(free) == len(cols) else (0.0, x)
        if overhead >= 0 and all(v > 0 for v in inverse):
            eff = inverse[0] / inverse[1] if apart else 1.0
            fit = SpeedFit(flops_per_s=1 / inverse[0], pass_overhead_s=overhead, bwd_efficiency=eff, rms_s=0,
                           rms_relative_error=0)
            return fit.model_copy(update={"rms_s": _rms(points, fit, False),
                                          "rms_relative_error": _rms(points, fit, True)})
    return None


def best_fit(points: Sequence[PassPoint]) -> tuple[SpeedFit, SpeedFit] | None:
    """(the single-speed fit, the one to use): backward apart only where that fits clearly better."""
    single, apart = fit_speed(points), fit_speed(points, apart=True)
    if single is None:
        return None
    if apart is not None and single.rms_s - apart.rms_s > max((1 - APART_GAIN) * single.rms_s, 1e-9):  # 1 ns: no gain
        return single, apart
    return single, single


def _ranges(n: int) -> list[list[int]]:
    """Unit counts of chains that give every contiguous range of units a member of its own."""
    return [[c for c in (first, last - first + 1, n - 1 - last) if c] for first in range(n) for last in range(first, n)]


Samples = defaultdict[tuple[str, str, str, float], list[float]]
"""(training or serving, direction, units, FLOPs per pass) -> seconds of every timed pass"""


def _time_passes(workers: Sequence[Worker], step: Callable[[int], object], steps: int, mode: str,
                 out: Samples) -> None:
    """Run `step` `steps` times, every member's timed passes into `out` (the first of each shape is not timed)."""
    for s in range(steps):
        before = [(w.meter.fwd_s, w.meter.bwd_s + w.meter.step_s, w.meter.timed_passes, w.meter.timed_bwd_passes)
                  for w in workers]
        step(s)
        for w, (fwd, bwd, timed_fwd, timed_bwd) in zip(workers, before):
            m, units = w.meter, f"{w.meter.first}..{w.meter.last}"
            if m.timed_passes > timed_fwd and m.fwd_flops:
                out[(mode, "forward", units, m.fwd_flops / m.passes)].append(m.fwd_s - fwd)
            if m.timed_bwd_passes > timed_bwd and m.bwd_flops:
                out[(mode, "backward", units, m.bwd_flops / m.bwd_passes)].append(m.bwd_s + m.step_s - bwd)


def _split_passes(units: Units, counts: list[int], pool: Split, batch: int, seed: int, optimizer: str,
                  steps: int, out: Samples) -> None:
    """One split of the units, trained and served, its passes into `out`."""
    members = cluster_from_counts("finetune", [f"m{i}" for i in range(len(counts))], counts).members
    chain, serving = SplitChain(units, members), InferenceChain(units, members)
    for w in (*chain.workers, *serving.workers):
        w.idle_s = IDLE_S
    chain.new_round(optimizer, 1e-3)
    at = lambda key, s: batch_indices(len(pool), batch, seed, key, s)
    _time_passes(chain.workers, lambda s: chain.train_step(pool.images[at("train", s)], pool.labels[at("train", s)]),
                 steps, "training", out)
    _time_passes(serving.workers, lambda s: serving.serve(pool.images[at("serve", s)], batch), steps, "serving", out)


def calibrate_host(profile: ModelProfile, *, batch: int = 32, threads: int = 1, steps: int = 5, repeats: int = 3,
                   seed: int = 0, optimizer: str = "adam") -> HostCalibration:
    """Measure this host on `profile`'s model (the validator's): every range of units on a member of its own,
    trained and served, `repeats` times over; each member's median pass is a point (the same member in several
    splits, once)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    load = os.getloadavg()[0]
    samples: Samples = defaultdict(list)
    try:
        model = build_for(profile, None, seed)
        pool = load_digits().pool
        for _ in range(repeats):  # interleaved, so a spell of others' work slows one repeat of a split, not all
            for counts in _ranges(profile.n_units):
                _split_passes(model.units(), counts, pool, batch, seed, optimizer, steps, samples)
    finally:
        torch.set_num_threads(previous)
    points = [PassPoint(mode=mode, direction=direction, units=units, flops=flops,
                        seconds=statistics.median(secs)) for (mode, direction, units, flops), secs in sorted(samples.items())]
    fits = best_fit(points)
    assert fits is not None  # every split has timed passes
    return HostCalibration(
        host=host_description(), versions=package_versions(("torch", "timm", "numpy")),
        measured_at=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"), profile=profile.name,
        batch=batch, threads=threads, steps=steps, repeats=repeats, load_average=load, points=points,
        single=fits[0], fit=fits[1],
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
