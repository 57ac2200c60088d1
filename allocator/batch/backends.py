"""Where chunks are solved: local processes (default) or a Dask cluster. Both yield (chunk, rows) as chunks
finish, keep a bounded number in flight (flat memory), and turn a chunk that keeps losing its worker into
failed rows rather than stopping the batch."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from allocator.batch.worker import solve_chunk
from allocator.inputs.problem import Problem

#: How many times a chunk is retried after its worker died before its scenarios are recorded as failed.
MAX_RETRIES = 2
#: Chunks in flight per worker: enough to hide the round trip, few enough to keep the driver's memory flat.
IN_FLIGHT = 3


@dataclass(frozen=True)
class Chunk:
    id: str
    job: str
    problem_hash: str
    problem: Problem
    units: list[tuple[str, str, dict[str, Any]]]  # (key, scenario id, scenario fields)

    def arguments(self, solver: str | None) -> tuple[Any, ...]:
        return (self.problem_hash, self.problem, self.job, solver, self.units)

    def lost(self, reason: str) -> pd.DataFrame:
        return pd.DataFrame([{"key": key, "job": self.job, "scenario": ident, "status": "failed",
                              "error_type": "WorkerLost", "error": reason} for key, ident, _ in self.units])


class Backend(Protocol):
    def map(self, chunks: list[Chunk], solver: str | None) -> Iterator[tuple[Chunk, pd.DataFrame]]: ...

    def close(self) -> None: ...


def process_pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes forked from a server that has already imported allocator (fast and fork-safe)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():  # pragma: no cover - platforms without fork
        return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["allocator.batch.worker"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


class LocalBackend:
    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.pool = process_pool(self.workers)

    def map(self, chunks: list[Chunk], solver: str | None) -> Iterator[tuple[Chunk, pd.DataFrame]]:
        queue = list(reversed(chunks))
        retries: dict[str, int] = {}
        running: dict[Future[pd.DataFrame], Chunk] = {}
        while queue or running:
            while queue and len(running) < IN_FLIGHT * self.workers:
                chunk = queue.pop()
                running[self.pool.submit(solve_chunk, *chunk.arguments(solver))] = chunk
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            broken = False
            for future in finished:
                chunk = running.pop(future)
                try:
                    yield chunk, future.result()
                except BrokenProcessPool:
                    broken = True
                    retries[chunk.id] = retries.get(chunk.id, 0) + 1
                    if retries[chunk.id] > MAX_RETRIES:
                        yield chunk, chunk.lost(f"its worker process died {retries[chunk.id]} times")
                    else:
                        queue.append(chunk)
            if broken:  # every chunk in flight is lost with the pool: start a new one and resubmit them
                queue.extend(running.values())
                running.clear()
                self.pool.shutdown(wait=False, cancel_futures=True)
                self.pool = process_pool(self.workers)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class MissingExtraError(ImportError):
    """An optional dependency is not installed; the message names the extra that brings it."""


def require_dask() -> None:
    """Raise MissingExtraError, naming the ``dask`` extra, when Dask distributed cannot be imported."""
    try:
        import distributed  # noqa: F401
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] not in {"dask", "distributed"}:
            raise  # installed but broken: the original error says more than a hint would
        raise MissingExtraError('--dask needs the "dask" extra: pip install "allocator[dask]" '
                                '(from a checkout: pip install -e ".[dask]")') from None


def _warm_up() -> None:
    import allocator.batch.worker  # noqa: F401


class DaskBackend:
    """Chunks as tasks on a Dask distributed cluster (``address``), or on a LocalCluster (``"local"``)."""

    def __init__(self, address: str, workers: int | None = None) -> None:
        require_dask()
        from distributed import Client, LocalCluster
        self.cluster = None
        if address == "local":
            self.cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                                        processes=True, dashboard_address=None)
            self.client = Client(self.cluster)
        else:
            self.client = Client(address)
        self.workers = max(len(self.client.scheduler_info().get("workers", {})), 1)

    def map(self, chunks: list[Chunk], solver: str | None) -> Iterator[tuple[Chunk, pd.DataFrame]]:
        from distributed import as_completed

        problems: dict[str, Any] = {}
        queue = list(reversed(chunks))
        running: dict[Any, Chunk] = {}

        def submit(chunk: Chunk) -> None:
            if chunk.problem_hash not in problems:
                problems[chunk.problem_hash] = self.client.scatter(chunk.problem, broadcast=True, hash=False)
            future = self.client.submit(solve_chunk, chunk.problem_hash, problems[chunk.problem_hash], chunk.job,
                                        solver, chunk.units, key=f"chunk-{chunk.id}", pure=False)
            running[future] = chunk
            pending.add(future)

        self.client.run(_warm_up)  # import allocator on every worker at once, not at each first task
        pending = as_completed()
        while queue and len(running) < IN_FLIGHT * self.workers:
            submit(queue.pop())
        for future in pending:
            chunk = running.pop(future)
            try:
                yield chunk, future.result()
            except Exception as error:  # KilledWorker after Dask's own retries, or a lost connection
                yield chunk, chunk.lost(f"{type(error).__name__}: {error}")
            future.release()
            if queue:
                submit(queue.pop())

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
