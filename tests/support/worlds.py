"""A tiny hand-made world whose costs the tests work out by hand."""

from __future__ import annotations

from gaisnet_opt.plan import Cluster, Member
from gaisnet_opt.profile import ModelProfile, Provenance, Unit
from gaisnet_opt.scenario import D2DLink, DataSource, InferenceRequest, Node, Scenario, ServerLink, Training


def tiny_profile() -> ModelProfile:
    """embed → block_1 → head with round numbers."""

    def unit(name: str, fwd: float, bwd: float, out: float, grad: float, frozen: float, tunable: float,
             train: float, infer: float) -> Unit:
        return Unit(name=name, fwd_flops=fwd, bwd_flops=bwd, fwd_macs=fwd / 2, bwd_macs=bwd / 2, out_bytes=out,
                    grad_bytes=grad, frozen_param_bytes=frozen, tunable_param_bytes=tunable,
                    train_mem_bytes=train, infer_mem_bytes=infer)

    return ModelProfile(
        name="tiny",
        units=(
            unit("embed", 100, 0, 10, 0, 1000, 0, 0, 5),
            unit("block_1", 200, 300, 4, 4, 2000, 100, 50, 20),
            unit("head", 50, 60, 2, 0, 10, 40, 8, 3),
        ),
        provenance=Provenance(method="closed-form", model="tiny"),
    )


def tiny_scenario(**changes: object) -> Scenario:
    """Two clients and an edge server with 2 slots; B = 2, I = 3, SGD with momentum."""
    fields: dict[str, object] = dict(
        name="tiny",
        nodes=(
            Node(id="c0", kind="client", flops=100, memory_bytes=1e6, energy_per_flop=0.01, tx_power_w=1,
                 data=DataSource(samples=10, classes=(0, 1))),
            Node(id="c1", kind="client", flops=50, memory_bytes=1e6, energy_per_flop=0.02, tx_power_w=2,
                 request=InferenceRequest(samples=4)),
            Node(id="e0", kind="edge", flops=1000, memory_bytes=1e9, energy_per_flop=0.001, tx_power_w=10, slots=2),
        ),
        d2d=(D2DLink(src="c0", dst="c1", rate_bps=16), D2DLink(src="c1", dst="c0", rate_bps=32)),
        server_links=(
            ServerLink(client="c0", server="e0", uplink_bps=80, downlink_bps=160),
            ServerLink(client="c1", server="e0", uplink_bps=40, downlink_bps=80),
        ),
        training=Training(batch_size=2, local_iters=3, optimizer="sgdm"),
        profile=tiny_profile(),
    )
    fields.update(changes)
    return Scenario(**fields)


FT = Cluster(kind="finetune", members=(Member(node="c0", first=0, last=0), Member(node="c1", first=1, last=2)))
"""A fine-tuning cluster of the tiny world: c0 holds the embedding, c1 the block and the head."""
INF = Cluster(kind="inference", members=(Member(node="c1", first=0, last=1), Member(node="c0", first=2, last=2)))
"""An inference cluster of the tiny world, from requester c1 to c0 and back."""
FT_EDGE = Cluster(kind="finetune", members=(Member(node="c0", first=0, last=1), Member(node="e0", first=2, last=2)))
"""A fine-tuning cluster whose end point is the edge server e0, a cooperative node."""
