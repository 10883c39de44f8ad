"""Scenario link checks: a large valid scenario passes the bulk check; any bad link is still named one by one."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gaisnet_opt.generator import generate
from gaisnet_opt.scenario import D2DLink, Scenario, ServerLink

BASE = generate(300, seed=8)


def errors_of(**update: object) -> list[tuple[str, str]]:
    """(field path, message) of every problem of BASE with `update`, or [] if it validates."""
    try:
        BASE.model_copy(update=update)
    except ValidationError as exc:
        return [(".".join(map(str, e["loc"])), e["msg"]) for e in exc.errors()]
    return []


def test_a_large_valid_scenario_validates_and_copies():
    assert len(BASE.d2d) > 5000
    assert errors_of() == []
    assert Scenario.model_validate(BASE.model_dump()) == BASE
    assert errors_of(d2d=(), server_links=()) == []


@pytest.mark.parametrize(("bad", "path", "message"), [
    (D2DLink(src="c1", dst="c404", rate_bps=1.0), "dst", "unknown node 'c404'"),
    (D2DLink(src="e0", dst="c1", rate_bps=1.0), "src", "'e0' is an edge server; D2D links join clients"),
    (D2DLink(src="c7", dst="c7", rate_bps=1.0), "", "self-link on 'c7'"),
])
@pytest.mark.parametrize("at", [0, 1234, -1])
def test_a_bad_d2d_link_anywhere_is_named(bad, path, message, at):
    d2d = list(BASE.d2d)
    d2d.insert(at if at >= 0 else len(d2d), bad)
    index = at if at >= 0 else len(d2d) - 1
    assert errors_of(d2d=tuple(d2d)) == [(f"d2d.{index}{'.' + path if path else ''}", message)]


def test_a_duplicate_link_names_the_second_copy():
    first = BASE.d2d[10]
    got = errors_of(d2d=(*BASE.d2d, first))
    assert got == [(f"d2d.{len(BASE.d2d)}", f"duplicate link {first.src} -> {first.dst}")]
    link = BASE.server_links[3]
    got = errors_of(server_links=(link, *BASE.server_links))
    assert got == [("server_links.4", f"duplicate link {link.client} <-> {link.server}")]  # its original, 3, moved up one


@pytest.mark.parametrize(("client", "server", "problems"), [
    ("e1", "e0", [("server_links.{i}.client", "'e1' is not a client")]),
    ("c1", "c2", [("server_links.{i}.server", "'c2' is not an edge server")]),
    ("c1", "ghost", [("server_links.{i}.server", "unknown node 'ghost'")]),
])
def test_a_bad_server_link_is_named(client, server, problems):
    links = (*BASE.server_links, ServerLink(client=client, server=server, uplink_bps=1.0, downlink_bps=1.0))
    i = len(links) - 1
    assert errors_of(server_links=links) == [(p.format(i=i), m) for p, m in problems]
