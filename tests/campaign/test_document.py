"""The campaign document: every problem named by its field path, in Python and on the command line (exit 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from typer.testing import CliRunner

from gaisnet_opt.campaign.document import load_campaign
from gaisnet_opt.campaign.world import build_world
from gaisnet_opt.cli import app
from gaisnet_opt.errors import InputError
from gaisnet_opt.generator import generate
from gaisnet_opt.io import save
from gaisnet_opt.profile_catalog import load_profile
from gaisnet_opt.profilers.config import DIGITS_VIT
from tests.campaign.support import small_spec

runner = CliRunner()


def _doc(**changes: Any) -> dict[str, Any]:
    doc = small_spec().model_dump(mode="json")
    doc.update(changes)
    return doc


def _paths(exc: ValidationError) -> set[str]:
    return {".".join(map(str, e["loc"])) for e in exc.errors()}


@pytest.mark.parametrize(("change", "path"), [
    ({"domains": [{"name": "A"}, {"name": "a"}]}, "domains.1.name"),
    ({"domains": [{"name": "A", "sources": ["c1"]}, {"name": "B", "sources": ["c2", "c1"]}]}, "domains.1.sources.1"),
    ({"domains": [{"name": "A", "sources": 2}, {"name": "B"}]}, "domains.1.sources"),
    ({"domains": [{"name": "1A"}]}, "domains.0.name"),
    ({"dynamics": {"mobility": {"model": "levy-walk"}}}, "dynamics.mobility"),
    ({"dynamics": {"mobility": {"model": "random-waypoint", "speed_mps": [3, 1]}}}, "dynamics.mobility.random-waypoint.speed_mps"),
    ({"dynamics": {"churn": {"leave": 1.5}}}, "dynamics.churn.leave"),
    ({"policy": {"policies": ["mlcp", "mlcp"]}}, "policy.policies"),
    ({"planner": {"objective": "coverage"}}, "planner.objective"),
    ({"rounds": 0}, "rounds"),
    ({"policy": {"window": 3000}}, "policy.window"),  # 3001² level vectors: more than MLCP's dynamic program holds
    ({"surprise": 1}, "surprise"),
])
def test_a_bad_field_is_named(change: dict[str, Any], path: str) -> None:
    from gaisnet_opt.campaign.spec import CampaignSpec

    with pytest.raises(ValidationError) as info:
        CampaignSpec.model_validate(_doc(**change))
    assert path in _paths(info.value), _paths(info.value)


@pytest.mark.parametrize(("domains", "path"), [
    ([{"name": "A", "sources": ["c1", "c999"]}], "domains[0].sources[1]"),
    ([{"name": "A", "classes": [3, 12]}], "domains[0].classes[1]"),
    ([{"name": "A", "sources": 13}], "domains"),
])
def test_what_needs_the_scenario_is_checked_against_it(domains: list[dict[str, Any]], path: str) -> None:
    from gaisnet_opt.campaign.spec import CampaignSpec

    with pytest.raises(InputError) as info:
        build_world(CampaignSpec.model_validate(_doc(domains=domains)))
    assert path in [p for p, _ in info.value.problems]


def test_drawn_sources_are_seeded_and_disjoint() -> None:
    a, b = build_world(small_spec()), build_world(small_spec())
    assert [d.sources for d in a.domains] == [d.sources for d in b.domains]
    assert not set(a.domains[0].sources) & set(a.domains[1].sources)
    assert all(a.base.node[s].data is not None and a.base.node[s].data.classes == d.classes  # type: ignore[union-attr]
               for d in a.domains for s in d.sources)
    assert sum(n.data is not None for n in a.base.nodes) == 6 and all(n.request is None for n in a.base.nodes)


def test_a_document_reads_its_scenario_relative_to_itself(tmp_path: Path) -> None:
    scenario = generate(8, 3, profile=load_profile(DIGITS_VIT.profile_name))
    save(scenario, tmp_path / "sub" / "net.json")
    (tmp_path / "sub" / "camp.yaml").write_text(yaml.safe_dump({"scenario": "net.json", "domains": [{"name": "A"}]}))
    spec = load_campaign(tmp_path / "sub" / "camp.yaml")
    world = build_world(spec)
    assert world.base.name == scenario.name and world.domains[0].sources == tuple(n.id for n in scenario.data_sources)


def test_a_bare_scenario_becomes_two_domains_splitting_the_classes(tmp_path: Path) -> None:
    scenario = generate(20, 3, profile=load_profile(DIGITS_VIT.profile_name))
    save(scenario, tmp_path / "s.json")
    spec = load_campaign(tmp_path / "s.json")
    assert [(d.name, d.classes) for d in spec.domains] == [("A", (0, 1, 2, 3, 4)), ("B", (5, 6, 7, 8, 9))]
    world = build_world(spec)
    own = [n.id for n in scenario.data_sources]
    assert world.domains[0].sources == tuple(own[0::2]) and world.domains[1].sources == tuple(own[1::2])


def test_the_command_line_exits_2_naming_the_field_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(_doc(dynamics={"battery": {"capacity_j": [5, 1]}})))
    out = tmp_path / "out"
    result = runner.invoke(app, ["campaign", str(bad), "--out", str(out)])
    assert result.exit_code == 2 and "dynamics.battery.capacity_j" in result.output
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(_doc()))
    for args, field in ((["--policy", "mlcp,greedy"], "--policy"), (["--rounds", "0"], "rounds"),
                        (["--capacity", "0"], "policy.capacity")):
        result = runner.invoke(app, ["campaign", str(good), "--out", str(out), *args])
        assert result.exit_code == 2 and field in result.output, result.output
    result = runner.invoke(app, ["front", str(good), "--domain", "Z"])
    assert result.exit_code == 2 and "--domain" in result.output
    result = runner.invoke(app, ["front", str(good), "--plot", str(tmp_path / "f.gif")])
    assert result.exit_code == 2 and "--plot" in result.output
    assert not out.exists()


def test_the_documented_example_is_a_valid_campaign() -> None:
    import re

    from gaisnet_opt.campaign.spec import CampaignSpec

    text = (Path(__file__).parents[2] / "docs" / "campaign.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert example is not None
    spec = CampaignSpec.model_validate(yaml.safe_load(example.group(1)))
    assert [d.name for d in spec.domains] == ["A", "B"] and spec.policy.forecast == "sampled"
