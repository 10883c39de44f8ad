"""The CLI end to end: exit codes 0 / 1 (rule broken) / 2 (bad input), nothing half-written."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from gaisnet_opt.cli import app
from gaisnet_opt.io import load
from gaisnet_opt.plan import Plan
from gaisnet_opt.scenario import Scenario

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


def test_rule_violation_exits_1(tmp_path):
    out = tmp_path / "run"
    invoke("run", "--out-dir", str(out))
    plan = load(Plan, out / "plan.json")
    i = next(i for i, c in enumerate(plan.clusters) if c.members[-1].n_units >= 2)
    cluster = plan.clusters[i]
    end = cluster.members[-1]
    short = end.model_copy(update={"last": end.last - 1})  # the head is left out
    broken = cluster.model_copy(update={"members": (*cluster.members[:-1], short)})
    clusters = list(plan.clusters)
    clusters[i] = broken
    (tmp_path / "bad.json").write_text(Plan(clusters=tuple(clusters)).model_dump_json())
    r = invoke("check", str(out / "scenario.json"), str(tmp_path / "bad.json"), "--json")
    assert r.exit_code == 1
    assert [v["rule"] for v in json.loads(r.output)] == ["embed-head"]


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
