"""Clients leaving and joining: a two-state (online/offline) Markov chain per client and round.

The on/off model of churn studies (Z. Yao, D. Leonard, X. Wang, D. Loguinov,
"Modeling Heterogeneous User Churn and Local Resilience of Unstructured P2P
Networks", ICNP 2006), in discrete rounds: an online client goes offline with
probability `leave`, an offline one comes back with probability `join`; in
the long run a share join / (join + leave) is online. It is exogenous: the
same seed gives every policy the same comings and goings. A client whose
battery runs low also sits out (`battery.py`), which does depend on the policy.
"""

from __future__ import annotations

import numpy as np

from gaisnet_opt.campaign.spec import Churn


def online_rounds(clients: int, rounds: int, churn: Churn, rng: np.random.Generator) -> np.ndarray:
    """Who is online in each round, shape (rounds, clients); round 1 has `initially_offline` of them off."""
    online = np.empty((rounds, clients), dtype=bool)
    off = rng.permutation(clients)[: round(churn.initially_offline * clients)]
    state = np.ones(clients, dtype=bool)
    state[off] = False
    for t in range(rounds):
        if t:
            u = rng.random(clients)
            state = np.where(state, u >= churn.leave, u < churn.join)
        online[t] = state
    return online
