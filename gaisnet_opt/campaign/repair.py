"""Which of the last plan's clusters still hold in this round, and, for those that break, which rules they break.

The checker (`gaisnet_opt.checker`) is the judge: a cluster carried over is
checked alone on the round's scenario (a member that left is `unknown-node`,
a link lost to mobility `link` or `server-link`, a slower round `deadline`).
Fine-tuning clusters carry over from round to round; an inference cluster
only when its requester asks again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from gaisnet_opt.checker import Violation, check
from gaisnet_opt.plan import Cluster, Plan
from gaisnet_opt.scenario import Scenario

CARRY_SKIP = ("cluster-count",)
"""A cluster checked alone is a partial plan: the service's cluster count is the whole plan's business."""


@dataclass(frozen=True)
class Carried:
    """The last plan's clusters that hold as they are, and those that break with the checker's violations."""

    kept: tuple[Cluster, ...] = ()
    broken: tuple[tuple[Cluster, tuple[Violation, ...]], ...] = ()

    @property
    def rules(self) -> dict[str, int]:
        """Broken clusters per rule (a cluster breaking two rules counts under both)."""
        return dict(Counter(rule for _, found in self.broken for rule in sorted({v.rule for v in found})))


def _relevant(scenario: Scenario, cluster: Cluster) -> bool:
    if cluster.kind == "finetune":
        return True
    node = scenario.node.get(cluster.start)
    return node is not None and node.request is not None


def carry(scenario: Scenario, previous: Plan | None, deadline_s: float | None = None) -> Carried:
    """Sort the last plan's relevant clusters into those that pass every rule on `scenario` and those that break."""
    kept, broken = [], []
    for cluster in (previous.clusters if previous is not None else ()):
        if not _relevant(scenario, cluster):
            continue
        found = check(scenario, Plan(clusters=(cluster,)), deadline_s, skip=CARRY_SKIP)
        if found:
            broken.append((cluster, tuple(found)))
        else:
            kept.append(cluster)
    return Carried(tuple(kept), tuple(broken))
