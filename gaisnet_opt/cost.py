"""The cost model (docs/model.md §4): the one place a plan's latency, energy, communication and memory are computed.

Every solver, the plan checker and the validator's predictions call these
functions; none re-derives a figure. A missing link costs infinite time (the
checker says which link); a zero-byte transfer costs nothing and needs no link.

Fine-tuning cluster, members k = 1..K with unit ranges R_k, batch B, I local
iterations, effective compute F_k (an edge server's FLOP/s divided by its slots):
  fwd_k = o_k + B·Σ_{u∈R_k} fwd_flops[u] / F_k
  bwd_k = o_k + B·Σ_{u∈R_k} bwd_flops[u] / (η_k·F_k)  (none without backward FLOPs)
  o_k: the node's `pass_overhead_s`, a fixed cost per pass, and η_k its `bwd_efficiency` (0 and 1 by default,
  as in docs/model.md §4; the validator calibrates both on its host next to F)
  hop k→k+1: B·(out_bytes[last(R_k)] + LABEL_BYTES)·8 / rate(k, k+1), back with B·grad_bytes
  (the batch's labels travel with the smashed data to the end point, which takes the loss)
  T_iter = Σ_k (fwd_k + bwd_k) + Σ hops              (serial split learning)
  T_dl = max_k tunable_bytes(R_k)·8 / downlink(k)    (edge-held units need none)
  T_ul likewise over uplinks;  T_c = T_dl + I·T_iter + T_ul
Inference cluster on Q samples, in ⌈Q/B⌉ passes: T_dl (unless cached) + ⌈Q/B⌉·o + Q·Σ fwd / F + forward hops
+ the result (Q·out_bytes of the last unit) returned from the end to the start.
Energy = FLOPs · J/FLOP of the node that computes + seconds on air · the
sender's transmit power. Memory of a member = frozen bytes + tunable bytes ·
(1 + 1 gradient + optimizer states) + batch · saved activations (fine-tuning),
or frozen + tunable + batch · peak working activations (inference).
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import numpy as np

from gaisnet_opt.plan import Cluster, ClusterKind, Plan
from gaisnet_opt.result import Objective
from gaisnet_opt.scenario import Node, Scenario

BITS_PER_BYTE = 8
LABEL_BYTES = 8
"""Bytes of one sample's label on a fine-tuning hop: a class index as torch's cross-entropy takes it (int64)."""


@dataclass(frozen=True)
class MemberCost:
    """One chain member's share of one iteration (fine-tuning) or of the whole request (inference)."""

    node: str
    first: int
    last: int
    flops_per_s: float
    fwd_flops: float
    bwd_flops: float
    fwd_s: float
    bwd_s: float
    delivery_bytes: float
    delivery_s: float
    upload_bytes: float
    upload_s: float
    memory_bytes: float
    memory_capacity_bytes: float


@dataclass(frozen=True)
class HopCost:
    """What crosses src → dst per iteration (and back, for fine-tuning); `fwd_s` carries smashed data and labels."""

    src: str
    dst: str
    fwd_bytes: float
    label_bytes: float
    fwd_s: float
    bwd_bytes: float
    bwd_s: float


@dataclass(frozen=True)
class ClusterCost:
    """A cluster's latency breakdown, energy, communication and memory for one round."""

    kind: ClusterKind
    start: str
    server: str | None
    iterations: int
    members: tuple[MemberCost, ...]
    hops: tuple[HopCost, ...]
    return_hop: HopCost | None
    delivery_s: float
    iteration_s: float
    upload_s: float
    latency_s: float
    bottleneck_s: float
    compute_energy_j: float
    tx_energy_j: float
    comm_bytes: float
    memory_bytes: float

    @property
    def energy_j(self) -> float:
        return self.compute_energy_j + self.tx_energy_j


@dataclass(frozen=True)
class RoundCost:
    """The key metrics of one round (paper §III.C.2, III.D.2) over all clusters."""

    clusters: tuple[ClusterCost, ...]
    latency_s: float
    finetune_latency_s: float
    inference_latency_s: float
    energy_j: float
    comm_bytes: float
    memory_bytes: float
    samples: int
    classes: int


def effective_flops(node: Node) -> float:
    """FLOP/s one cluster gets on `node`: an edge server splits its compute over its slots."""
    return node.flops / max(1, node.slots)


def effective_memory(node: Node) -> float:
    """Bytes one cluster gets on `node`: an edge server splits its memory over its slots, as its compute."""
    return node.memory_bytes / max(1, node.slots)


def transfer_s(n_bytes: float, rate_bps: float | None) -> float:
    """Seconds to send `n_bytes` at `rate_bps`; nothing to send costs nothing, no link costs infinity."""
    if n_bytes <= 0:
        return 0.0
    if rate_bps is None:
        return math.inf
    return n_bytes * BITS_PER_BYTE / rate_bps


def joules(seconds: float, watts: float) -> float:
    """Energy of `seconds` on air at `watts` (the sender's transmit power); no air time costs nothing."""
    return 0.0 if seconds == 0 else seconds * watts


def resolve_server(scenario: Scenario, cluster: Cluster) -> str | None:
    """The edge server that delivers to and aggregates `cluster`.

    The cluster's own choice, else an edge server in its chain, else the first
    one its start point reaches, else the first in the scenario.
    """
    if cluster.server is not None:
        return cluster.server
    for node in cluster.chain:
        if node in scenario.node and scenario.node[node].kind == "edge":
            return node
    reached = scenario.servers_of(cluster.start) if cluster.start in scenario.node else []
    if reached:
        return reached[0]
    return scenario.edges[0].id if scenario.edges else None


def batch_samples(scenario: Scenario, kind: ClusterKind, start: str) -> int:
    """Samples one pass processes: B for fine-tuning, the request's Q for inference."""
    if kind == "finetune":
        return scenario.training.batch_size
    request = scenario.node[start].request
    return 0 if request is None else request.samples


def member_memory(scenario: Scenario, kind: ClusterKind, first: int, last: int, samples: int) -> float:
    """Bytes a member holding units first..last needs (docs/model.md §3)."""
    sums, units = scenario.profile.prefix, scenario.profile.units
    frozen = sums.total("frozen_param_bytes", first, last)
    tunable = sums.total("tunable_param_bytes", first, last)
    if kind == "finetune":
        copies = 2 + scenario.training.optimizer_states  # value, gradient, optimizer states
        return frozen + tunable * copies + samples * sums.total("train_mem_bytes", first, last)
    working = max((u.infer_mem_bytes for u in units[first : last + 1]), default=0.0)
    return frozen + tunable + min(samples, scenario.training.batch_size) * working


def member_cost(
    scenario: Scenario, kind: ClusterKind, node_id: str, first: int, last: int, server: str | None, samples: int,
    cached: bool = False,
) -> MemberCost:
    """Compute, delivery/upload and memory of one member over `samples` samples."""
    node = scenario.node[node_id]
    sums = scenario.profile.prefix
    flops = effective_flops(node)
    fwd = samples * sums.total("fwd_flops", first, last)
    bwd = samples * sums.total("bwd_flops", first, last) if kind == "finetune" else 0.0
    fixed = math.ceil(samples / scenario.training.batch_size) * node.pass_overhead_s  # one pass per batch
    tunable = sums.total("tunable_param_bytes", first, last)
    moves = node.kind == "client" and not cached
    link = scenario.server_link.get((node_id, server)) if server is not None else None
    dl_bytes = tunable if moves else 0.0
    ul_bytes = tunable if moves and kind == "finetune" else 0.0
    return MemberCost(
        node=node_id, first=first, last=last, flops_per_s=flops,
        fwd_flops=fwd, bwd_flops=bwd, fwd_s=fixed + fwd / flops,
        bwd_s=fixed + bwd / (flops * node.bwd_efficiency) if bwd > 0 else 0.0,
        delivery_bytes=dl_bytes, delivery_s=transfer_s(dl_bytes, link.downlink_bps if link else None),
        upload_bytes=ul_bytes, upload_s=transfer_s(ul_bytes, link.uplink_bps if link else None),
        memory_bytes=member_memory(scenario, kind, first, last, samples),
        memory_capacity_bytes=effective_memory(node),
    )


def hop_cost(scenario: Scenario, kind: ClusterKind, src: str, dst: str, last_unit: int, samples: int) -> HopCost:
    """The smashed data of unit `last_unit` sent src → dst with the batch's labels, and its gradient back
    (fine-tuning); an inference hop carries the smashed data (or the result) only."""
    unit = scenario.profile.units[last_unit]
    fwd_bytes = samples * unit.out_bytes
    finetune = kind == "finetune"
    label_bytes = samples * LABEL_BYTES if finetune else 0.0
    bwd_bytes = samples * unit.grad_bytes if finetune else 0.0
    return HopCost(
        src=src, dst=dst,
        fwd_bytes=fwd_bytes, label_bytes=label_bytes, fwd_s=transfer_s(fwd_bytes + label_bytes, scenario.rate(src, dst)),
        bwd_bytes=bwd_bytes, bwd_s=transfer_s(bwd_bytes, scenario.rate(dst, src)),
    )


def cluster_cost(scenario: Scenario, cluster: Cluster) -> ClusterCost:
    """Latency breakdown, energy, communication and memory of one cluster (docs/model.md §4)."""
    kind, server = cluster.kind, resolve_server(scenario, cluster)
    samples = batch_samples(scenario, kind, cluster.start)
    request = scenario.node[cluster.start].request
    cached = kind == "inference" and request is not None and request.cached
    members = tuple(member_cost(scenario, kind, m.node, m.first, m.last, server, samples, cached) for m in cluster.members)
    hops = tuple(
        hop_cost(scenario, kind, a.node, b.node, a.last, samples) for a, b in zip(cluster.members, cluster.members[1:])
    )
    return_hop = None
    if kind == "inference" and len(members) > 1:
        return_hop = hop_cost(scenario, kind, cluster.end, cluster.start, cluster.members[-1].last, samples)
    outgoing = [*hops, return_hop]  # member k's outgoing hop; the end's is the return (or none)

    iters = iterations(scenario, kind)
    delivery = max(m.delivery_s for m in members)
    upload = max(m.upload_s for m in members)
    iteration = sum(m.fwd_s + m.bwd_s for m in members) + sum(h.fwd_s + h.bwd_s for h in outgoing if h is not None)
    bottleneck = max(
        m.fwd_s + m.bwd_s + (0.0 if h is None else h.fwd_s + h.bwd_s) for m, h in zip(members, outgoing)
    )
    hop_bytes = sum(h.fwd_bytes + h.label_bytes + h.bwd_bytes for h in outgoing if h is not None)
    return ClusterCost(
        kind=kind, start=cluster.start, server=server, iterations=iters, members=members, hops=hops,
        return_hop=return_hop, delivery_s=delivery, iteration_s=iteration, upload_s=upload,
        latency_s=delivery + iters * iteration + upload,
        bottleneck_s=bottleneck,
        compute_energy_j=sum(member_compute_energy_j(scenario, m, iters) for m in members),
        tx_energy_j=sum(hop_energy_j(scenario, h, iters) for h in outgoing if h is not None)
        + sum(member_link_energy_j(scenario, m, server) for m in members),
        comm_bytes=iters * hop_bytes + sum(m.delivery_bytes + m.upload_bytes for m in members),
        memory_bytes=sum(m.memory_bytes for m in members),
    )


def iterations(scenario: Scenario, kind: ClusterKind) -> int:
    """Passes a cluster makes in a round: I local iterations for fine-tuning, one for inference."""
    return scenario.training.local_iters if kind == "finetune" else 1


def member_compute_energy_j(scenario: Scenario, m: MemberCost, iters: int) -> float:
    """FLOPs of a member's `iters` passes times its node's J/FLOP."""
    return iters * (m.fwd_flops + m.bwd_flops) * scenario.node[m.node].energy_per_flop


def member_link_energy_j(scenario: Scenario, m: MemberCost, server: str | None) -> float:
    """Delivery (the edge server transmits) and upload (the member transmits) of a member's tunable modules."""
    server_w = scenario.node[server].tx_power_w if server is not None else 0.0
    return joules(m.delivery_s, server_w) + joules(m.upload_s, scenario.node[m.node].tx_power_w)


def hop_energy_j(scenario: Scenario, h: HopCost, iters: int) -> float:
    """`iters` crossings of a hop: the sender transmits forward, the receiver sends the gradient back."""
    return iters * (joules(h.fwd_s, scenario.node[h.src].tx_power_w) + joules(h.bwd_s, scenario.node[h.dst].tx_power_w))


def round_cost(scenario: Scenario, plan: Plan) -> RoundCost:
    """All clusters of a plan; the round lasts as long as its slowest cluster (synchronous FedAvg)."""
    return combine(scenario, tuple(cluster_cost(scenario, c) for c in plan.clusters))


def combine(scenario: Scenario, clusters: tuple[ClusterCost, ...]) -> RoundCost:
    """A round from its clusters' costs, so a search that caches cluster costs scores rounds the same way."""

    def slowest(kind: str | None) -> float:
        return max((c.latency_s for c in clusters if kind in (None, c.kind)), default=0.0)

    sources = [d for c in clusters if c.kind == "finetune" and (d := scenario.node[c.start].data) is not None]
    return RoundCost(
        clusters=clusters,
        latency_s=slowest(None),
        finetune_latency_s=slowest("finetune"),
        inference_latency_s=slowest("inference"),
        energy_j=sum(c.energy_j for c in clusters),
        comm_bytes=sum(c.comm_bytes for c in clusters),
        memory_bytes=sum(c.memory_bytes for c in clusters),
        samples=sum(d.samples for d in sources),
        classes=len({k for d in sources for k in d.classes}),
    )


def objective_value(cost: RoundCost, objective: Objective) -> float:
    """The value of `objective` for a costed plan (docs/model.md §5); deadlines are the checker's concern (rule `deadline`)."""
    match objective.kind:
        case "latency":
            return cost.latency_s
        case "energy":
            return cost.energy_j
        case "weighted":
            return objective.alpha * cost.latency_s + objective.beta * cost.energy_j
        case "coverage":
            return float(cost.samples if objective.coverage_of == "samples" else cost.classes)
        case "bottleneck":
            return max((c.bottleneck_s for c in cost.clusters), default=0.0)
    raise ValueError(f"unknown objective kind {objective.kind!r}")


@dataclass(frozen=True)
class SegmentArrays:
    """`member_cost` for every node and range first..last at once, as `[node, first, last]` arrays (numpy).

    The same formulas, vectorised for the city-scale bounds and pricing
    (`gaisnet_opt.bounds.chain_search`), nodes in scenario order: `iter_s`
    forward + backward seconds per iteration, `compute_j` the FLOPs' energy
    over the round's iterations, `fits` whether the memory holds the load
    (False where first > last).
    """

    iter_s: np.ndarray
    compute_j: np.ndarray
    fits: np.ndarray


@dataclass(frozen=True)
class ServerArrays:
    """`member_cost`'s delivery and upload for every server, node and range, factored by link: seconds, and their
    air energy `link_j` (the server sends, the member uploads), `[row, first, last]`, where `row[server, node]`
    picks the row. The bytes depend on the node's kind and the range, the rate on the (node, server) link, so a
    node whose tunable bytes move has one row per server link (in node order, servers in order) and shares row
    `MISSING` with every other where it has none (infinite where bytes move); a node that moves nothing reads
    row `STILL` (all zeros) for every server. A city's client reaches a few of its servers, so this holds
    links × ranges figures where a dense `[server, node, first, last]` array held servers × nodes × ranges.
    They depend on the cluster's kind and caching only, not on its samples. `link_j` is infinite wherever
    the link is missing and bytes move (no plan uses it)."""

    servers: tuple[str | None, ...]
    row: np.ndarray
    delivery_s: np.ndarray
    upload_s: np.ndarray
    link_j: np.ndarray


STILL, MISSING = 0, 1
"""`ServerArrays` rows shared by every node: nothing moves; bytes move but the node has no link to the server."""


def _range_totals(scenario: Scenario, figure: str) -> np.ndarray:
    n, sums = scenario.profile.n_units, scenario.profile.prefix
    x: np.ndarray = np.asarray(getattr(sums, figure))
    totals: np.ndarray = x[None, 1:] - x[:n, None]  # [first, last] = x[last + 1] - x[first]
    return totals


def _transfer_array(n_bytes: np.ndarray, rate_bps: np.ndarray) -> np.ndarray:
    """`transfer_s` elementwise; a rate of NaN means no link."""
    with np.errstate(invalid="ignore", divide="ignore"):
        secs: np.ndarray = n_bytes * BITS_PER_BYTE / rate_bps
    secs[np.isnan(secs)] = math.inf
    secs[np.broadcast_to(n_bytes <= 0, secs.shape)] = 0.0
    return secs


def segment_arrays(scenario: Scenario, kind: ClusterKind, samples: int) -> SegmentArrays:
    """Every node's `member_cost` compute and memory figures for every range over `samples` samples."""
    vec = node_vectors(scenario)
    n, it = scenario.profile.n_units, iterations(scenario, kind)
    flops = vec.flops[:, None, None]
    eta = vec.bwd_efficiency[:, None, None]
    fixed = math.ceil(samples / scenario.training.batch_size) * vec.pass_overhead_s[:, None, None]
    fwd = samples * _range_totals(scenario, "fwd_flops")[None]
    bwd = samples * _range_totals(scenario, "bwd_flops")[None] if kind == "finetune" else np.zeros((1, n, n))
    with np.errstate(invalid="ignore", divide="ignore"):
        bwd_s = np.where(bwd > 0, fixed + bwd / (flops * eta), 0.0)
    iter_s = fixed + fwd / flops + bwd_s
    compute_j = it * (fwd + bwd) * vec.energy_per_flop[:, None, None]
    memory = np.array([[member_memory(scenario, kind, f, l, samples) if f <= l else math.inf for l in range(n)]
                       for f in range(n)])
    fits = memory[None] <= vec.memory[:, None, None]
    return SegmentArrays(iter_s, compute_j, fits)


def server_arrays(scenario: Scenario, kind: ClusterKind, cached: bool, servers: tuple[str | None, ...]) -> ServerArrays:
    """Every node's `member_cost` delivery and upload (and `member_link_energy_j`) per server in `servers`,
    one row per server link of a node whose bytes move (`ServerArrays`)."""
    tunable = _range_totals(scenario, "tunable_param_bytes")
    ul_bytes = tunable if kind == "finetune" else np.zeros_like(tunable)
    index = {s: k for k, s in enumerate(servers) if s is not None}
    row = np.full((len(servers), len(scenario.nodes)), STILL, dtype=np.int32)
    links: list[tuple[int, float, float, float, float]] = []  # node, downlink, uplink, server's and node's watts
    for v, node in enumerate(scenario.nodes):
        if node.kind != "client" or cached:
            continue
        row[:, v] = MISSING
        for server in scenario.servers_of(node.id):
            if server in index:
                x = scenario.server_link[(node.id, server)]
                row[index[server], v] = 2 + len(links)
                links.append((v, x.downlink_bps, x.uplink_bps, scenario.node[server].tx_power_w, node.tx_power_w))
    by_link = np.array(links, dtype=float).reshape(-1, 5)
    down = np.concatenate([[np.inf, math.nan], by_link[:, 1]])[:, None, None]  # STILL moves nothing: any rate
    up = np.concatenate([[np.inf, math.nan], by_link[:, 2]])[:, None, None]
    dl = _transfer_array(np.where(np.arange(len(down))[:, None, None] == STILL, 0.0, tunable[None]), down)
    ul = _transfer_array(np.where(np.arange(len(up))[:, None, None] == STILL, 0.0, ul_bytes[None]), up)
    server_w = np.concatenate([[0.0, 0.0], by_link[:, 3]])[:, None, None]
    power = np.concatenate([[0.0, 0.0], by_link[:, 4]])[:, None, None]
    with np.errstate(invalid="ignore"):
        link_j = np.where(dl == 0, 0.0, dl * server_w) + np.where(ul == 0, 0.0, ul * power)
    link_j[MISSING] = np.where((dl[MISSING] == 0) & (ul[MISSING] == 0), 0.0, math.inf)
    return ServerArrays(servers, row, dl, ul, link_j)


@dataclass(frozen=True)
class HopArrays:
    """`hop_cost` for every link src → dst and every unit u at once: `iter_s[link, u]` forward + backward
    seconds per iteration, `energy_j[link, u]` over the round's iterations (infinite where a needed link is missing)."""

    src: np.ndarray
    dst: np.ndarray
    iter_s: np.ndarray
    energy_j: np.ndarray


def hop_arrays(scenario: Scenario, kind: ClusterKind, samples: int, src: np.ndarray, dst: np.ndarray,
               fwd_rate: np.ndarray, bwd_rate: np.ndarray) -> HopArrays:
    """Every unit's hop along the links given by node indices `src` → `dst` with `rate(src, dst)` and
    `rate(dst, src)` (NaN: no link), as `hop_cost` and `hop_energy_j` price them."""
    units = scenario.profile.units[:-1]
    finetune = kind == "finetune"
    fwd_bytes = samples * (np.array([u.out_bytes for u in units]) + (LABEL_BYTES if finetune else 0.0))
    bwd_bytes = samples * np.array([u.grad_bytes for u in units]) if finetune else np.zeros(len(units))
    fwd_s = _transfer_array(fwd_bytes[None, :], fwd_rate[:, None])
    src_w, dst_w = _powers(scenario, src, dst)
    it = iterations(scenario, kind)
    if not np.any(bwd_bytes > 0):  # nothing comes back (inference): the backward terms are zeros, x + 0.0 == x
        with np.errstate(invalid="ignore"):
            energy = it * np.where(fwd_s == 0, 0.0, fwd_s * src_w[:, None])
        return HopArrays(src, dst, fwd_s, np.where(np.isfinite(fwd_s), energy, math.inf))
    bwd_s = _transfer_array(bwd_bytes[None, :], bwd_rate[:, None])
    with np.errstate(invalid="ignore"):
        energy = it * (np.where(fwd_s == 0, 0.0, fwd_s * src_w[:, None])
                       + np.where(bwd_s == 0, 0.0, bwd_s * dst_w[:, None]))
    t = fwd_s + bwd_s
    return HopArrays(src, dst, t, np.where(np.isfinite(t), energy, math.inf))


@dataclass(frozen=True)
class NodeVectors:
    """Every node's figures the array functions read, in node order (built once per scenario)."""

    tx_power_w: np.ndarray
    flops: np.ndarray
    bwd_efficiency: np.ndarray
    pass_overhead_s: np.ndarray
    energy_per_flop: np.ndarray
    memory: np.ndarray


_NODES: dict[int, tuple[weakref.ref[Scenario], NodeVectors]] = {}
"""`NodeVectors` by scenario (by id while it lives: hashing a city's scenario would cost more)."""


def node_vectors(scenario: Scenario) -> NodeVectors:
    """The scenario's `NodeVectors`, kept while it lives (the searches ask for figures key by key and node by
    node: a list over every node per call cost more than the figures at 10,000 clients)."""
    key = id(scenario)
    kept = _NODES.get(key)
    if kept is None or kept[0]() is not scenario:
        nodes = scenario.nodes
        vectors = NodeVectors(np.array([v.tx_power_w for v in nodes]), np.array([effective_flops(v) for v in nodes]),
                              np.array([v.bwd_efficiency for v in nodes]), np.array([v.pass_overhead_s for v in nodes]),
                              np.array([v.energy_per_flop for v in nodes]), np.array([effective_memory(v) for v in nodes]))
        kept = (weakref.ref(scenario, lambda _, k=key: _NODES.pop(k, None)), vectors)  # type: ignore[misc]
        _NODES[key] = kept
    return kept[1]


def _powers(scenario: Scenario, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The transmit watts of the nodes `src` and `dst` (indices)."""
    power = node_vectors(scenario).tx_power_w
    return power[src], power[dst]
