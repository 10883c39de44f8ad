"""Split learning along a chain against the unsplit model: same parameters after every step, bytes and FLOPs as predicted."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from gaisnet_opt.cost import cluster_cost  # noqa: E402
from gaisnet_opt.plan import cluster_from_counts  # noqa: E402
from gaisnet_opt.profilers.config import DIGITS_VIT  # noqa: E402
from gaisnet_opt.profilers.prompted_vit import build_model  # noqa: E402
from gaisnet_opt.validator.data import batch_indices, load_digits  # noqa: E402
from gaisnet_opt.validator.split_chain import OPTIMIZERS, SplitChain, parcel, unparcel  # noqa: E402
from tests.support.validator_worlds import CLIENTS, digits_world  # noqa: E402

torch.set_num_threads(1)

SPLITS = [[6], [1, 5], [2, 3, 1], [3, 3], [1, 1, 1, 1, 1, 1], [4, 2]]
"""unit counts per member over the tiny ViT's 6 units (embed, block_1..4, head)"""


def _batches(steps: int, batch: int = 8):
    pool = load_digits().pool
    for step in range(steps):
        idx = batch_indices(len(pool), batch, 0, "c0", step)
        yield pool.images[idx], pool.labels[idx]


@pytest.mark.parametrize("optimizer", ["adam", "sgdm"])
@pytest.mark.parametrize("counts", SPLITS, ids=lambda c: "-".join(map(str, c)))
def test_split_training_equals_unsplit_after_every_step(counts, optimizer):
    whole, split = build_model(DIGITS_VIT, seed=3), build_model(DIGITS_VIT, seed=3)
    frozen = {n: p.clone() for n, p in split.named_parameters() if not p.requires_grad}
    opt = OPTIMIZERS[optimizer]([p for p in whole.parameters() if p.requires_grad], 0.05)
    chain = SplitChain(split.units(), cluster_from_counts("finetune", CLIENTS[: len(counts)], counts).members)
    chain.new_round(optimizer, 0.05)
    for images, labels in _batches(4):
        loss = torch.nn.functional.cross_entropy(whole(images), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        split_loss = chain.train_step(images, labels)
        assert split_loss == pytest.approx(loss.item(), abs=1e-6)
        tuned = dict(split.named_parameters())
        for name, p in whole.named_parameters():
            if p.requires_grad:
                assert torch.allclose(p, tuned[name], atol=1e-6, rtol=0), name
    assert all(torch.equal(p, frozen[n]) for n, p in split.named_parameters() if not p.requires_grad)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_measured_hops_flops_and_memory_against_the_cost_model(optimizer):
    scenario = digits_world(optimizer=optimizer)
    cluster = cluster_from_counts("finetune", CLIENTS, [1, 1, 1, 1, 1, 1])
    chain = SplitChain(build_model(DIGITS_VIT).units(), cluster.members)
    chain.new_round(optimizer, 0.01)
    steps, batch = 3, scenario.training.batch_size
    for images, labels in _batches(steps, batch):
        chain.train_step(images, labels)
    cost = cluster_cost(scenario, cluster)
    units = scenario.profile.units
    for k, (hop, pred) in enumerate(zip(chain.hops, cost.hops)):
        assert hop.fwd_bytes == steps * pred.fwd_bytes == steps * batch * units[k].out_bytes
        assert hop.label_bytes == steps * pred.label_bytes == steps * batch * 8  # the labels go along, hop by hop
        assert hop.bwd_bytes == steps * pred.bwd_bytes == steps * batch * units[k].grad_bytes
    assert chain.hops[0].bwd_bytes == 0 and chain.hops[1].bwd_bytes > 0  # nothing tunable upstream of block_1
    for w, pred in zip(chain.workers, cost.members):
        m = w.meter
        assert m.fwd_flops / steps == pytest.approx(pred.fwd_flops, rel=0.01), m.node
        assert m.bwd_flops / steps == pytest.approx(pred.bwd_flops, rel=0.01), m.node
        assert m.state_bytes + m.saved_bytes == pytest.approx(pred.memory_bytes, rel=0.10), m.node
        assert m.timed_passes == steps - 1  # the first pass was counted, the others timed


def test_a_parcel_is_the_tensors_values_in_order_and_back():
    tensors = [torch.arange(6.0).reshape(2, 3), torch.ones(4, dtype=torch.float32), torch.zeros(0)]
    flat = parcel(tensors)
    assert flat.numel() == 10 and flat.element_size() * flat.numel() == sum(t.numel() * 4 for t in tensors)
    assert all(torch.equal(a, b) for a, b in zip(unparcel(flat, tensors), tensors))
    assert parcel([]).numel() == 0
