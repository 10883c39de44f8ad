"""The CLI end to end: exit codes 0 / 1 (rule broken) / 2 (bad input), nothing half-written."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from gaisnet_opt.cli import app
from gaisnet_opt.io import load, save
from gaisnet_opt.plan import Cluster, Member, Plan
from gaisnet_opt.scenario import Scenario
from tests.support.worlds import tiny_scenario

runner = CliRunner()


def invoke(*args: str, stdin: str | None = None):
    return runner.invoke(app, list(args), input=stdin)


def test_generate_then_check_and_evaluate(tmp_path):
    s = tmp_path / "s.json"
    assert invoke("generate", "--clients", "20", "--seed", "1", "-o", str(s)).exit_code == 0
    assert load(Scenario, s).meta["seed"] == 1
    out = tmp_path / "run"
    assert invoke("run", "--out-dir", str(out)).exit_code == 0
    r = invoke("check", str(out / "scenario.json"), str(out / "plan.json"))
    assert r.exit_code == 0 and "feasible" in r.output
    r = invoke("evaluate", str(out / "scenario.json"), str(out / "plan.json"), "--json")
    assert r.exit_code == 0
    body = json.loads(r.output)
    assert body["feasible"] is True and body["metrics"]["latency_s"] > 0


def test_stdin_and_stdout(tmp_path):
    r = invoke("generate", "--clients", "6", "--seed", "2")
    assert r.exit_code == 0
    scenario_text = r.output
    plan = tmp_path / "p.json"
    plan.write_text(json.dumps({"clusters": []}))
    r = invoke("evaluate", "-", str(plan), "--json", stdin=scenario_text)
    assert r.exit_code == 1  # an empty plan forms fewer fine-tuning clusters than the service's minimum
    assert json.loads(r.output)["violations"][0]["rule"] == "cluster-count"


def tiny_files(tmp_path, *members: tuple[str, int, int]):
    """The hand-made tiny world and a one-cluster fine-tuning plan, as files."""
    save(tiny_scenario(), tmp_path / "tiny.json")
    plan = Plan(clusters=(Cluster(kind="finetune", members=tuple(Member(node=n, first=a, last=b) for n, a, b in members)),))
    save(plan, tmp_path / "plan.json")
    return str(tmp_path / "tiny.json"), str(tmp_path / "plan.json")


def test_rule_violation_exits_1(tmp_path):
    s, p = tiny_files(tmp_path, ("c0", 0, 0), ("c1", 1, 1))  # the head is left out
    r = invoke("check", s, p, "--json")
    assert r.exit_code == 1
    assert [v["rule"] for v in json.loads(r.output)] == ["embed-head"]
    r = invoke("plot", s, p, "--kind", "gantt", "-o", str(tmp_path / "m.png"))
    assert r.exit_code == 1 and (tmp_path / "m.png").exists()  # drawn, and the broken rule said


def test_ranges_that_do_not_cover_cannot_be_evaluated(tmp_path):
    s, p = tiny_files(tmp_path, ("c0", 0, 1), ("c1", 1, 2))  # block_1 twice
    assert invoke("check", s, p).exit_code == 1
    r = invoke("evaluate", s, p)
    assert r.exit_code == 2 and "overlaps" in r.output


def test_document_on_stdout_stays_parseable(tmp_path):
    s, _ = tiny_files(tmp_path, ("c0", 0, 2))
    r = runner.invoke(app, ["solve", s, "--method", "largest-first", "-o", "-"])
    assert r.exit_code == 0
    assert {c.start for c in Plan.model_validate_json(r.stdout).clusters} == {"c0", "c1"}  # c1 raised a request


def test_bad_inputs_exit_2_and_write_nothing(tmp_path):
    target = tmp_path / "never.json"
    r = invoke("generate", "--clients", "0", "-o", str(target))
    assert r.exit_code == 2 and "clients" in r.output and not target.exists()
    r = invoke("generate", "--batch-size", "0", "-o", str(target))
    assert r.exit_code == 2 and "batch_size" in r.output and not target.exists()
    assert "Traceback" not in r.output

    (tmp_path / "broken.json").write_text('{"nodes": [')
    r = invoke("check", str(tmp_path / "broken.json"), str(tmp_path / "broken.json"))
    assert r.exit_code == 2 and "malformed JSON" in r.output

    invoke("generate", "--clients", "5", "-o", str(tmp_path / "s.json"))
    (tmp_path / "p.json").write_text(json.dumps(
        {"clusters": [{"kind": "finetune", "members": [{"node": "ghost", "first": 0, "last": 40}]}]}))
    r = invoke("evaluate", str(tmp_path / "s.json"), str(tmp_path / "p.json"))
    assert r.exit_code == 2
    assert "clusters[0].members[0].node: unknown node 'ghost'" in r.output
    assert "clusters[0].members[0].last: unit 40 out of range" in r.output


def test_schema_exports_every_document(tmp_path):
    for doc in ("scenario", "plan", "profile", "result"):
        r = invoke("schema", doc)
        assert r.exit_code == 0
        assert json.loads(r.output)["type"] == "object"


def test_check_skip_accepts_a_split_result(tmp_path):
    s, _ = tiny_files(tmp_path, ("c0", 0, 2))
    plan = tmp_path / "split.json"
    r = invoke("split", s, "--chain", "c1,e0", "--kind", "inference", "-o", str(plan))
    assert r.exit_code == 0, r.output
    assert invoke("check", s, str(plan)).exit_code == 1  # one inference cluster: no fine-tuning cluster
    assert invoke("check", s, str(plan), "--skip", "cluster-count").exit_code == 0
    r = invoke("check", s, str(plan), "--skip", "nope")
    assert r.exit_code == 2 and "unknown rule" in r.output
