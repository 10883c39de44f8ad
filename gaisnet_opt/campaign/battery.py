"""Batteries: each node's share of the energy the cost model charges a plan, and charges that never go negative.

A round's energy (docs/model.md §4.3) is split by who spends it: a member's
FLOPs are its own, a hop's forward transfer is its sender's and the gradient
its receiver's, a delivery is the edge server's and an upload the member's.
The split calls the cost model's own energy functions on one direction at a
time, so the shares add up to `round_cost(...).energy_j`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import numpy as np

from gaisnet_opt.campaign.spec import Battery
from gaisnet_opt.cost import (
    cluster_cost,
    hop_energy_j,
    member_compute_energy_j,
    member_link_energy_j,
)
from gaisnet_opt.plan import Plan
from gaisnet_opt.scenario import Scenario


def node_energy(scenario: Scenario, plan: Plan) -> dict[str, float]:
    """Joules each node spends on `plan`'s round (edge servers included)."""
    out: defaultdict[str, float] = defaultdict(float)
    for cluster in plan.clusters:
        cost = cluster_cost(scenario, cluster)
        iters = cost.iterations
        for m in cost.members:
            out[m.node] += member_compute_energy_j(scenario, m, iters)
            out[m.node] += member_link_energy_j(scenario, replace(m, delivery_s=0.0), cost.server)
            if cost.server is not None:
                out[cost.server] += member_link_energy_j(scenario, replace(m, upload_s=0.0), cost.server)
        for hop in (*cost.hops, *([cost.return_hop] if cost.return_hop is not None else [])):
            out[hop.src] += hop_energy_j(scenario, replace(hop, bwd_s=0.0), iters)
            out[hop.dst] += hop_energy_j(scenario, replace(hop, fwd_s=0.0), iters)
    return dict(out)


@dataclass(frozen=True)
class Batteries:
    """Charge and capacity in joules per client."""

    charge: Mapping[str, float]
    capacity: Mapping[str, float]

    @classmethod
    def drawn(cls, clients: Iterable[str], spec: Battery | None, rng: np.random.Generator) -> Batteries:
        """Full batteries of uniform capacity in the spec's range; without a spec, unlimited."""
        ids = list(clients)
        caps = rng.uniform(*spec.capacity_j, len(ids)) if spec is not None else np.full(len(ids), np.inf)
        capacity = {c: float(v) for c, v in zip(ids, caps)}
        return cls(dict(capacity), capacity)

    def usable(self, reserve_j: float) -> set[str]:
        """Clients charged at least `reserve_j`."""
        return {c for c, q in self.charge.items() if q >= reserve_j}

    def after(self, spent: Mapping[str, float], recharge_j: float) -> Batteries:
        """Charges after a round: spent energy off (never below 0), `recharge_j` on for every client that spent none."""
        charge = {}
        for c, q in self.charge.items():
            used = spent.get(c, 0.0)
            q = max(0.0, q - used) if used > 0 else q + recharge_j
            charge[c] = min(q, self.capacity[c])
        return replace(self, charge=charge)
