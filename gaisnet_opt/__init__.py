"""gaisnet-opt: plan hybrid federated split learning of a prompted ViT across edge clients.

Everything a caller needs is importable from here (PyVRP style)::

    from gaisnet_opt import Objective, SolveParams, generate, solve

    result = solve(generate(20, seed=1), "cpsat", Objective(kind="energy"), params=SolveParams(time_limit_s=1.0))

Names load on first use (module `__getattr__`), so `import gaisnet_opt` is
light: no torch, and no pyomo or OR-Tools until an exact solver runs. Type
checkers see the real objects through the `TYPE_CHECKING` imports.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from gaisnet_opt.checker import check
    from gaisnet_opt.comparison import compare
    from gaisnet_opt.cost import round_cost
    from gaisnet_opt.generator import generate
    from gaisnet_opt.params import SolveParams
    from gaisnet_opt.plan import Plan
    from gaisnet_opt.profile import ModelProfile
    from gaisnet_opt.profile_catalog import load_profile
    from gaisnet_opt.result import Objective, SolveResult
    from gaisnet_opt.scenario import Scenario
    from gaisnet_opt.schedule.solve import solve_schedule
    from gaisnet_opt.solvers.solve import solve
    from gaisnet_opt.solvers.split import solve_split

_HOME: dict[str, str] = {
    "Scenario": "gaisnet_opt.scenario",
    "Plan": "gaisnet_opt.plan",
    "ModelProfile": "gaisnet_opt.profile",
    "SolveResult": "gaisnet_opt.result",
    "Objective": "gaisnet_opt.result",
    "SolveParams": "gaisnet_opt.params",
    "solve": "gaisnet_opt.solvers.solve",
    "solve_split": "gaisnet_opt.solvers.split",
    "solve_schedule": "gaisnet_opt.schedule.solve",
    "compare": "gaisnet_opt.comparison",
    "check": "gaisnet_opt.checker",
    "round_cost": "gaisnet_opt.cost",
    "generate": "gaisnet_opt.generator",
    "load_profile": "gaisnet_opt.profile_catalog",
}
"""Each public name and the module that defines it."""

__all__ = [
    "ModelProfile",
    "Objective",
    "Plan",
    "Scenario",
    "SolveParams",
    "SolveResult",
    "check",
    "compare",
    "generate",
    "load_profile",
    "round_cost",
    "solve",
    "solve_schedule",
    "solve_split",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and keep the name here."""
    if name not in _HOME:
        raise AttributeError(f"module 'gaisnet_opt' has no attribute {name!r}")
    value = getattr(import_module(_HOME[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
