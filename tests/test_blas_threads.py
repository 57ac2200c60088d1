"""A solve runs with one BLAS thread and gives the caller's setting back (allocator/solve/_blas.py): OpenBLAS's
spinning threads took the cores HiGHS needed on a loaded machine."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import allocator
import allocator.solve._engine as engine_module


def _blas_threads() -> list[int]:
    """Threads of numpy's and scipy's BLAS, the ones a solve calls (other packages bundle their own: SCS's old
    OpenBLAS reads back 1 whatever it was set to)."""
    return [lib["num_threads"] for lib in threadpool_info()
            if lib["user_api"] == "blas" and lib["prefix"] == "libscipy_openblas"]


def test_a_solve_runs_on_one_blas_thread_and_restores_the_callers(desk, monkeypatch):
    seen: list[list[int]] = []
    check = engine_module.check

    def watched(*args, **kwargs):  # the real numpy check, observed while it runs inside the solve
        seen.append(_blas_threads())
        return check(*args, **kwargs)

    monkeypatch.setattr(engine_module, "check", watched)
    with threadpool_limits(limits=2, user_api="blas"):  # the caller's own setting
        before = _blas_threads()
        result = allocator.optimize(desk)
        after = _blas_threads()
    if not before:
        pytest.skip("numpy's and scipy's BLAS not found by threadpoolctl")
    assert result.status == "optimal" and seen
    assert all(threads == [1] * len(threads) for threads in seen)
    assert after == before == [2] * len(before)
    assert float(np.ones(3) @ np.ones(3)) == 3.0  # BLAS still works after it


def test_the_transition_runs_on_one_blas_thread_too(monkeypatch):
    from transition_helpers import tiny

    import allocator.transition._api as api

    seen: list[list[int]] = []
    validated = api._validated

    def watched(*args, **kwargs):  # the real end-of-transition validation, observed inside plan_transition
        seen.append(_blas_threads())
        return validated(*args, **kwargs)

    monkeypatch.setattr(api, "_validated", watched)
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        allocator.plan_transition(tiny())
        assert _blas_threads() == before
    if not before:
        pytest.skip("numpy's and scipy's BLAS not found by threadpoolctl")
    assert seen and all(threads == [1] * len(threads) for threads in seen)


def test_solves_in_several_threads_give_the_callers_setting_back(desk):
    # solves that overlap in time share one limit (solve/_blas.py): whichever ends last restores what the caller had
    from concurrent.futures import ThreadPoolExecutor

    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda _: allocator.optimize(desk), range(8)))
        after = _blas_threads()
    if not before:
        pytest.skip("numpy's and scipy's BLAS not found by threadpoolctl")
    assert all(r.status == "optimal" for r in results)
    assert after == before == [2] * len(before)
