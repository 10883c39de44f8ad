"""Shared fixtures (the tiny hand-made world of `tests.support.worlds`) and hypothesis profiles.

The default profile is derandomized, so the suite (and CI) draws the same
examples on every run; `HYPOTHESIS_PROFILE=explore` draws fresh ones, which is
how new counterexamples are found (then pinned as regression tests).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from gaisnet_opt.scenario import Scenario
from tests.support.worlds import tiny_scenario

settings.register_profile("deterministic", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))


@pytest.fixture
def scenario() -> Scenario:
    return tiny_scenario()
