"""Seeded scenario generator: clients in an area, D2D and cellular links from the channel model.

Clients are dropped uniformly in a square whose side grows with the number of
clients (constant density), edge servers sit at the centres of a grid of
cells at most `cell_m` wide, and links exist where the channel model's SNR
reaches its threshold (see `gaisnet_opt.channel` for the parameters' sources,
`gaisnet_opt.devices` for the device classes). Same arguments, same scenario.

Links are searched on a grid as wide as the longest link the channel model
allows (`_near_pairs`), so 20,000 clients take seconds, not the all-pairs
loop's quadratic time; the links, their rates and their order are those of
an all-pairs test (tests/support/generator_oracle.py keeps one to check).
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

MIN_CLIENTS, MAX_CLIENTS = 2, 20_000
REACH_SLACK = 1 + 1e-6
"""Link searches look a hair beyond the inverted path loss's reach, so its rounding loses no link."""
MAX_CELLS_PER_SIDE = 1024
"""A very sparse area gets wider search cells: the grid's memory stays bounded, wider cells only cost candidates."""


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
    _check_arguments(clients, area_per_client_m2, cell_m, source_fraction, request_fraction)
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


def _check_arguments(clients: int, area_per_client_m2: float, cell_m: float, source_fraction: float,
                     request_fraction: float) -> None:
    """A ValueError naming the first argument out of its range: the area and the cells must have a size."""
    if not MIN_CLIENTS <= clients <= MAX_CLIENTS:
        raise ValueError(f"clients: {clients} is outside {MIN_CLIENTS}..{MAX_CLIENTS}")
    for name, size in (("area_per_client_m2", area_per_client_m2), ("cell_m", cell_m)):
        if not size > 0:
            raise ValueError(f"{name}: {size} is not positive")
    for name, frac in (("source_fraction", source_fraction), ("request_fraction", request_fraction)):
        if not 0 <= frac <= 1:
            raise ValueError(f"{name}: {frac} is outside 0..1")


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
    """Directed links where the receiver's SNR reaches the D2D threshold (docs/model.md §2), by source then destination.

    Only pairs within the longest link the strongest transmitter makes are
    evaluated (`_near_pairs`), each exactly as an all-pairs test would.
    """
    reach = channel.reach_m(float(power.max(initial=0.0)), channel.D2D_PATH_LOSS, channel.D2D_BANDWIDTH_HZ,
                            channel.D2D_MIN_SNR_DB)
    src, dst, d = _near_pairs(xy, xy, reach)
    other = src != dst
    src, dst, d = src[other], dst[other], d[other]
    snr = channel.snr_db(power[src], channel.d2d_path_loss_db(d), channel.D2D_BANDWIDTH_HZ)
    ok = snr >= channel.D2D_MIN_SNR_DB
    rate = channel.shannon_bps(snr[ok], channel.D2D_BANDWIDTH_HZ)
    names = [f"c{i}" for i in range(len(xy))]
    return [D2DLink(src=names[i], dst=names[j], rate_bps=round(r, 3))
            for i, j, r in zip(src[ok].tolist(), dst[ok].tolist(), rate.tolist())]


def _server_links(xy: np.ndarray, power: np.ndarray, edge_xy: np.ndarray, bs_power_w: float) -> list[ServerLink]:
    """Uplink and downlink to every edge server both directions of which reach the threshold, by server then client.

    Only the clients within the shorter of the two directions' reach of a
    server are evaluated (`_near_pairs`).
    """
    reach = min(channel.reach_m(p, channel.CELL_PATH_LOSS, channel.CELL_BANDWIDTH_HZ, channel.CELL_MIN_SNR_DB)
                for p in (float(power.max(initial=0.0)), bs_power_w))
    server, client, d = _near_pairs(xy, edge_xy, reach)
    loss = channel.cell_path_loss_db(d)
    up = channel.snr_db(power[client], loss, channel.CELL_BANDWIDTH_HZ)
    down = channel.snr_db(bs_power_w, loss, channel.CELL_BANDWIDTH_HZ)
    ok = np.minimum(up, down) >= channel.CELL_MIN_SNR_DB
    up_bps = channel.shannon_bps(up[ok], channel.CELL_BANDWIDTH_HZ).tolist()
    down_bps = channel.shannon_bps(down[ok], channel.CELL_BANDWIDTH_HZ).tolist()
    names = [f"c{i}" for i in range(len(xy))]
    return [ServerLink(client=names[i], server=f"e{j}", uplink_bps=round(u, 3), downlink_bps=round(w, 3))
            for j, i, u, w in zip(server[ok].tolist(), client[ok].tolist(), up_bps, down_bps)]


def _near_pairs(points: np.ndarray, queries: np.ndarray, reach: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(query, point, distance) of every point within `reach` (and a hair, REACH_SLACK) of a query, by query then point.

    Points are bucketed into square cells at least `reach` wide and a query
    looks only at its own cell and the eight around it, so the work grows with
    the number of close pairs rather than with all pairs. The distance is
    computed as `hypot` of point minus query, as an all-pairs loop would.
    """
    if not len(points) or not len(queries):
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0)
    origin = np.minimum(points.min(axis=0), queries.min(axis=0))
    span = float(np.max(np.maximum(points.max(axis=0), queries.max(axis=0)) - origin))
    cell = max(reach * REACH_SLACK, span / MAX_CELLS_PER_SIDE) or 1.0
    width = int(np.floor(span / cell)) + 3  # one empty cell of padding on either side

    def cell_of(xy: np.ndarray) -> np.ndarray:
        c = np.floor((xy - origin) / cell).astype(np.int64) + 1
        return c[:, 0] * width + c[:, 1]

    point_cell = cell_of(points)
    by_cell = np.argsort(point_cell, kind="stable")
    counts = np.bincount(point_cell, minlength=width * width)
    starts = np.cumsum(counts) - counts
    around = (cell_of(queries)[:, None] + np.array([dx * width + dy for dx in (-1, 0, 1) for dy in (-1, 0, 1)])).ravel()
    sizes = counts[around]
    query = np.repeat(np.arange(len(queries)).repeat(9), sizes)
    point = by_cell[np.repeat(starts[around] - (np.cumsum(sizes) - sizes), sizes) + np.arange(len(query))]
    diff = points[point] - queries[query]
    d = np.hypot(diff[:, 0], diff[:, 1])
    near = d <= reach * REACH_SLACK
    query, point, d = query[near], point[near], d[near]
    pick = np.lexsort((point, query))
    return query[pick], point[pick], d[pick]
