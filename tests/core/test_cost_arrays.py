"""The vectorised cost figures equal `member_cost` / `hop_cost` entry by entry (they are the same formulas)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaisnet_opt.cost import (
    hop_arrays,
    hop_cost,
    hop_energy_j,
    member_compute_energy_j,
    member_cost,
    member_link_energy_j,
    segment_arrays,
    server_arrays,
)
from tests.support.joint_cases import scenarios


def _same(a: float, b: float) -> bool:
    return (math.isinf(a) and math.isinf(b)) or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), kind=st.sampled_from(["finetune", "inference"]), samples=st.integers(1, 9),
       cached=st.booleans())
def test_segment_arrays_are_member_cost(scenario, kind, samples, cached):
    servers = (*(e.id for e in scenario.edges), None)
    arr = segment_arrays(scenario, kind, samples)
    srv = server_arrays(scenario, kind, cached, servers)
    ids = [v.id for v in scenario.nodes]
    n, it = scenario.profile.n_units, (scenario.training.local_iters if kind == "finetune" else 1)
    for i, node in enumerate(ids):
        for f in range(n):
            for l in range(f, n):
                for k, server in enumerate(servers):
                    m = member_cost(scenario, kind, node, f, l, server, samples, cached)
                    assert _same(arr.iter_s[i, f, l], m.fwd_s + m.bwd_s)
                    assert _same(srv.delivery_s[srv.row[k, i], f, l], m.delivery_s) and _same(srv.upload_s[srv.row[k, i], f, l], m.upload_s)
                    assert arr.fits[i, f, l] == (m.memory_bytes <= m.memory_capacity_bytes)
                    assert _same(arr.compute_j[i, f, l], member_compute_energy_j(scenario, m, it))
                    if m.delivery_s < math.inf and m.upload_s < math.inf:
                        assert _same(srv.link_j[srv.row[k, i], f, l], member_link_energy_j(scenario, m, server))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), kind=st.sampled_from(["finetune", "inference"]), samples=st.integers(1, 9))
def test_hop_arrays_are_hop_cost(scenario, kind, samples):
    ids = [v.id for v in scenario.nodes]
    pairs = [(a, b) for a in range(len(ids)) for b in range(len(ids)) if a != b]
    rate = lambda a, b: scenario.rate(ids[a], ids[b]) if scenario.rate(ids[a], ids[b]) is not None else math.nan
    src, dst = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    arr = hop_arrays(scenario, kind, samples, src, dst, np.array([rate(a, b) for a, b in pairs]),
                     np.array([rate(b, a) for a, b in pairs]))
    it = scenario.training.local_iters if kind == "finetune" else 1
    for e, (a, b) in enumerate(pairs):
        for u in range(scenario.profile.n_units - 1):
            h = hop_cost(scenario, kind, ids[a], ids[b], u, samples)
            assert _same(arr.iter_s[e, u], h.fwd_s + h.bwd_s)
            if h.fwd_s + h.bwd_s < math.inf:
                assert _same(arr.energy_j[e, u], hop_energy_j(scenario, h, it))
