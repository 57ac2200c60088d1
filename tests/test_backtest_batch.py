"""Backtest sweeps through the batch machinery: one row per (policy, parameters, window), locally or on Dask,
resumable; a bad sweep is an input error before anything runs."""

from __future__ import annotations

import glob
from pathlib import Path

import pandas as pd
import pytest
from helpers import PROBLEMS

from allocator.batch.runner import run_batch
from allocator.batch.spec import load_spec
from allocator.errors import InputError

SWEEP = f"""
[[backtests]]
name = "desk-bands"
problem = "{PROBLEMS / 'desk.toml'}"
policies = ["waterfall", "optimized"]
windows = [["2024-01-01", "2024-01-04"], ["2024-02-01", "2024-02-03"]]
params = {{ band = "1.2:1.6" }}
[backtests.grid]
every_days = [0, 7]
"""


def _spec(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _rows(outdir: Path) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(p) for p in glob.glob(str(outdir / "results" / "*.parquet"))],
                     ignore_index=True)


def test_one_row_per_policy_parameters_and_window(tmp_path: Path) -> None:
    spec = load_spec(_spec(tmp_path, SWEEP))
    # the waterfall takes no schedule: 1 unit; the optimized policy 2 schedules; 2 windows each
    assert len(spec.units) == (1 + 2) * 2
    summary = run_batch(spec, tmp_path / "out", workers=1)
    assert (summary.total, summary.solved, summary.failed) == (6, 6, 0)
    rows = _rows(tmp_path / "out")
    assert sorted(rows["scenario"])[:2] == ["optimized[every_days=0]@2024-01-01..2024-01-04",
                                            "optimized[every_days=0]@2024-02-01..2024-02-03"]
    assert rows["param.every_days"].isna().sum() == 2  # the waterfall's two windows: it takes no schedule
    assert set(rows["status"]) == {"done"} and rows["key"].is_unique
    assert {"total_cost", "carry_forgone", "liquidations", "min_coverage", "param.every_days", "start",
            "end"} <= set(rows)
    again = run_batch(load_spec(_spec(tmp_path, SWEEP)), tmp_path / "out", workers=1)
    assert (again.skipped, again.solved) == (6, 6)  # resumed: nothing computed twice
    assert len(_rows(tmp_path / "out")) == 6


@pytest.mark.slow
def test_a_sweep_on_dask_gives_the_same_rows(tmp_path: Path) -> None:
    spec = load_spec(_spec(tmp_path, SWEEP))
    run_batch(spec, tmp_path / "local", workers=1)
    run_batch(spec, tmp_path / "dask", workers=2, dask="local")
    columns = ["key", "scenario", "total_cost", "liquidations", "moves"]
    local = _rows(tmp_path / "local")[columns].sort_values("key").reset_index(drop=True)
    dask = _rows(tmp_path / "dask")[columns].sort_values("key").reset_index(drop=True)
    pd.testing.assert_frame_equal(local, dask)


def test_a_bad_sweep_is_refused_with_every_issue(tmp_path: Path) -> None:
    text = f"""
[[backtests]]
problem = "{PROBLEMS / 'desk.toml'}"
policies = ["nope"]
start = "2024-01-01"
end = "2024-01-10"

[[backtests]]
problem = "{PROBLEMS / 'desk.toml'}"
policies = ["waterfall"]
windows = [["2024-02-01", "2024-01-01"]]

[[backtests]]
problem = "{PROBLEMS / 'desk.toml'}"
start = "2024-01-01"
end = "2024-01-10"
[backtests.grid]
band = ["1.5:1.1"]
"""
    with pytest.raises(InputError) as error:
        load_spec(_spec(tmp_path, text))
    messages = [str(issue) for issue in error.value.issues]
    assert any("unknown policy 'nope'" in m for m in messages)
    assert any(m.startswith("backtests[1].windows[0]: 2024-02-01 is not before 2024-01-01") for m in messages)
    assert any(m.startswith("backtests[2].grid: all_stable[band=1.5:1.1]: low 1.5") for m in messages)
    assert any(m.startswith("backtests[2].grid: optimized[band=1.5:1.1]: low 1.5") for m in messages)
