"""One round's scenario from the network state: the clients taking part, where they are, their links, the requests.

A client that reaches no edge server cannot receive its units and sits the
round out. Links are the generator's (`gaisnet_opt.generator`: the channel model's path
loss, Shannon rate and SNR thresholds, `gaisnet_opt.channel`), recomputed
from the round's positions when clients move; with static clients the
scenario's own links stand. Its rules are called as they are, on the
round's clients in scenario order, and their index-based ids renamed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np

from gaisnet_opt.campaign.world import World
from gaisnet_opt.generator import _d2d_links, _server_links
from gaisnet_opt.scenario import D2DLink, FinetuneService, InferenceRequest, Scenario, ServerLink


def round_scenario(world: World, xy: np.ndarray, present: Collection[str], requests: Mapping[str, InferenceRequest],
                   finetune: FinetuneService | None, name: str) -> Scenario:
    """The base scenario with the `present` clients an edge server reaches, at `xy` (all clients, scenario order),
    raising `requests`."""
    base = world.base
    where = {c: tuple(round(float(v), 3) for v in p) for c, p in zip(world.clients, xy)} if world.moving else {}
    clients = [n.model_copy(update={"request": requests.get(n.id), "position": where.get(n.id, n.position)})
               for n in base.clients if n.id in present]
    ids = [n.id for n in clients]
    if world.moving:
        d2d, cells = _links(world, np.array([where[c] for c in ids], dtype=float).reshape(-1, 2), ids,
                            np.array([n.tx_power_w for n in clients]))
    else:
        keep = set(ids)
        d2d = [l for l in base.d2d if l.src in keep and l.dst in keep]
        cells = [l for l in base.server_links if l.client in keep]
    covered = {l.client for l in cells}
    clients = [n for n in clients if n.id in covered]
    d2d = [l for l in d2d if l.src in covered and l.dst in covered]
    return Scenario(name=name, nodes=(*clients, *base.edges), d2d=tuple(d2d), server_links=tuple(cells),
                    training=base.training, finetune=finetune, profile=base.profile, meta=base.meta)


def _links(world: World, xy: np.ndarray, ids: list[str], power: np.ndarray) -> tuple[list[D2DLink], list[ServerLink]]:
    """D2D and cellular links of clients `ids` at `xy` by the generator's rules, named by the clients' ids."""
    name = {f"c{i}": c for i, c in enumerate(ids)}
    d2d = [l.model_copy(update={"src": name[l.src], "dst": name[l.dst]}) for l in _d2d_links(xy, power)]
    cells = []
    for edge in world.base.edges:
        if edge.position is None or not len(ids):
            continue
        for l in _server_links(xy, power, np.array([edge.position], dtype=float), edge.tx_power_w):
            cells.append(l.model_copy(update={"client": name[l.client], "server": edge.id}))
    return d2d, cells


def with_service(scenario: Scenario, clusters: int, deadline_s: float | None) -> Scenario:
    """`scenario` whose fine-tuning service asks for exactly `clusters` clusters (none: no service) by `deadline_s`."""
    service = FinetuneService(min_clusters=clusters, max_clusters=clusters, deadline_s=deadline_s) if clusters else None
    return scenario.model_copy(update={"finetune": service})
