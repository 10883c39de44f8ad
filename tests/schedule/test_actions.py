"""The round's actions: exactly those the rules allow, each once."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from gaisnet_opt.schedule import ScheduleInstance
from gaisnet_opt.schedule.actions import feasible_actions
from tests.support.schedule_cases import EXAMPLES, instances, rule_actions


@EXAMPLES
@given(instances(), st.data())
def test_feasible_actions_follow_the_rules(inst: ScheduleInstance, data: st.DataObject) -> None:
    levels = tuple(data.draw(st.integers(0, m.cap)) for m in inst.models)
    row = inst.demand()[0]
    listed = list(feasible_actions(inst.core, np.array(levels), row))
    assert len(listed) == len(set(listed)), "no action listed twice"
    assert set(listed) == rule_actions(inst, levels, row)
