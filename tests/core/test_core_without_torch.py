"""A scheduler that only solves never pulls in torch, and `import gaisnet_opt` pulls in no solver either."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "timm", "torchvision", "fvcore", "pyomo", "ortools", "highspy")


def _python(code: str) -> None:
    """Run `code` in a fresh interpreter; it exits non-zero (printing why) when a check fails."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_core_modules_do_not_import_torch():
    _python(
        "import sys, gaisnet_opt.cli, gaisnet_opt.solvers.best_effort, gaisnet_opt.generator, gaisnet_opt.profilers;"
        "from gaisnet_opt.cli import app;"
        "bad = sorted(m for m in ('torch', 'timm', 'torchvision', 'fvcore') if m in sys.modules);"
        "print(bad); sys.exit(1 if bad else 0)"
    )


def test_every_public_name_imports_without_torch_or_a_solver():
    _python(
        "import sys, gaisnet_opt\n"
        f"heavy = {HEAVY!r}\n"
        "assert not [m for m in heavy if m in sys.modules], 'import gaisnet_opt loaded a heavy module'\n"
        "from gaisnet_opt import *\n"
        "missing = [n for n in gaisnet_opt.__all__ if n not in globals()]\n"
        "bad = sorted(m for m in heavy if m in sys.modules)\n"
        "print(missing, bad); sys.exit(1 if missing or bad else 0)\n"
    )
