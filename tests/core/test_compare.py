"""`compare`: one bound for every row, every plan checked, split and joint alike."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from gaisnet_opt.checker import check
from gaisnet_opt.cli import app
from gaisnet_opt.comparison import best_bound, compare, records
from gaisnet_opt.generator import generate
from gaisnet_opt.io import save
from gaisnet_opt.params import SolveParams
from gaisnet_opt.result import Objective, SolveResult, relative_gap


def test_gaps_come_from_one_bound_and_plans_pass_the_checker():
    s = generate(8, seed=4)
    c = compare(s, params=SolveParams(time_limit_s=10))
    assert c.best_bound is not None and c.bound_from in ("cpsat", "milp")
    for row in c.rows:
        r = row.result
        if r.plan is not None:
            assert check(s, r.plan) == []
            assert row.gap_to_best_bound == relative_gap(r.objective, c.best_bound)
            assert r.objective >= c.best_bound * (1 - 1e-6)  # no method beats a proven bound
    assert {row.method for row in c.rows} >= {"cpsat", "milp", "largest-first", "local"}


def test_split_methods_on_a_chain():
    s = generate(12, seed=1, area_per_client_m2=100)
    chain = [s.data_sources[0].id, *[n.id for n in s.clients if n.data is None][:3]]
    c = compare(s, chain=chain, params=SolveParams(time_limit_s=10))
    exact = [r for r in c.rows if r.method in ("dp", "milp", "cpsat") and r.result.status == "optimal"]
    assert len(exact) == 3
    assert max(r.result.objective for r in exact) == pytest.approx(min(r.result.objective for r in exact), rel=1e-6)


def test_best_bound_picks_the_tightest():
    lo = Objective()
    rs = [SolveResult(status="optimal", method="a", bound=3.0), SolveResult(status="feasible", method="b", bound=2.0),
          SolveResult(status="feasible", method="c")]
    assert best_bound(rs, lo) == (3.0, "a")
    assert best_bound(rs, Objective(kind="coverage")) == (2.0, "b")


def test_cli_json_and_csv(tmp_path):
    s = tmp_path / "s.json"
    save(generate(8, seed=4), s)
    r = CliRunner().invoke(app, ["compare", str(s), "--methods", "largest-first,local", "--json", "--csv", str(tmp_path / "c.csv")])
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    assert [row["method"] for row in body["rows"]] == ["largest-first", "local"]
    assert (tmp_path / "c.csv").read_text().splitlines()[0].startswith("method,status,objective")
    r = CliRunner().invoke(app, ["compare", str(s), "--methods", "nope"])
    assert r.exit_code == 2 and "unknown nope" in r.output


def test_records_have_units_in_their_names():
    s = generate(8, seed=4)
    rec = records(compare(s, methods=["largest-first"], params=SolveParams(time_limit_s=5)))[0]
    assert {"time_s", "latency_s", "energy_j", "comm_bytes", "memory_bytes"} <= set(rec)
