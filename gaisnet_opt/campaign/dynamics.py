"""The exogenous dynamics of a campaign, drawn once from its seed: positions, who is online, the requests.

Every policy meets the same trajectory: mobility, churn and arrivals do not
depend on what the policy does. Each draws from its own seed stream
(`np.random.default_rng([seed, stream])`), so changing one model of the
dynamics leaves the others' draws as they were. What does depend on the
policy, the batteries, evolves in the round loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gaisnet_opt.campaign import mobility
from gaisnet_opt.campaign.arrivals import Arrival, draw_arrivals
from gaisnet_opt.campaign.churn import online_rounds
from gaisnet_opt.campaign.spec import Dynamics
from gaisnet_opt.campaign.world import World

MOBILITY_STREAM, CHURN_STREAM, ARRIVALS_STREAM, BATTERY_STREAM = 2, 3, 4, 5


def stream(seed: int, which: int) -> np.random.Generator:
    """The generator of one kind of draw."""
    return np.random.default_rng([seed, which])


@dataclass(frozen=True)
class Trajectory:
    """Per round t = 1..T (index t-1): client positions (N, 2), online clients (N,), and the requests."""

    positions: tuple[np.ndarray, ...]
    online: np.ndarray
    arrivals: tuple[tuple[Arrival, ...], ...]

    def online_ids(self, world: World, t: int) -> list[str]:
        """Clients online in round t (1-based), scenario order."""
        return [c for c, on in zip(world.clients, self.online[t - 1]) if on]


def trajectory(world: World, dynamics: Dynamics, rounds: int, seed: int) -> Trajectory:
    """The campaign's `rounds` rounds of movement, churn and requests."""
    rng = stream(seed, MOBILITY_STREAM)
    positions = []
    motion = mobility.start(dynamics.mobility, world.positions, world.area, rng) if world.moving else None
    for t in range(rounds):
        if motion is not None and t:
            motion = mobility.advance(dynamics.mobility, motion, dynamics.round_s, world.area, rng)
        positions.append(world.positions if motion is None else motion.xy)
    online = online_rounds(len(world.clients), rounds, dynamics.churn, stream(seed, CHURN_STREAM))
    rng = stream(seed, ARRIVALS_STREAM)
    arrivals = []
    for t in range(rounds):
        here = [c for c, on in zip(world.clients, online[t]) if on]
        arrivals.append(draw_arrivals(here, world.domains, rng))
    return Trajectory(tuple(positions), online, tuple(arrivals))
