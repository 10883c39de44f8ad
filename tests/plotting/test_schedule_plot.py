"""The Fig. 8 plot: written, non-empty, the same bytes for the same results."""

from __future__ import annotations

from pathlib import Path

import pytest

from gaisnet_opt.plotting.cumulative_profit import plot_cumulative
from gaisnet_opt.plotting.figure_io import save_figure
from gaisnet_opt.schedule import compare_policies, paper_table5


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plot_is_written_and_reproducible(tmp_path: Path, suffix: str) -> None:
    results = compare_policies(paper_table5(), ["mlcp", "msip", "rs"], runs=1).results
    first = save_figure(plot_cumulative(results), tmp_path / f"a{suffix}")
    second = save_figure(plot_cumulative(results), tmp_path / "sub" / f"b{suffix}")
    assert first.stat().st_size > 1000
    assert first.read_bytes() == second.read_bytes()
