"""A small digits world for the validator tests: six fully linked clients, one edge server, the tiny ViT's profile."""

from __future__ import annotations

from gaisnet_opt.plan import Plan, cluster_from_counts
from gaisnet_opt.profile import ModelProfile
from gaisnet_opt.scenario import D2DLink, DataSource, InferenceRequest, Node, Scenario, ServerLink, Training
from gaisnet_opt.validator.model import digits_profile

CLIENTS = [f"c{i}" for i in range(6)]


def digits_world(profile: ModelProfile | None = None, optimizer: str = "adam", iters: int = 2, batch: int = 8) -> Scenario:
    """c0, c1 hold data (all ten classes, 40 samples), c4 requests 6 classifications; every pair is linked."""
    data = {"c0": DataSource(samples=40, classes=tuple(range(10))), "c1": DataSource(samples=40, classes=tuple(range(10)))}
    nodes = [
        Node(id=c, kind="client", flops=1e9, memory_bytes=1e9, energy_per_flop=1e-10, tx_power_w=0.2,
             data=data.get(c), request=InferenceRequest(samples=6) if c == "c4" else None)
        for c in CLIENTS
    ]
    nodes.append(Node(id="e0", kind="edge", flops=1e12, memory_bytes=1e10, energy_per_flop=1e-11, tx_power_w=10, slots=2))
    return Scenario(
        name="digits-world",
        nodes=tuple(nodes),
        d2d=tuple(D2DLink(src=a, dst=b, rate_bps=1e7) for a in CLIENTS for b in CLIENTS if a != b),
        server_links=tuple(ServerLink(client=c, server="e0", uplink_bps=1e7, downlink_bps=2e7) for c in CLIENTS),
        training=Training(batch_size=batch, local_iters=iters, optimizer=optimizer),
        profile=profile or digits_profile(),
    )


def two_cluster_plan() -> Plan:
    """c0 → c2 → e0 and c1 → c3 fine-tune, c4 → c5 serves c4's request."""
    return Plan(clusters=(
        cluster_from_counts("finetune", ["c0", "c2", "e0"], [2, 3, 1]),
        cluster_from_counts("finetune", ["c1", "c3"], [1, 5]),
        cluster_from_counts("inference", ["c4", "c5"], [3, 3]),
    ))


def unequal_world() -> Scenario:
    """digits_world with c1 holding 24 samples to c0's 40, so FedAvg's weights matter."""
    scenario = digits_world()
    nodes = [n.model_copy(update={"data": n.data.model_copy(update={"samples": 24})}) if n.id == "c1" and n.data else n
             for n in scenario.nodes]
    return scenario.model_validate(scenario.model_dump() | {"nodes": [n.model_dump() for n in nodes]})
