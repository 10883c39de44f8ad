"""Shared fixtures: the tiny hand-made world of `tests.worlds`."""

from __future__ import annotations

import pytest

from gaisnet_opt.scenario import Scenario
from tests.worlds import tiny_scenario


@pytest.fixture
def scenario() -> Scenario:
    return tiny_scenario()
