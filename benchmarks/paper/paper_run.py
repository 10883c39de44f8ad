"""What the paper scripts share: their arguments, the provenance header, and running one experiment.

Each script in this folder is one experiment of the paper's §V
(`gaisnet_opt.reproduce`); it writes benchmarks/results/paper/<name>.md,
.csv and .png.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BENCHMARKS))
from provenance import header  # noqa: E402

from gaisnet_opt.reproduce import EXPERIMENTS, PACKAGES, reproduce  # noqa: E402

RESULTS = BENCHMARKS / "results" / "paper"


def main(name: str) -> None:
    """Parse `--out` and `--quick`, run experiment `name`, print the files written."""
    title = EXPERIMENTS[name].title
    parser = argparse.ArgumentParser(description=title)
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory for the .md, .csv and .png")
    parser.add_argument("--quick", action="store_true", help="one round, one seed, a few samples: a smoke test")
    args = parser.parse_args()
    for path in reproduce(name, args.out, quick=args.quick, preamble=header(title, PACKAGES)):
        print(f"wrote {path}")
