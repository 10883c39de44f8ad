"""Data for the validator: the fixed digits split, the three partitions, the stateless batch order."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from gaisnet_opt.errors import InputError  # noqa: E402
from gaisnet_opt.plan import Plan, cluster_from_counts  # noqa: E402
from gaisnet_opt.scenario import DataSource  # noqa: E402
from gaisnet_opt.validator import validate  # noqa: E402
from gaisnet_opt.validator.data import batch_indices, load_digits, partition  # noqa: E402
from tests.support.validator_worlds import digits_world  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def _rows(split) -> set[bytes]:
    return {row.numpy().tobytes() for row in split.images}


def test_digits_split_is_fixed_disjoint_and_stratified(digits):
    parts = (digits.source, digits.pool, digits.test)
    assert sum(len(p) for p in parts) == 1797 and digits.classes == 10
    assert all(set(p.labels.tolist()) == set(range(10)) for p in parts)
    assert not (_rows(digits.test) & _rows(digits.pool)) and not (_rows(digits.source) & _rows(digits.pool))
    assert torch.equal(load_digits().test.images, digits.test.images)
    assert digits.test.images.shape[1:] == (1, 8, 8) and 0 <= digits.pool.images.min() <= digits.pool.images.max() <= 1


def test_classes_partition_keeps_each_client_to_its_classes(digits):
    sources = {"a": DataSource(samples=50, classes=(1, 7)), "b": DataSource(samples=33, classes=(0, 2, 4))}
    local = partition(digits.pool, sources, "classes", seed=0)
    for node, source in sources.items():
        labels = local[node].labels.tolist()
        assert len(labels) == source.samples and set(labels) == set(source.classes)
        assert max(labels.count(c) for c in source.classes) - min(labels.count(c) for c in source.classes) <= 1
    again = partition(digits.pool, sources, "classes", seed=0)
    other = partition(digits.pool, sources, "classes", seed=1)
    assert torch.equal(again["a"].images, local["a"].images) and not torch.equal(other["a"].images, local["a"].images)


def test_a_client_asking_more_than_its_classes_hold_gets_them_all(digits):
    held = int((digits.pool.labels == 3).sum())
    local = partition(digits.pool, {"a": DataSource(samples=10_000, classes=(3,))}, "classes")
    assert len(local["a"]) == held and len(_rows(local["a"])) == held  # no sample twice


def test_iid_and_dirichlet_partitions(digits):
    sources = {f"c{i}": DataSource(samples=120, classes=(0,)) for i in range(4)}
    iid = partition(digits.pool, sources, "iid", seed=0)
    assert all(len(s) == 120 and len(set(s.labels.tolist())) == 10 for s in iid.values())

    def classes_used(alpha: float) -> list[int]:
        local = partition(digits.pool, sources, "dirichlet", seed=0, alpha=alpha)
        return [int((np.bincount(s.labels.numpy(), minlength=10) >= 6).sum()) for s in local.values()]

    assert max(classes_used(0.05)) <= 4 and min(classes_used(100.0)) >= 8


def test_labels_outside_the_data_are_named(digits):
    with pytest.raises(InputError, match=r"nodes\[c9\]\.data\.classes"):
        partition(digits.pool, {"c9": DataSource(samples=5, classes=(4, 12))})


def test_batches_are_full_and_each_epoch_is_a_permutation():
    n, batch = 24, 8
    epoch = np.concatenate([batch_indices(n, batch, 0, "c0", step) for step in range(3)])
    assert sorted(epoch.tolist()) == list(range(n))
    assert len(batch_indices(5, batch, 0, "c0", 7)) == batch  # fewer samples than a batch: wraps into the next epoch
    assert np.array_equal(batch_indices(n, batch, 0, "c0", 4), batch_indices(n, batch, 0, "c0", 4))
    assert not np.array_equal(batch_indices(n, batch, 0, "c0", 0), batch_indices(n, batch, 0, "c1", 0))


def test_image_folder_data(tmp_path):
    from PIL import Image

    digits = load_digits().pool
    for k in range(60):
        label = int(digits.labels[k])
        folder = tmp_path / "imgs" / f"class_{label}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray((digits.images[k, 0].numpy() * 255).astype("uint8")).save(folder / f"{k}.png")
    report = validate(digits_world(), Plan(clusters=(cluster_from_counts("finetune", ["c1", "c3"], [1, 5]),)), rounds=1, data=str(tmp_path / "imgs"), out_dir=tmp_path / "out",
                      partition_scheme="iid")
    assert report.config.data.endswith("imgs") and 0 <= report.final_accuracy <= 1
