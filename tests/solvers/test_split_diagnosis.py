"""Infeasible chains: every method says so, with a reason naming the member and the resource."""

from __future__ import annotations

import pytest

from gaisnet_opt.plan import ClusterKind
from gaisnet_opt.result import Objective
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.solvers.split import solve_split
from tests.support.worlds import tiny_scenario

EXACT = ("dp", "milp", "cpsat")


def _with(s: Scenario, **memory: float) -> Scenario:
    nodes = tuple(n.model_copy(update={"memory_bytes": memory[n.id]}) if n.id in memory else n for n in s.nodes)
    return s.model_copy(update={"nodes": nodes})


def _no_d2d(s: Scenario, src: str, dst: str) -> Scenario:
    return s.model_copy(update={"d2d": tuple(l for l in s.d2d if (l.src, l.dst) != (src, dst))})


# tiny world, fine-tuning (B = 2, SGD with momentum): embed needs 1000 B, block_1 2400 B, head 146 B
CASES: list[tuple[str, Scenario, list[str], ClusterKind, tuple[str, ...]]] = [
    ("unknown node", tiny_scenario(), ["c0", "zz"], "finetune", ("unknown node 'zz'",)),
    ("repeated node", tiny_scenario(), ["c0", "c1", "c0"], "finetune", ("c0 appears 2 times",)),
    ("not a source", tiny_scenario(), ["c1", "c0"], "finetune", ("c1", "not a data source")),
    ("no request", tiny_scenario(), ["c0", "c1"], "inference", ("c0", "raised no request")),
    ("missing link", _with(_no_d2d(tiny_scenario(), "c0", "c1"), c0=3000), ["c0", "c1"], "finetune",
     ("c0", "c1", "no link c0 -> c1")),
    ("memory", _with(tiny_scenario(), c0=3000, c1=2000), ["c0", "c1"], "finetune",
     ("up to c0", "units 0..0", "remaining 2 units", "end point c1", "c1 needs", "GB", "has 2e-06 GB")),
    ("start memory", _with(tiny_scenario(), c0=10), ["c0", "c1"], "finetune", ("start point c0 needs", "for embed", "has 1e-08 GB")),
    ("one node", _with(tiny_scenario(), c0=3000), ["c0"], "finetune", ("c0 needs", "embed..head", "GB")),
    ("return link", _no_d2d(tiny_scenario(), "c0", "c1"), ["c1", "c0"], "inference", ("no link c0 -> c1", "return")),
    ("server link", _with(tiny_scenario(server_links=tiny_scenario().server_links[:1]), c0=3000), ["c0", "c1"], "finetune",
     ("c1", "tunable", "no link to edge server e0")),
]


@pytest.mark.parametrize("method", EXACT)
@pytest.mark.parametrize(("label", "scenario", "chain", "kind", "words"), CASES, ids=[c[0] for c in CASES])
def test_reason_names_member_and_resource(label, scenario, chain, kind, words, method):
    r = solve_split(scenario, chain, kind, method)
    assert r.status == "infeasible" and r.plan is None and r.objective is None
    for word in words:
        assert word in r.reason, (word, r.reason)


def test_heuristic_plan_breaking_memory_names_node():
    r = solve_split(_with(tiny_scenario(), c0=3000, c1=2000), ["c0", "c1"], "finetune", "memory-fill")
    assert r.status == "error" and "c1 needs" in r.reason and "GB" in r.reason


def test_deadline_missed_is_infeasible():
    s = tiny_scenario()
    fastest = solve_split(s, ["c0", "c1", "e0"], "finetune", "dp")
    assert fastest.objective is not None
    r = solve_split(s, ["c0", "c1", "e0"], "finetune", "dp", Objective(deadline_s=fastest.objective / 2))
    assert r.status == "infeasible" and "deadline" in r.reason
    ok = solve_split(s, ["c0", "c1", "e0"], "finetune", "dp", Objective(deadline_s=fastest.objective * 2))
    assert ok.status == "optimal"


def test_coverage_is_not_a_split_objective():
    with pytest.raises(ValueError, match="coverage"):
        solve_split(tiny_scenario(), ["c0", "c1"], "finetune", "dp", Objective(kind="coverage"))


def test_unknown_method():
    with pytest.raises(ValueError, match=r"method: unknown .simplex."):
        solve_split(tiny_scenario(), ["c0", "c1"], "finetune", "simplex")  # type: ignore[arg-type]
