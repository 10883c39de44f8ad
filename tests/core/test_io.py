"""Documents round-trip losslessly; bad input names the field path and the reason."""

from __future__ import annotations

import json

import pytest

from gaisnet_opt.errors import InputError
from gaisnet_opt.generator import generate
from gaisnet_opt.io import dumps, load, parse_as, parse_document, save
from gaisnet_opt.plan import Plan
from gaisnet_opt.profile import ModelProfile
from gaisnet_opt.result import SolveResult
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.solvers.best_effort import solve_best_effort


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_round_trip_is_lossless(tmp_path, suffix):
    scenario = generate(12, seed=3)
    result = solve_best_effort(scenario, clusters=2)
    for model, obj in ((Scenario, scenario), (Plan, result.plan), (SolveResult, result), (ModelProfile, scenario.profile)):
        path = tmp_path / f"doc{suffix}"
        save(obj, path)
        assert load(model, path) == obj


def problems(model, data) -> dict[str, str]:
    with pytest.raises(InputError) as info:
        parse_as(model, data, "test")
    return dict(info.value.problems)


def scenario_dict() -> dict:
    return json.loads(dumps(generate(5, seed=0)))


def test_unknown_field_is_named():
    data = scenario_dict()
    data["training"]["batchsize"] = 4
    assert "training.batchsize" in problems(Scenario, data)


@pytest.mark.parametrize("field", ["flops", "memory_bytes"])
def test_zero_or_negative_capacity_is_named(field):
    for bad in (0, -1):
        data = scenario_dict()
        data["nodes"][2][field] = bad
        got = problems(Scenario, data)
        assert f"nodes[2].{field}" in got and "greater than 0" in got[f"nodes[2].{field}"]


def test_link_naming_unknown_node_is_named():
    data = scenario_dict()
    data["d2d"][0]["dst"] = "c99"
    data["server_links"][1]["server"] = "e7"
    got = problems(Scenario, data)
    assert got["d2d[0].dst"] == "unknown node 'c99'"
    assert got["server_links[1].server"] == "unknown node 'e7'"


def test_duplicate_ids_and_links_are_named():
    data = scenario_dict()
    data["nodes"][1]["id"] = data["nodes"][0]["id"]
    data["d2d"].append(dict(data["d2d"][0]))
    got = problems(Scenario, data)
    assert "nodes[1].id" in got and f"d2d[{len(data['d2d']) - 1}]" in got


def test_negative_unit_index_in_plan_is_named():
    got = problems(Plan, {"clusters": [{"kind": "finetune", "members": [{"node": "c0", "first": -1, "last": 3}]}]})
    assert "clusters[0].members[0].first" in got


def test_malformed_json_and_yaml_say_where():
    with pytest.raises(InputError, match=r"line 1, column \d+.*malformed JSON"):
        parse_document('{"nodes": [}', "x.json")
    with pytest.raises(InputError, match="malformed YAML"):
        parse_document("nodes: [a, b\n  c: d", "x.yaml")


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="No such file"):
        load(Scenario, tmp_path / "absent.json")


def test_failed_write_leaves_no_file(tmp_path, monkeypatch):
    import os

    def boom(src, dst):
        raise RuntimeError("boom")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(RuntimeError, match="boom"):
        save(generate(5, seed=0), tmp_path / "out.json")
    assert list(tmp_path.iterdir()) == []  # neither the target nor the temporary file


def test_unwritable_target_is_an_input_error(tmp_path):
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(InputError, match="is a directory"):
        save(generate(5, seed=0), tmp_path / "dir.json")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="cannot write here"):
        save(generate(5, seed=0), tmp_path / "file" / "s.json")


def test_written_files_are_readable_by_others(tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        save(generate(5, seed=0), tmp_path / "s.json")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "s.json").stat().st_mode) == 0o644


def test_scenario_copies_are_validated_and_fresh():
    s = generate(6, seed=1)
    assert s.node["c0"].flops > 1  # fills the lookup cache
    slow = tuple(n.model_copy(update={"flops": 1.0}) if n.id == "c0" else n for n in s.nodes)
    t = s.model_copy(update={"nodes": slow})
    assert t.node["c0"].flops == 1.0
    with pytest.raises(Exception, match="unknown node"):
        s.model_copy(update={"nodes": s.nodes[1:]})  # links still name c0
