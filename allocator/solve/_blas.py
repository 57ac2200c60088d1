"""One BLAS thread while allocator solves.

numpy's and scipy's OpenBLAS start a pool of threads (one per core) on the first call that is large enough, and
after each call those threads spin, waiting for the next one, before they sleep. A solve calls BLAS only on
vectors (dot products of tens of thousands of numbers: the costs, the verification, the certificate), where a
second thread saves nothing; but the spinning threads take the cores HiGHS and the rest of the solve need. On this
project's 2-core machine, under another process's load, a 500 x 40 what-if re-solve took 144 ms against 67 ms with
one BLAS thread (medians of five alternated runs: HiGHS 76 against 38 ms, the rest 67 against 28 ms;
docs/performance.md). On a quiet machine the two are the same.

So every solve (``Allocator.solve``, ``plan_transition``) runs with BLAS limited to one thread, through threadpoolctl
(the library scikit-learn uses for the same purpose), and restores the caller's setting afterwards: the caller's
own numpy keeps its threads (the limit is the BLAS library's, not the thread's: numpy that other threads call while a
solve runs may get one thread too). The controller finds the BLAS libraries loaded when it is first used (numpy's and
scipy's, both loaded by then) and is kept: finding them takes 3-10 ms, entering the limit 0.05 ms.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_LOCK = threading.Lock()
_CONTROLLER: list[Any] = []  # the threadpoolctl controller, made on first use
_ACTIVE: list[Any] = []  # the limiter in force while any solve runs (one for the process)
_DEPTH = [0]  # solves running now, in any thread (nested ones count)


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS limited to one thread for the block; the caller's limits after it. Solves running at once in several
    threads (or nested) share one limit: the first to start sets it and the last to end restores what the caller
    had, so the caller's setting comes back whatever order they end in."""
    with _LOCK:
        if _DEPTH[0] == 0:
            if not _CONTROLLER:
                from threadpoolctl import ThreadpoolController

                _CONTROLLER.append(ThreadpoolController())
            _ACTIVE.append(_CONTROLLER[0].limit(limits=1, user_api="blas"))  # in force from here
        _DEPTH[0] += 1
    try:
        yield
    finally:
        with _LOCK:
            _DEPTH[0] -= 1
            if _DEPTH[0] == 0:
                _ACTIVE.pop().restore_original_limits()
