"""Torn batches (issue 11, item 9), with real driver processes: a damaged chunk file is found on resume, computed
again and named; a second driver on a directory in use is refused and touches nothing; a lock left by a killed
driver never blocks the next run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from test_batch import comparable, write_spec

from allocator.batch.runner import run_batch
from allocator.batch.spec import load_spec
from allocator.batch.store import sha256

HOLD_LOCK = ("import sys, time, pathlib\n"
             "from allocator.batch.lock import DirectoryLock\n"
             "pathlib.Path(sys.argv[1]).mkdir(parents=True, exist_ok=True)\n"
             "held = DirectoryLock(pathlib.Path(sys.argv[1])).__enter__()\n"
             "print('locked', flush=True)\n"
             "time.sleep(600)\n")


def _driver(spec: Path, outdir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "allocator.cli", "batch", str(spec), "-o", str(outdir),
                           "--workers", "2"], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> tuple[Path, Path, pd.DataFrame]:
    """A spec of 20 scenarios in 4 chunks, solved once: (spec, its output, what any complete run must equal)."""
    directory = tmp_path_factory.mktemp("integrity")
    spec = write_spec(directory, 5, chunk_size=5)
    run_batch(load_spec(spec), directory / "out", workers=2)
    return spec, directory / "out", comparable(directory / "out")


def _copy(source: Path, target: Path) -> Path:
    subprocess.run(["cp", "-r", str(source), str(target)], check=True)
    return target


def _chunks(outdir: Path) -> list[Path]:
    return sorted((outdir / "results").glob("chunk-*.parquet"))


def test_the_manifest_records_each_chunk_files_rows_and_checksum(finished):
    _, outdir, expected = finished
    manifest = pd.read_parquet(outdir / "manifest.parquet")
    assert len(manifest) == len(expected) == 20
    for name, rows in manifest.groupby("file"):
        path = outdir / "results" / name
        assert set(rows["file_sha256"]) == {sha256(path)}
        assert set(rows["file_rows"]) == {len(rows)} == {len(pd.read_parquet(path))}


@pytest.mark.parametrize("damage", ["truncated", "bytes-altered", "emptied", "deleted"])
def test_a_damaged_chunk_is_computed_again_on_resume(finished, tmp_path, damage):
    """Was: a truncated chunk file blocked every resume with a pyarrow traceback."""
    spec, source, expected = finished
    outdir = _copy(source, tmp_path / "out")
    victim = _chunks(outdir)[1]
    content = victim.read_bytes()
    if damage == "truncated":
        victim.write_bytes(content[: len(content) // 2])
    elif damage == "bytes-altered":  # same size, still a parquet file to a quick look: only the checksum knows
        middle = len(content) // 2
        victim.write_bytes(content[:middle] + bytes(b ^ 0xFF for b in content[middle:middle + 8])
                           + content[middle + 8:])
    elif damage == "emptied":
        victim.write_bytes(b"")
    else:
        victim.unlink()
    run = _driver(spec, outdir)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert f"note: results/{victim.name}" in run.stdout and "computed again" in run.stdout, run.stdout
    assert "20 scenarios: 20 solved" in run.stdout and "(15 done by an earlier run)" in run.stdout, run.stdout
    pd.testing.assert_frame_equal(comparable(outdir), expected)
    if damage != "deleted":
        assert (outdir / "corrupt" / victim.name).read_bytes() != victim.read_bytes()  # kept aside, replaced
    again = _driver(spec, outdir)
    assert "note:" not in again.stdout and "(20 done by an earlier run)" in again.stdout, again.stdout


def test_a_damaged_manifest_is_rebuilt_from_the_chunk_files(finished, tmp_path):
    spec, source, expected = finished
    outdir = _copy(source, tmp_path / "out")
    (outdir / "manifest.parquet").write_bytes(b"PAR1 torn")
    run = _driver(spec, outdir)
    assert run.returncode == 0, run.stderr
    assert "manifest.parquet cannot be read" in run.stdout and "(20 done by an earlier run)" in run.stdout
    pd.testing.assert_frame_equal(comparable(outdir), expected)


def test_a_second_driver_is_refused_and_a_killed_holder_leaves_no_stale_lock(finished, tmp_path):
    """Was: a second driver on the same directory deleted the first one's in-flight temporary file. Now the
    directory is held by one process (here a real process holding the lock, as a running driver does); another
    driver is refused and removes nothing; once the holder is killed (SIGKILL: no clean-up) the next run resumes."""
    spec, _, expected = finished
    outdir = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(outdir)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        (outdir / "results").mkdir()
        in_flight = outdir / "results" / ".tmp-0123-chunk-x.parquet"  # as the first driver's file being written
        in_flight.write_bytes(b"half a chunk")
        refused = _driver(spec, outdir)
        assert refused.returncode == 2, refused
        assert "Traceback" not in refused.stderr
        assert f"error: {outdir}: is in use by another batch driver (pid {holder.pid})" in refused.stderr
        assert in_flight.exists() and not _chunks(outdir) and not (outdir / "manifest.parquet").exists()
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=60)
    run = _driver(spec, outdir)
    assert run.returncode == 0, run.stderr
    assert not in_flight.exists()  # the next driver owns the directory and clears what the dead one left
    pd.testing.assert_frame_equal(comparable(outdir), expected)


def test_two_drivers_started_together_cooperate_or_one_is_refused(finished, tmp_path):
    """Two real drivers on one directory at once: each either completes or is refused with the lock message, and
    the directory ends complete, every key once, equal to an uninterrupted run."""
    spec, _, expected = finished
    outdir = tmp_path / "out"
    command = [sys.executable, "-m", "allocator.cli", "batch", str(spec), "-o", str(outdir), "--workers", "1"]
    drivers = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    outcomes = [driver.communicate(timeout=600) + (driver.returncode,) for driver in drivers]
    for _, stderr, code in outcomes:
        assert "Traceback" not in stderr, stderr
        assert code == 0 or (code == 2 and "is in use by another batch driver" in stderr), (code, stderr)
    assert any(code == 0 for *_, code in outcomes)
    pd.testing.assert_frame_equal(comparable(outdir), expected)
