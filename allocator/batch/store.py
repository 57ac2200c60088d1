"""Where batch results live, written so that nothing is lost, duplicated or silently damaged.

``OUTDIR/results/chunk-<id>.parquet``: one file per finished chunk, written to a temporary name, flushed and
renamed (a file is there whole or not at all). ``OUTDIR/manifest.parquet``: one row per finished scenario (key,
job, scenario, status, file) with the row count and SHA-256 of its chunk file (``file_rows``, ``file_sha256``),
rewritten atomically after each chunk. ``OUTDIR/.lock``: held by the one driver writing here (lock.py).

On start the store rebuilds its state from the chunk files, checking each against the manifest: a file whose
checksum and row count match is trusted; a file the manifest does not know yet (a crash between its rename and
the manifest's rewrite) is adopted if it reads whole; a file that is torn (unreadable) or altered (another
checksum or row count) is moved to ``OUTDIR/corrupt/`` and its scenarios are computed again, and ``notes`` says
so. A key found in a good file is never computed again.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd

from allocator.batch.lock import DirectoryLock
from allocator.errors import InputError, InputIssue

ROW_COLUMNS = ["key", "job", "scenario", "status"]
MANIFEST_COLUMNS = [*ROW_COLUMNS, "file", "file_rows", "file_sha256"]


class Store:
    """The results of one output directory, held exclusively by this process until :meth:`close`."""

    def __init__(self, outdir: str | Path) -> None:
        self.outdir = Path(outdir)
        self.results = self.outdir / "results"
        try:
            self.results.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InputError([InputIssue(str(self.outdir), f"cannot create the output directory: "
                                         f"{error.strerror or error}", "unwritable")]) from None
        self._lock = DirectoryLock(self.outdir).__enter__()
        try:
            self.notes: list[str] = []
            for stale in self.results.glob(".tmp-*"):  # a chunk that was being written when a run died
                stale.unlink()
            self.manifest = self._recover()
            self.write_manifest()
        except OSError as error:  # a manifest that is a directory, a read-only results folder, a full disk
            self.close()
            raise InputError([InputIssue(str(self.outdir), f"cannot use the output directory: "
                                         f"{error.strerror or error}", "unwritable")]) from None
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._lock.__exit__(None, None, None)

    @property
    def done(self) -> set[str]:
        return set(self.manifest["key"])

    def add(self, chunk_id: str, rows: pd.DataFrame) -> None:
        """Write one finished chunk, then record its keys, row count and checksum in the manifest."""
        name = f"chunk-{chunk_id}.parquet"
        checksum = _atomic(self.results / name, lambda path: rows.to_parquet(path, index=False))
        entries = rows[ROW_COLUMNS].assign(file=name, file_rows=len(rows), file_sha256=checksum)
        self.manifest = pd.concat([self.manifest, entries], ignore_index=True) if len(self.manifest) else entries
        self.write_manifest()

    def write_manifest(self) -> None:
        _atomic(self.outdir / "manifest.parquet", lambda path: self.manifest.to_parquet(path, index=False))

    def read_results(self) -> pd.DataFrame:
        files = sorted(self.results.glob("chunk-*.parquet"))
        return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True) if files else pd.DataFrame()

    # ---- recovery: the manifest rebuilt from the chunk files, each verified ----
    def _recover(self) -> pd.DataFrame:
        recorded = self._recorded()
        frames = []
        for path in sorted(self.results.glob("chunk-*.parquet")):
            known = recorded.pop(path.name, None)
            checksum = sha256(path)
            if known is not None and known["file_sha256"].iloc[0] == checksum and len(known) == \
                    known["file_rows"].iloc[0]:
                frames.append(known)
                continue
            try:
                rows = pd.read_parquet(path, columns=ROW_COLUMNS)
                fault = None if known is None else (f"its checksum or row count differs from the manifest's "
                                                    f"({len(rows)} rows, {known['file_rows'].iloc[0]} recorded)")
            except Exception as error:  # noqa: BLE001 - any reader fault means the file is torn
                fault = f"it cannot be read ({type(error).__name__}: {str(error).splitlines()[0][:120]})"
            if fault is None:
                frames.append(rows.assign(file=path.name, file_rows=len(rows), file_sha256=checksum))
            else:
                self._quarantine(path, fault, None if known is None else len(known))
        for name, rows in recorded.items():
            self.notes.append(f"results/{name} is in the manifest but missing; its {len(rows)} scenarios are "
                              "computed again")
        if not frames:
            return pd.DataFrame(columns=MANIFEST_COLUMNS)
        return pd.concat(frames, ignore_index=True)[MANIFEST_COLUMNS]

    def _recorded(self) -> dict[str, pd.DataFrame]:
        """The manifest's rows per chunk file, for files written with a checksum (older manifests have none)."""
        path = self.outdir / "manifest.parquet"
        if not path.exists():
            return {}
        try:
            manifest = pd.read_parquet(path)
        except Exception as error:  # noqa: BLE001 - a damaged manifest is rebuilt from the chunk files
            self.notes.append(f"manifest.parquet cannot be read ({type(error).__name__}); it is rebuilt from the "
                              "chunk files")
            return {}
        if not set(MANIFEST_COLUMNS) <= set(manifest.columns):
            return {}
        return {str(name): rows[MANIFEST_COLUMNS].reset_index(drop=True)
                for name, rows in manifest.groupby("file", sort=False)}

    def _quarantine(self, path: Path, fault: str, count: int | None) -> None:
        corrupt = self.outdir / "corrupt"
        corrupt.mkdir(exist_ok=True)
        path.replace(corrupt / path.name)
        scenarios = f"its {count} scenarios are" if count is not None else "its scenarios are"
        self.notes.append(f"results/{path.name} is damaged: {fault}; moved to corrupt/, {scenarios} computed again")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _atomic(path: Path, write: Callable[[Path], Any]) -> str:
    """Write through a temporary file, flushed and renamed into place; the SHA-256 of what was written."""
    temporary = path.with_name(f".tmp-{os.urandom(8).hex()}-{path.name}")
    write(temporary)
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    checksum = sha256(temporary)
    temporary.replace(path)
    return checksum
