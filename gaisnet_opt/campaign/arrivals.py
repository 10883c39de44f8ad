"""Inference requests as a process: Poisson arrivals per domain and round, at online clients.

Each round, domain m receives N_m ~ Poisson(rate_m) requests; their
requesters are drawn without replacement among the clients online that round
(a client raises at most one request a round, as a scenario allows), and each
request asks for a uniform number of inputs in the domain's range. Drawn from
the churn's online set, so the arrivals are the same for every policy; a
requester that the policy's batteries keep out of the round is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gaisnet_opt.campaign.world import DomainWorld


@dataclass(frozen=True)
class Arrival:
    """One request: who asks, of which domain's model, for how many inputs."""

    client: str
    domain: str
    samples: int


def draw_arrivals(online: Sequence[str], domains: Sequence[DomainWorld], rng: np.random.Generator) -> tuple[Arrival, ...]:
    """One round's requests, in the order of `online` (scenario order)."""
    counts = [int(rng.poisson(d.spec.requests.rate)) for d in domains]
    who = [online[k] for k in rng.permutation(len(online))]
    out: list[Arrival] = []
    for d, n in zip(domains, counts):
        lo, hi = d.spec.requests.samples
        for client in who[len(out) : len(out) + n]:
            out.append(Arrival(client, d.name, int(rng.integers(lo, hi + 1))))
    rank = {c: i for i, c in enumerate(online)}
    return tuple(sorted(out, key=lambda a: rank[a.client]))
