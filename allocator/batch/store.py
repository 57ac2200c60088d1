"""Where batch results live, written so that nothing is lost or duplicated.

``OUTDIR/results/chunk-<id>.parquet``: one file per finished chunk, written to a temporary name and renamed
(a file is there whole or not at all). ``OUTDIR/manifest.parquet``: one row per finished scenario (key, job,
scenario, status, file), rewritten atomically after each chunk. The chunk files are the truth: on start the
store rebuilds its state from them, so a crash between a chunk's rename and the manifest's rewrite loses
nothing, and a key found in a file is never computed again.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pandas as pd

MANIFEST_COLUMNS = ["key", "job", "scenario", "status", "file"]


class Store:
    def __init__(self, outdir: str | Path) -> None:
        self.outdir = Path(outdir)
        self.results = self.outdir / "results"
        self.results.mkdir(parents=True, exist_ok=True)
        for stale in self.results.glob(".tmp-*"):  # a chunk that was being written when a run died
            stale.unlink()
        frames = [pd.read_parquet(f, columns=MANIFEST_COLUMNS[:-1]).assign(file=f.name)
                  for f in sorted(self.results.glob("chunk-*.parquet"))]
        self.manifest = (pd.concat(frames, ignore_index=True) if frames
                         else pd.DataFrame(columns=MANIFEST_COLUMNS))
        self._pending: list[pd.DataFrame] = []
        self.write_manifest()

    @property
    def done(self) -> set[str]:
        return set(self.manifest["key"])

    def add(self, chunk_id: str, rows: pd.DataFrame) -> None:
        """Write one finished chunk, then record its keys in the manifest."""
        name = f"chunk-{chunk_id}.parquet"
        _atomic(self.results / name, lambda path: rows.to_parquet(path, index=False))
        entries = rows[MANIFEST_COLUMNS[:-1]].assign(file=name)
        self.manifest = pd.concat([self.manifest, entries], ignore_index=True) if len(self.manifest) else entries
        self.write_manifest()

    def write_manifest(self) -> None:
        _atomic(self.outdir / "manifest.parquet", lambda path: self.manifest.to_parquet(path, index=False))

    def read_results(self) -> pd.DataFrame:
        files = sorted(self.results.glob("chunk-*.parquet"))
        return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True) if files else pd.DataFrame()


def _atomic(path: Path, write) -> None:  # type: ignore[no-untyped-def]
    temporary = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    write(temporary)
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    temporary.replace(path)
