"""A scheduler that only solves never pulls in torch."""

from __future__ import annotations

import subprocess
import sys


def test_core_modules_do_not_import_torch():
    code = (
        "import sys, gaisnet_opt.cli, gaisnet_opt.solvers.best_effort, gaisnet_opt.generator, gaisnet_opt.profilers;"
        "from gaisnet_opt.cli import app;"
        "bad = sorted(m for m in ('torch', 'timm', 'torchvision', 'fvcore') if m in sys.modules);"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
