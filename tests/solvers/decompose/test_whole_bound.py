"""The whole problem's Lagrangian bound at the cells' duals: never above the MILP's optimum on generated
instances with several cells (chains across cell borders priced), and its count term is the concave maximum."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaisnet_opt import Objective, SolveParams, generate, solve
from gaisnet_opt.bounds.start_bounds import StartBounds
from gaisnet_opt.budget import Budget
from gaisnet_opt.solvers.decompose.cells import CellJob, cell_scenarios, solve_cell
from gaisnet_opt.solvers.decompose.lagrange import count_term, whole_bound
from gaisnet_opt.solvers.service import cluster_range, with_clusters

ENERGY = Objective(kind="energy")


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(8, 14), seed=st.integers(0, 10**6), k=st.sampled_from([None, 2]))
def test_the_bound_at_the_cells_duals_never_exceeds_the_milps_plan(n, seed, k):
    scenario = generate(n, seed=seed, cell_m=110.0)  # four edge servers: most clients near a border
    if k is not None:
        scenario = with_clusters(scenario, k)
    lo, hi = cluster_range(scenario)
    cells = [c for c in cell_scenarios(scenario) if c.requesters or cluster_range(c)[0]]
    duals = [r.duals for r in (solve_cell(CellJob(c, ENERGY, 5.0, 0)) for c in cells) if r.duals is not None]
    bound, complete = whole_bound(StartBounds(scenario), duals, lo, hi, Budget(None))
    assert complete
    milp = solve(scenario, "milp", ENERGY, params=SolveParams(time_limit_s=20))
    if milp.plan is None:
        return
    assert bound <= milp.objective * (1 + 1e-7)


@given(a=st.lists(st.floats(-50, 50), max_size=12), lo=st.integers(0, 5), extra=st.integers(0, 5),
       top=st.floats(0, 60))
def test_the_count_term_is_the_largest_over_every_dual_up_to_the_cells(a, lo, extra, top):
    hi = lo + extra
    if not a and lo > 0:
        assert count_term(a, lo, hi, top) == -np.inf
        return
    least = np.array(a)
    best = count_term(a, lo, hi, top)
    for mu in np.linspace(-60, top, 241):
        value = mu * (lo if mu >= 0 else hi) + float(np.minimum(0.0, least - mu).sum())
        assert value <= best + 1e-9 * (1 + abs(best))
    assert best == pytest.approx(max(mu * (lo if mu >= 0 else hi) + float(np.minimum(0.0, least - mu).sum())
                                     for mu in {0.0, top, *(x for x in a if x <= top)}))
