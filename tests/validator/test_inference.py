"""SL inference along a chain returns the whole model's logits at the start point."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from gaisnet_opt.plan import cluster_from_counts  # noqa: E402
from gaisnet_opt.profilers.config import DIGITS_VIT  # noqa: E402
from gaisnet_opt.profilers.prompted_vit import build_model  # noqa: E402
from gaisnet_opt.validator.data import load_digits  # noqa: E402
from gaisnet_opt.validator.inference import InferenceChain  # noqa: E402
from tests.support.validator_worlds import CLIENTS  # noqa: E402

torch.set_num_threads(1)


@pytest.mark.parametrize("counts", [[6], [2, 4], [1, 2, 3]], ids=lambda c: "-".join(map(str, c)))
def test_sl_inference_returns_the_whole_models_logits_at_the_start_point(counts):
    model = build_model(DIGITS_VIT, seed=1)
    images = load_digits().test.images[:10]
    chain = InferenceChain(model.units(), cluster_from_counts("inference", CLIENTS[: len(counts)], counts).members)
    served = chain.serve(images, chunk=4)
    with torch.no_grad():
        expected = model(images)
    assert torch.allclose(served.logits, expected, atol=1e-6, rtol=0)
    assert torch.equal(served.predictions, expected.argmax(1))
    if len(counts) > 1:
        assert chain.return_hop.fwd_bytes == 10 * 10 * 4  # ten samples' logits of ten classes went home
