"""The batch driver: split the work into chunks, skip what is done, run the rest, record every chunk.

The driver is the only writer of OUTDIR (workers return rows), so results and manifest stay consistent on
local processes and on a Dask cluster alike; a second driver on the same OUTDIR is refused (lock.py).
Re-running the same command resumes: finished keys are skipped, damaged chunk files are computed again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from allocator.batch.backends import Backend, Chunk, DaskBackend, LocalBackend
from allocator.batch.spec import Spec, Unit, digest
from allocator.batch.store import Store
from allocator.errors import InputError, InputIssue


@dataclass(frozen=True)
class Summary:
    total: int
    solved: int
    infeasible: int
    failed: int
    skipped: int  # already done by an earlier run
    seconds: float
    notes: tuple[str, ...] = ()  # damaged chunk files found on start and computed again (store.py)

    def __str__(self) -> str:
        line = (f"{self.total} scenarios: {self.solved} solved, {self.infeasible} infeasible, {self.failed} failed "
                f"({self.skipped} done by an earlier run) in {self.seconds:.1f} s")
        return "\n".join([*(f"note: {note}" for note in self.notes), line])


def chunks_of(spec: Spec, units: list[Unit]) -> list[Chunk]:
    chunks = []
    for index, job in enumerate(spec.jobs):
        mine = [u for u in units if u.job == index]
        size = job.chunk_size or spec.chunk_size
        for start in range(0, len(mine), size):
            part = mine[start:start + size]
            chunks.append(Chunk(id=digest(*(u.key for u in part)), job=job.name, problem_hash=job.problem_hash,
                                problem=job.problem, units=[(u.key, u.scenario_id, u.scenario) for u in part]))
    return chunks


def run_batch(spec: Spec, outdir: str | Path, *, workers: int | None = None, dask: str | None = None,
              solver: str | None = None, progress: Callable[[int], None] | None = None) -> Summary:
    """Solve every scenario of ``spec`` not already in ``outdir``; see the module docstring. InputError for a bad
    ``workers``, an output directory that cannot be written, or one that another driver is using."""
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise InputError([InputIssue("workers", f"{workers!r} is not a positive number of processes",
                                     "out_of_range")])
    started = time.perf_counter()
    with Store(outdir) as store:
        done = store.done
        units = spec.units
        todo = [u for u in units if u.key not in done]
        backend: Backend = DaskBackend(dask, workers) if dask else LocalBackend(workers)
        try:
            for chunk, rows in backend.map(chunks_of(spec, todo), solver):
                try:
                    store.add(chunk.id, rows)
                except OSError as error:  # disk full, directory removed: stop cleanly, the next run resumes
                    raise InputError([InputIssue(str(outdir), f"cannot write results: {error.strerror or error}",
                                                 "unwritable")]) from None
                if progress:
                    progress(len(rows))
        finally:
            backend.close()
        keys = {u.key for u in units}
        status = store.manifest.loc[store.manifest["key"].isin(keys), "status"].value_counts()
        return Summary(total=len(units), solved=int(status.get("optimal", 0) + status.get("done", 0)),
                       infeasible=int(status.get("infeasible", 0)), failed=int(status.get("failed", 0)),
                       skipped=len(units) - len(todo), seconds=time.perf_counter() - started,
                       notes=tuple(store.notes))
