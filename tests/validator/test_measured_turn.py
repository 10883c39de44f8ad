"""A measured turn from the stamps of its processes: transfers from both ends ready to the receive's end, per pass."""

from __future__ import annotations

import pytest

from gaisnet_opt.validator.measured_turn import measure_turn
from gaisnet_opt.validator.trace import Trace


def _two_iterations() -> list:
    """c0 -> c1 fine-tuning, two iterations, stamped by hand (seconds from 100): rank 0 opens the turn and delivers."""
    t = Trace()
    t.add("turn", 0, 100.0, 100.0)
    t.add("send:delivery", 1, 100.0, 100.1)
    t.add("recv:delivery", 1, 100.0, 100.5)  # c1 waited for its modules from the start of the turn
    for i, base in enumerate((101.0, 111.0)):
        t.add("forward", 0, base, base + 1)
        t.add("recv:smashed", 1, 100.5 if i == 0 else base - 5, base + 4)  # c1 posted early: it was waiting
        t.add("send:smashed", 1, base + 1, base + 1.01)  # so the transfer starts with the send, and takes 3 s
        t.add("forward", 1, base + 4, base + 5)
        t.add("backward", 1, base + 5, base + 6)
        t.add("step", 1, base + 6, base + 6.5)
        t.add("send:gradient", 1, base + 6.5, base + 6.6)
        t.add("recv:gradient", 1, base + 7, base + 8.5)  # c0 posted late: the transfer starts then, 1.5 s
    t.add("send:upload", 1, 119.0, 119.1)
    t.add("recv:upload", 1, 119.5, 120.0)  # rank 0 posted late
    return t.events


def test_figures_per_pass_from_both_ends_of_every_message():
    turn = measure_turn(_two_iterations(), ["c0", "c1"], inference=False)
    assert turn.hop_fwd_s == {1: pytest.approx(3.0)} and turn.hop_bwd_s == {1: pytest.approx(1.5)}
    assert turn.delivery_s == {1: pytest.approx(0.5)} and turn.upload_s == {1: pytest.approx(0.5)}
    assert turn.compute_s[1] == {"forward": pytest.approx(1), "backward": pytest.approx(1), "step": pytest.approx(0.5)}
    assert turn.latency_s == pytest.approx(20.0)  # until the upload's receive completes
    hops = [(s.row, s.phase, s.start_s, s.duration_s) for s in turn.segments if s.phase.startswith("hop")]
    assert hops[:2] == [("c0", "hop-forward", pytest.approx(2.0), pytest.approx(3.0)),
                        ("c1", "hop-backward", pytest.approx(8.0), pytest.approx(1.5))]  # on the sender's row


def test_no_turn_stamped_is_not_measured():
    t = Trace()
    t.add("forward", 0, 1.0, 2.0)  # an in-process run stamps compute only
    assert measure_turn(t.events, ["c0"], inference=False) is None
