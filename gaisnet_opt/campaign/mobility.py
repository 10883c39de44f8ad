"""Client mobility between rounds: Random Waypoint, Gauss-Markov, or none; seeded, inside the area.

- Random Waypoint (D. B. Johnson, D. A. Maltz, "Dynamic Source Routing in Ad
  Hoc Wireless Networks", Mobile Computing, 1996; T. Camp, J. Boleng,
  V. Davies, "A Survey of Mobility Models for Ad Hoc Network Research",
  WCMC 2(5), 2002, §2.2): each client walks to a waypoint drawn uniformly in
  the area at a speed drawn uniformly in [lo, hi], pauses a uniform time,
  and draws the next. Clients start at their scenario positions, not at the
  model's stationary distribution (W. Navidi, T. Camp, IEEE TMC 2004), and
  the minimum speed is positive (J. Yoon, M. Liu, B. Noble, INFOCOM 2003).
- Gauss-Markov (B. Liang, Z. J. Haas, "Predictive Distance-Based Mobility
  Management for PCS Networks", INFOCOM 1999; Camp et al. §2.5): every
  `step_s`, s ← α·s + (1-α)·s̄ + √(1-α²)·σ_s·w and likewise the direction,
  then the client moves s·τ along it. At the area's border the client is
  reflected (position, direction and its mean), where Camp et al. instead
  steer the mean direction away from the edge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from gaisnet_opt.campaign.spec import GaussMarkov, Mobility, RandomWaypoint, Static
from gaisnet_opt.campaign.world import Box


@dataclass(frozen=True)
class Motion:
    """Where each client is and where it is going (arrays over clients, scenario order)."""

    xy: np.ndarray
    target: np.ndarray
    speed: np.ndarray
    heading: np.ndarray
    mean_heading: np.ndarray
    pause_s: np.ndarray


def _uniform_points(rng: np.random.Generator, n: int, area: Box) -> np.ndarray:
    x0, y0, x1, y1 = area
    return np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])


def start(model: Mobility, xy: np.ndarray, area: Box, rng: np.random.Generator) -> Motion:
    """The motion state in round 1: clients at `xy`, their first waypoint, speed and heading drawn."""
    n = len(xy)
    speed = np.zeros(n)
    if isinstance(model, RandomWaypoint):
        speed = rng.uniform(*model.speed_mps, n)
    elif isinstance(model, GaussMarkov):
        speed = np.full(n, model.mean_speed_mps)
    heading = rng.uniform(-math.pi, math.pi, n)
    return Motion(xy=xy.astype(float).copy(), target=_uniform_points(rng, n, area), speed=speed, heading=heading,
                  mean_heading=heading.copy(), pause_s=np.zeros(n))


def advance(model: Mobility, m: Motion, seconds: float, area: Box, rng: np.random.Generator) -> Motion:
    """The motion `seconds` later."""
    if isinstance(model, Static):
        return m
    if isinstance(model, RandomWaypoint):
        return _waypoint(model, m, seconds, area, rng)
    return _gauss_markov(model, m, seconds, area, rng)


def _waypoint(model: RandomWaypoint, m: Motion, seconds: float, area: Box, rng: np.random.Generator) -> Motion:
    xy, target, speed, pause = m.xy.copy(), m.target.copy(), m.speed.copy(), m.pause_s.copy()
    for i in range(len(xy)):
        left = seconds
        while left > 0:
            if pause[i] > 0:
                waited = min(pause[i], left)
                pause[i] -= waited
                left -= waited
                continue
            gap = target[i] - xy[i]
            dist = float(np.hypot(*gap))
            if speed[i] * left < dist:
                xy[i] += gap * (speed[i] * left / dist)
                break
            xy[i] = target[i]
            left -= dist / speed[i]
            target[i] = _uniform_points(rng, 1, area)[0]
            speed[i] = rng.uniform(*model.speed_mps)
            pause[i] = rng.uniform(*model.pause_s)
    return replace(m, xy=xy, target=target, speed=speed, pause_s=pause)


def _gauss_markov(model: GaussMarkov, m: Motion, seconds: float, area: Box, rng: np.random.Generator) -> Motion:
    steps = max(1, round(seconds / model.step_s))
    tau, a = seconds / steps, model.memory
    noise = math.sqrt(1 - a * a)
    xy, speed, heading, mean = m.xy.copy(), m.speed.copy(), m.heading.copy(), m.mean_heading.copy()
    for _ in range(steps):
        xy += tau * np.column_stack([speed * np.cos(heading), speed * np.sin(heading)])
        xy, heading, mean = _reflect(xy, heading, mean, area)
        w = rng.standard_normal((2, len(xy)))
        speed = np.maximum(0.0, a * speed + (1 - a) * model.mean_speed_mps + noise * model.speed_sd_mps * w[0])
        heading = a * heading + (1 - a) * mean + noise * model.direction_sd_rad * w[1]
    return replace(m, xy=xy, speed=speed, heading=heading, mean_heading=mean)


def _reflect(xy: np.ndarray, heading: np.ndarray, mean: np.ndarray, area: Box) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mirror positions that left the area back in, and their directions with them (x walls: π - θ; y walls: -θ)."""
    x0, y0, x1, y1 = area
    for axis, lo, hi, mirror in ((0, x0, x1, lambda t: math.pi - t), (1, y0, y1, lambda t: -t)):
        span = hi - lo
        if span <= 0:
            xy[:, axis] = lo
            continue
        out = (xy[:, axis] < lo) | (xy[:, axis] > hi)
        folded = np.mod(xy[:, axis] - lo, 2 * span)
        xy[:, axis] = lo + np.where(folded > span, 2 * span - folded, folded)
        heading = np.where(out, mirror(heading), heading)
        mean = np.where(out, mirror(mean), mean)
    return xy, heading, mean
