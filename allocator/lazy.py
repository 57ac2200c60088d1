"""numpy for the input tier, deferred only where a command asks for it.

The input tier (problem models, checks, collateral curves, estimation) writes ``from allocator.lazy import np``.
For the library, and every command but ``allocator validate``, ``np`` is numpy itself, imported at once. ``allocator
validate`` calls :func:`defer_numpy` before it loads the input tier: ``np`` is then a ``lazy_loader`` proxy (the
Scientific Python project's loader, over ``importlib.util.LazyLoader``) that imports numpy on its first attribute
access, so checking a problem without a market model or collateral curves never pays numpy's import (about 80 ms of
a 0.3 s budget; docs/performance.md, command line).

Why not always lazy: on Python 3.11 the standard library's lazy loader marks a module loaded before its code has
finished running (CPython gh-114763, fixed in 3.12.3), so a second thread touching numpy during the first one's
import saw an empty module. The validate command is single-threaded; library users and the other commands, which may
run threads (Dask workers, services), get numpy imported the ordinary way (tests/test_startup.py checks both).
Type checkers see the plain ``import numpy as np``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np  # noqa: F401

_deferred = False


def defer_numpy() -> None:
    """Make ``np`` a lazy proxy in input-tier modules imported from now on (``allocator validate`` only)."""
    global _deferred
    _deferred = True


def __getattr__(name: str) -> Any:
    if name != "np":
        raise AttributeError(f"module 'allocator.lazy' has no attribute {name!r}")
    if _deferred:
        import lazy_loader

        return lazy_loader.load("numpy")
    import numpy

    return numpy
