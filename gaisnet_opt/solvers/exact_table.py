"""The exact methods' table under the arc cap: the caller's candidate limit, tightened until the table fits.

Memory grows with the table's arcs (segments and hops) and everything built
from them (rows, the solver's model), so `SolveParams.max_arcs` bounds it
(docs/model.md §7). When `JointTable.build` passes the cap, the candidate
limit (`instances.candidates`) is cut to what the arcs built so far project
would fit, and the table is built again; the result says so (`Restriction`,
by "max_arcs"). Arcs grow about with the square of the candidates (hops join
pairs of them), hence the square root; `SHRINK` keeps a margin under the cap.
"""

from __future__ import annotations

import math

from gaisnet_opt.budget import Budget
from gaisnet_opt.instances.joint_table import JointTable, TooManyArcs
from gaisnet_opt.instances.split_table import TableCache
from gaisnet_opt.params import SolveParams
from gaisnet_opt.result import Restriction
from gaisnet_opt.scenario import Scenario

SHRINK = 0.9
"""The new candidate limit's margin under the projected fit."""


class ModelTooLarge(Exception):
    """Even one candidate client per cluster gives more arcs than the cap."""


def exact_table(scenario: Scenario, cache: TableCache, params: SolveParams,
                budget: Budget) -> tuple[JointTable, Restriction | None]:
    """The table of `params`' candidate limit, or of the widest tighter one under `params.max_arcs`, and the
    restriction it was built under (None: the whole problem)."""
    candidates, radius = params.candidates, params.radius
    by = "params" if candidates is not None or radius is not None else None
    while True:
        try:
            table = JointTable.build(scenario, radius, candidates, cache, budget=budget, max_arcs=params.max_arcs)
        except TooManyArcs as over:
            assert params.max_arcs is not None  # only a cap raises it
            candidates = tighter(over, candidates, params.max_arcs)
            if candidates is None:
                raise ModelTooLarge(f"more than max_arcs={params.max_arcs} segments and hops even with one candidate "
                                    f"client per cluster ({over})") from None
            by = "max_arcs"
            continue
        restriction = Restriction(candidates=candidates, radius=radius, by=by) if by is not None else None
        return table, restriction


def tighter(over: TooManyArcs, candidates: int | None, max_arcs: int) -> int | None:
    """A candidate limit below the one that overflowed, sized by the projected arcs (None: none below 1)."""
    width = over.widest if candidates is None else min(candidates, over.widest)
    fit = int(width * math.sqrt(max_arcs / over.projected) * SHRINK)
    new = min(fit, width - 1)
    return new if new >= 1 else None
