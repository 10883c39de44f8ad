"""The public API: every name of `gaisnet_opt.__all__` imports from the package, and the import stays core-only."""

from __future__ import annotations

import subprocess
import sys

import pytest

import gaisnet_opt

HEAVY = ("torch", "timm", "torchvision", "pyomo", "ortools", "highspy")


def test_every_public_name_imports_without_torch_or_a_solver():
    code = (
        "import sys, gaisnet_opt\n"
        f"heavy = {HEAVY!r}\n"
        "assert not [m for m in heavy if m in sys.modules], 'import gaisnet_opt loaded a heavy module'\n"
        "from gaisnet_opt import *\n"
        "missing = [n for n in gaisnet_opt.__all__ if n not in globals()]\n"
        "bad = sorted(m for m in heavy if m in sys.modules)\n"
        "print(missing, bad); sys.exit(1 if missing or bad else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


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
