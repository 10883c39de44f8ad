__version__ = '0.1.0'

__all__ = ["solve"]


def __getattr__(name: str):
    """`gaisnet_opt.solve` loads the solvers (pyomo, OR-Tools) on first use, so `import gaisnet_opt` stays cheap."""
    if name == "solve":
        from gaisnet_opt.solvers.solve import solve

        return solve
    raise AttributeError(f"module 'gaisnet_opt' has no attribute {name!r}")
