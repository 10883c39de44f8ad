"""The public API: every name of `gaisnet_opt.__all__` is the real object (the core-only import: test_core_without_torch)."""

from __future__ import annotations

import pytest

import gaisnet_opt


def test_names_are_the_real_objects_and_listed():
    from gaisnet_opt.params import SolveParams
    from gaisnet_opt.solvers.solve import solve

    assert gaisnet_opt.solve is solve and gaisnet_opt.SolveParams is SolveParams
    assert set(gaisnet_opt.__all__) <= set(dir(gaisnet_opt))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = gaisnet_opt.nope  # type: ignore[attr-defined]


def test_the_readme_round_trip_uses_only_the_package():
    from gaisnet_opt import Objective, SolveParams, check, generate, round_cost, solve

    scenario = generate(8, seed=1)
    r = solve(scenario, "largest-first", Objective(), params=SolveParams(time_limit_s=5))
    assert r.plan is not None and check(scenario, r.plan) == []
    assert r.objective == round_cost(scenario, r.plan).latency_s


def test_no_submodule_shadows_a_public_function():
    import importlib
    import pkgutil

    modules = {m.name for m in pkgutil.iter_modules(gaisnet_opt.__path__)}
    assert not modules & set(gaisnet_opt.__all__), "a submodule of that name replaces the function once imported"
    importlib.import_module("gaisnet_opt.comparison")
    assert callable(gaisnet_opt.compare)
