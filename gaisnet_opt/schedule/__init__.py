"""Service priority over rounds (docs/model.md §6): fine-tune or infer, which model, whose request.

    from gaisnet_opt.schedule import solve_schedule, compare_policies, paper_table5
    solve_schedule(paper_table5(), "mlcp").total   # 650.0
"""

from gaisnet_opt.schedule.examples import EXAMPLES, paper_table5
from gaisnet_opt.schedule.instance import EdgeModel, Forecast, ProfitCurve, ScheduleInstance
from gaisnet_opt.schedule.result import OptimalSchedules, PolicyComparison, PolicySummary, RoundDecision, ScheduleResult
from gaisnet_opt.schedule.solve import POLICIES, Policy, applicable_policies, compare_policies, solve_schedule

__all__ = [
    "EXAMPLES",
    "POLICIES",
    "EdgeModel",
    "Forecast",
    "OptimalSchedules",
    "Policy",
    "PolicyComparison",
    "PolicySummary",
    "ProfitCurve",
    "RoundDecision",
    "ScheduleInstance",
    "ScheduleResult",
    "applicable_policies",
    "compare_policies",
    "paper_table5",
    "solve_schedule",
]
