"""The Fig. 8 plot: written, non-empty, the same bytes for the same results."""

from __future__ import annotations

from pathlib import Path

import pytest

from gaisnet_opt.schedule import compare_policies, paper_table5
from gaisnet_opt.schedule.plot import plot_cumulative


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plot_is_written_and_reproducible(tmp_path: Path, suffix: str) -> None:
    results = compare_policies(paper_table5(), ["mlcp", "msip", "rs"], runs=1).results
    first = plot_cumulative(results, tmp_path / f"a{suffix}")
    second = plot_cumulative(results, tmp_path / "sub" / f"b{suffix}")
    assert first.stat().st_size > 1000
    assert first.read_bytes() == second.read_bytes()
