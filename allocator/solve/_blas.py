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


class _SharedLimit:
    """The process's one BLAS limit while any solve runs: the threadpoolctl controller (made on first use), the
    limiter in force, and how many solves (in any thread, nested ones too) are inside it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.controller: Any = None
        self.limiter: Any = None
        self.depth = 0

    def enter(self) -> None:
        with self.lock:
            if self.depth == 0:
                if self.controller is None:
                    from threadpoolctl import ThreadpoolController

                    self.controller = ThreadpoolController()
                self.limiter = self.controller.limit(limits=1, user_api="blas")  # in force from here
            self.depth += 1

    def leave(self) -> None:
        with self.lock:
            self.depth -= 1
            if self.depth == 0:
                self.limiter.restore_original_limits()
                self.limiter = None


_SHARED = _SharedLimit()


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS limited to one thread for the block; the caller's limits after it. Solves running at once in several
    threads (or nested) share one limit: the first to start sets it and the last to end restores what the caller
    had, so the caller's setting comes back whatever order they end in."""
    _SHARED.enter()
    try:
        yield
    finally:
        _SHARED.leave()
