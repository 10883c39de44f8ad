"""Meters in plain data and back: what the checkpoint holds and what a member process sends rank 0."""

from __future__ import annotations

import json

import pytest

from gaisnet_opt.validator.meters import HopMeter, MemberMeter, meter_data, restore


def test_meters_survive_json_and_are_restored_in_place():
    member = MemberMeter("c1", 0, 2, passes=3, bwd_passes=2, fwd_flops=1.5e8, fwd_s=0.25, delivered_bytes=1024)
    hop = HopMeter("c1", "c3", passes=3, bwd_passes=2, fwd_bytes=139264, label_bytes=768)
    data = json.loads(json.dumps(meter_data([member, hop])))
    fresh = [MemberMeter("c1", 0, 2), HopMeter("c1", "c3")]
    restore(fresh, data)
    assert fresh == [member, hop]
    with pytest.raises(ValueError, match="1 saved meters for 2"):
        restore(fresh, data[:1])
