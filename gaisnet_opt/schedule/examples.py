"""Built-in instances: the paper's Table V (section V.F of arXiv:2401.02668).

Three devices (edge models) A, B, C; upgrading one (fine-tuning) costs 50;
a good (an inference) earns 50 + 25·min(ℓ, 2). The paper bounds no level:
its RS schedule upgrades A three times. The cap is therefore the horizon,
which never binds. In the paper's notation a lowercase letter upgrades
(fine-tunes) that model and an uppercase letter produces (serves) its good.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gaisnet_opt.schedule.instance import EdgeModel, ProfitCurve, ScheduleInstance

PAPER_REQUESTS = "A A B C C C C C C C"
PAPER_RS = "a b a C b C a C c C"
"""The paper's random-selection schedule (Table V), scoring -75."""
PAPER_MSIP = "A A B C C C C C C C"
PAPER_MLCP = "A c c C C C C C C C"
PAPER_TOTALS = {"mlcp": 650.0, "msip": 500.0, "rs-paper": -75.0}


def paper_table5() -> ScheduleInstance:
    """The paper's Table V instance."""
    requests = tuple((name,) for name in PAPER_REQUESTS.split())
    curve = ProfitCurve(base=50.0, gain_per_level=25.0, saturation_level=2)
    models = tuple(EdgeModel(name=n, cap=len(requests), finetune_cost=50.0, profit=curve) for n in "ABC")
    return ScheduleInstance(name="paper-table5", models=models, capacity=1, requests=requests)


@dataclass(frozen=True)
class Example:
    """A built-in instance with the schedules and totals its source reports, to print beside ours."""

    build: Callable[[], ScheduleInstance]
    schedules: dict[str, str]
    totals: dict[str, float]
    source: str


EXAMPLES = {
    "paper-table5": Example(paper_table5, {"rs-paper": PAPER_RS}, PAPER_TOTALS, "arXiv:2401.02668 Table V"),
}
"""Built-in instances by name."""
