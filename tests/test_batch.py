"""Batch jobs on real processes and a real Dask LocalCluster: results, resume, failures, killed runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from helpers import PROBLEMS

from allocator.batch.runner import run_batch
from allocator.batch.spec import load_spec

DESK = PROBLEMS / "desk.toml"


def write_spec(directory: Path, shocks: int, chunk_size: int = 10, extra: str = "") -> Path:
    values = ", ".join(f"{-0.4 * i / shocks:.6f}" for i in range(shocks))
    spec = directory / "spec.toml"
    spec.write_text(f"""chunk_size = {chunk_size}
[[jobs]]
name = "desk"
problem = "{DESK}"
[jobs.grid]
"shock.BTC" = [{values}]
"haircut_shift.*" = [0.0, 0.03]
"requirement_scale.*" = [1.0, 1.2]
{extra}""")
    return spec


def comparable(outdir: Path) -> pd.DataFrame:
    """Manifest joined with results, without file names or timings: what two runs must agree on."""
    manifest = pd.read_parquet(outdir / "manifest.parquet").drop(columns="file")
    files = sorted((outdir / "results").glob("chunk-*.parquet"))
    results = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    assert manifest["key"].is_unique and results["key"].is_unique  # nothing duplicated
    assert set(manifest["key"]) == set(results["key"])  # nothing lost between files and manifest
    table = results.set_index("key").sort_index()
    return table[["scenario", "status", "objective", "carry", "transfer"]]


def test_local_batch_and_resume(tmp_path):
    spec = load_spec(write_spec(tmp_path, 5))
    first = run_batch(spec, tmp_path / "out", workers=2)
    assert (first.total, first.solved, first.failed, first.skipped) == (20, 20, 0, 0)
    again = run_batch(spec, tmp_path / "out", workers=2)
    assert again.skipped == 20 and again.solved == 20
    assert len(comparable(tmp_path / "out")) == 20


def test_dask_local_cluster_gives_the_same_results(tmp_path):
    spec = load_spec(write_spec(tmp_path, 5))
    run_batch(spec, tmp_path / "local", workers=2)
    summary = run_batch(spec, tmp_path / "dask", workers=2, dask="local")
    assert summary.solved == 20
    pd.testing.assert_frame_equal(comparable(tmp_path / "local"), comparable(tmp_path / "dask"))


def test_a_failing_scenario_is_recorded_and_the_batch_completes(tmp_path):
    spec_path = write_spec(tmp_path, 2, extra=f'\n[[jobs]]\nname = "bad"\nproblem = "{DESK}"\n'
                           f'scenarios = "{tmp_path / "bad.toml"}"\n')
    (tmp_path / "bad.toml").write_text('[[scenarios]]\nid = "too-high"\nhaircut_shift = { "*" = 0.95 }\n'
                                       '[[scenarios]]\nid = "fine"\nshock = { BTC = -0.1 }\n'
                                       '[[scenarios]]\nid = "impossible"\nrequirement_scale = { "*" = 10.0 }\n')
    summary = run_batch(load_spec(spec_path), tmp_path / "out", workers=2)
    assert (summary.total, summary.failed, summary.infeasible) == (11, 1, 1)
    table = comparable(tmp_path / "out").set_index("scenario")
    assert table.loc["too-high", "status"] == "failed"
    results = pd.concat(pd.read_parquet(f) for f in (tmp_path / "out" / "results").glob("*.parquet"))
    failed = results[results["status"] == "failed"].iloc[0]
    assert failed["error_type"] == "InputError" and "not in [0, 1)" in failed["error"]


def _cli(spec: Path, outdir: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "allocator.cli", "batch", str(spec), "-o", str(outdir),
                             "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_chunks(outdir: Path, count: int, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(list((outdir / "results").glob("chunk-*.parquet"))) >= count:
            return
        if process.poll() is not None:
            pytest.fail("the batch finished before it could be interrupted")
        time.sleep(0.02)
    pytest.fail("no progress")


def _descendants(pid: int) -> list[tuple[int, int]]:
    """(pid, depth) of every descendant process, from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    out, frontier, depth = [], [pid], 0
    while frontier:
        depth += 1
        frontier = [child for child, parent in parents.items() if parent in frontier]
        out += [(child, depth) for child in frontier]
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    directory = tmp_path_factory.mktemp("reference")
    spec = write_spec(directory, 40, chunk_size=5)
    run_batch(load_spec(spec), directory / "out", workers=2)
    return spec, comparable(directory / "out")


@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc to find the worker processes")
def test_killed_worker_then_resume_loses_and_duplicates_nothing(tmp_path, reference):
    spec, expected = reference
    process = _cli(spec, tmp_path / "out")
    _wait_for_chunks(tmp_path / "out", 3, process)
    workers = [pid for pid, depth in _descendants(process.pid) if depth == 2]  # forked by the fork server
    assert workers, "no worker process found"
    os.kill(workers[0], signal.SIGKILL)
    process.wait(timeout=300)
    subprocess.run([sys.executable, "-m", "allocator.cli", "batch", str(spec), "-o", str(tmp_path / "out"),
                    "--workers", "2"], check=True, capture_output=True)
    pd.testing.assert_frame_equal(comparable(tmp_path / "out"), expected)


def test_killed_driver_then_resume_loses_and_duplicates_nothing(tmp_path, reference):
    spec, expected = reference
    process = _cli(spec, tmp_path / "out")
    _wait_for_chunks(tmp_path / "out", 4, process)
    for pid, _ in _descendants(process.pid):
        os.kill(pid, signal.SIGKILL)
    process.kill()
    process.wait(timeout=60)
    done = len(pd.read_parquet(tmp_path / "out" / "manifest.parquet"))
    assert 0 < done < len(expected)
    result = subprocess.run([sys.executable, "-m", "allocator.cli", "batch", str(spec), "-o", str(tmp_path / "out"),
                             "--workers", "2"], check=True, capture_output=True, text=True)
    assert "done by an earlier run" in result.stdout
    pd.testing.assert_frame_equal(comparable(tmp_path / "out"), expected)


def test_bad_spec_is_a_located_error(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text('chunk_size = 0\n[[jobs]]\nproblem = "nope.toml"\ntypo = 1\n')
    result = subprocess.run([sys.executable, "-m", "allocator.cli", "batch", str(spec), "-o", str(tmp_path / "o")],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "chunk_size" in result.stderr and "jobs[0].typo" in result.stderr


def test_a_spec_field_error_does_not_hide_its_jobs_issues(tmp_path):
    """A bad top-level field (chunk_size 0) beside a job whose grid names an unknown scenario field and a job whose
    problem file is missing: every issue in one error (the refused field left out, the rest checked)."""
    from allocator.errors import InputError

    spec = tmp_path / "spec.toml"
    spec.write_text(f'chunk_size = 0\n[[jobs]]\nname = "a"\nproblem = "{PROBLEMS / "desk.toml"}"\n'
                    '[jobs.grid]\n"shok.BTC" = [0.1]\n[[jobs]]\nname = "b"\nproblem = "nope.toml"\n')
    with pytest.raises(InputError) as caught:
        load_spec(spec)
    locations = [issue.location for issue in caught.value.issues]
    assert locations[0] == "chunk_size"
    assert "jobs[0].grid.shok.BTC[0]" in locations
    assert any("nope.toml" in location for location in locations)
