"""Seeded scenario generator: clients in an area, D2D and cellular links from the channel model.

Clients are dropped uniformly in a square whose side grows with the number of
clients (constant density), edge servers sit at the centres of a grid of
cells at most `cell_m` wide, and links exist where the channel model's SNR
reaches its threshold (see `gaisnet_opt.channel` for the parameters' sources,
`gaisnet_opt.devices` for the device classes). Same arguments, same scenario.
"""

from __future__ import annotations

import math

import numpy as np

from gaisnet_opt import channel
from gaisnet_opt.devices import CLIENT_CLASSES, EDGE_SERVER, PHONE, DeviceClass
from gaisnet_opt.profile import ModelProfile
from gaisnet_opt.profile_catalog import load_profile
from gaisnet_opt.scenario import (
    D2DLink,
    DataSource,
    FinetuneService,
    InferenceRequest,
    Node,
    Scenario,
    ServerLink,
    Training,
)

MIN_CLIENTS, MAX_CLIENTS = 2, 2000


def generate(
    clients: int = 20,
    seed: int = 0,
    *,
    profile: ModelProfile | None = None,
    area_per_client_m2: float = 2500.0,
    cell_m: float = 800.0,
    heterogeneous: bool = True,
    source_fraction: float = 0.3,
    request_fraction: float = 0.1,
    samples: tuple[int, int] = (100, 1000),
    classes_per_source: tuple[int, int] = (1, 5),
    request_samples: tuple[int, int] = (1, 64),
    edge_slots: int = 2,
    training: Training = Training(),
    finetune: FinetuneService | None = FinetuneService(),
) -> Scenario:
    """A scenario with `clients` clients, reproducible from `seed`."""
    if not MIN_CLIENTS <= clients <= MAX_CLIENTS:
        raise ValueError(f"clients: {clients} is outside {MIN_CLIENTS}..{MAX_CLIENTS}")
    for name, frac in (("source_fraction", source_fraction), ("request_fraction", request_fraction)):
        if not 0 <= frac <= 1:
            raise ValueError(f"{name}: {frac} is outside 0..1")
    profile = profile or load_profile()
    rng = np.random.default_rng(seed)
    side = math.sqrt(clients * area_per_client_m2)
    xy = rng.uniform(0, side, size=(clients, 2))
    per_side = max(1, math.ceil(side / cell_m))
    centres = (np.arange(per_side) + 0.5) * side / per_side
    edge_xy = np.array([(x, y) for y in centres for x in centres])

    kinds = _device_classes(rng, clients, heterogeneous)
    n_classes = max(1, round(profile.units[-1].out_bytes / profile.bytes_per_value))
    order = rng.permutation(clients)
    sources = set(order[: max(1, round(source_fraction * clients))].tolist())
    requesters = set(order[::-1][: round(request_fraction * clients)].tolist())

    nodes = []
    for i, dc in enumerate(kinds):
        data = request = None
        if i in sources:
            k = int(rng.integers(classes_per_source[0], min(classes_per_source[1], n_classes) + 1))
            labels = sorted(rng.choice(n_classes, size=min(k, n_classes), replace=False).tolist())
            data = DataSource(samples=int(rng.integers(samples[0], samples[1] + 1)), classes=tuple(labels))
        if i in requesters:
            request = InferenceRequest(samples=int(rng.integers(request_samples[0], request_samples[1] + 1)))
        nodes.append(_draw_node(rng, f"c{i}", dc, xy[i], data=data, request=request))
    for j, pos in enumerate(edge_xy):
        nodes.append(_draw_node(rng, f"e{j}", EDGE_SERVER, pos, slots=edge_slots))

    power = np.array([n.tx_power_w for n in nodes[:clients]])
    return Scenario(
        name=f"generated-n{clients}-s{seed}",
        nodes=tuple(nodes),
        d2d=tuple(_d2d_links(xy, power)),
        server_links=tuple(_server_links(xy, power, edge_xy, EDGE_SERVER.tx_power_w)),
        training=training,
        finetune=finetune,
        profile=profile,
        meta={"generator": "gaisnet_opt.generator", "clients": clients, "seed": seed,
              "side_m": round(side, 3), "heterogeneous": int(heterogeneous)},
    )


def _device_classes(rng: np.random.Generator, n: int, heterogeneous: bool) -> list[DeviceClass]:
    if not heterogeneous:
        return [PHONE] * n
    shares = np.array([dc.share for dc in CLIENT_CLASSES])
    picks = rng.choice(len(CLIENT_CLASSES), size=n, p=shares / shares.sum())
    return [CLIENT_CLASSES[k] for k in picks]


def _draw_node(rng: np.random.Generator, node_id: str, dc: DeviceClass, pos: np.ndarray, **extra: object) -> Node:
    def draw(lo_hi: tuple[float, float]) -> float:
        return float(rng.uniform(*lo_hi)) if lo_hi[0] != lo_hi[1] else lo_hi[0]

    return Node(
        id=node_id, kind="edge" if dc is EDGE_SERVER else "client", device=dc.name,
        flops=draw(dc.flops), memory_bytes=draw(dc.memory_bytes), energy_per_flop=draw(dc.energy_per_flop),
        tx_power_w=dc.tx_power_w, position=(round(float(pos[0]), 3), round(float(pos[1]), 3)), **extra,
    )


def _d2d_links(xy: np.ndarray, power: np.ndarray) -> list[D2DLink]:
    """Directed links where the receiver's SNR reaches the D2D threshold."""
    links = []
    for i in range(len(xy)):
        d = np.hypot(*(xy - xy[i]).T)
        snr = channel.snr_db(power[i], channel.d2d_path_loss_db(d), channel.D2D_BANDWIDTH_HZ)
        rate = channel.shannon_bps(snr, channel.D2D_BANDWIDTH_HZ)
        for j in np.flatnonzero(snr >= channel.D2D_MIN_SNR_DB):
            if j != i:
                links.append(D2DLink(src=f"c{i}", dst=f"c{j}", rate_bps=round(float(rate[j]), 3)))
    return links


def _server_links(xy: np.ndarray, power: np.ndarray, edge_xy: np.ndarray, bs_power_w: float) -> list[ServerLink]:
    """Uplink and downlink to every edge server both directions of which reach the threshold."""
    links = []
    for j, pos in enumerate(edge_xy):
        loss = channel.cell_path_loss_db(np.hypot(*(xy - pos).T))
        up = channel.snr_db(power, loss, channel.CELL_BANDWIDTH_HZ)
        down = channel.snr_db(bs_power_w, loss, channel.CELL_BANDWIDTH_HZ)
        ok = np.minimum(up, down) >= channel.CELL_MIN_SNR_DB
        up_bps = channel.shannon_bps(up, channel.CELL_BANDWIDTH_HZ)
        down_bps = channel.shannon_bps(down, channel.CELL_BANDWIDTH_HZ)
        for i in np.flatnonzero(ok):
            links.append(ServerLink(client=f"c{i}", server=f"e{j}",
                                    uplink_bps=round(float(up_bps[i]), 3), downlink_bps=round(float(down_bps[i]), 3)))
    return links
