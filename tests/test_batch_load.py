"""Load and resume (slow, outside CI): a 10,000-scenario batch whose workers are killed at random points and whose
driver is killed once, resumed until done, equals an uninterrupted run: nothing lost, nothing duplicated.

Run: .venv/bin/python -m pytest tests/test_batch_load.py -m slow -s
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from helpers import PROBLEMS
from test_batch import _descendants, comparable

from allocator.batch.runner import run_batch
from allocator.batch.spec import load_spec

pytestmark = pytest.mark.slow


def test_ten_thousand_scenarios_survive_random_kills(tmp_path):
    values = {"shock.BTC": np.linspace(0.0, -0.45, 25), "haircut_shift.*": np.linspace(0.0, 0.06, 20),
              "requirement_scale.*": np.linspace(0.8, 1.4, 20)}
    grid = "\n".join(f'"{k}" = [{", ".join(f"{x:.6f}" for x in v)}]' for k, v in values.items())
    spec = tmp_path / "spec.toml"
    spec.write_text(f'chunk_size = 100\n[[jobs]]\nname = "desk"\nproblem = "{PROBLEMS / "desk.toml"}"\n'
                    f"[jobs.grid]\n{grid}\n")
    reference = run_batch(load_spec(spec), tmp_path / "reference", workers=2)
    assert reference.total == 10_000 and reference.failed == 0
    expected = comparable(tmp_path / "reference")

    rng = random.Random(20261124)
    out = tmp_path / "chaos"
    kills, runs, driver_killed = 0, 0, False
    while runs < 8:
        runs += 1
        process = subprocess.Popen([sys.executable, "-m", "allocator.cli", "batch", str(spec), "-o", str(out),
                                    "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        while process.poll() is None:
            time.sleep(rng.uniform(0.5, 3.0))
            tree = _descendants(process.pid)
            workers = [pid for pid, depth in tree if depth == 2]
            if not driver_killed and runs == 2 and rng.random() < 0.5:
                for pid, _ in tree:
                    os.kill(pid, signal.SIGKILL)
                process.kill()
                driver_killed = True
            elif workers and rng.random() < 0.7:
                try:
                    os.kill(rng.choice(workers), signal.SIGKILL)
                    kills += 1
                except ProcessLookupError:
                    pass
        process.wait()
        done = len(pd.read_parquet(out / "manifest.parquet")) if (out / "manifest.parquet").exists() else 0
        if done == 10_000 and process.returncode == 0:
            break
    print(f"\n{kills} workers killed, driver killed: {driver_killed}, runs: {runs}")
    table = comparable(out)
    lost = table[table["status"] == "failed"]
    # a chunk whose worker died more than twice is recorded as failed (WorkerLost): solve those keys again
    if len(lost):
        results = pd.concat(pd.read_parquet(f) for f in (out / "results").glob("*.parquet"))
        assert set(results.loc[results["status"] == "failed", "error_type"]) == {"WorkerLost"}
        table, expected = table[table["status"] != "failed"], expected.loc[table.index[table["status"] != "failed"]]
    pd.testing.assert_frame_equal(table, expected)
