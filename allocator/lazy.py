"""numpy, imported on first use.

The input tier (problem models, checks, collateral curves) uses numpy only when a check or a curve runs, yet
importing numpy costs about 80 ms, a quarter of ``allocator validate``'s budget (docs/performance.md, command
line). These modules write ``from allocator.lazy import np``: the name is a proxy module (``lazy_loader``, the
Scientific Python project's loader, over the standard library's ``importlib.util.LazyLoader``) that imports
numpy on its first attribute access, then is numpy itself; if numpy is already loaded it is numpy from the start.
Type checkers see the plain ``import numpy as np``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
else:
    import lazy_loader

    np = lazy_loader.load("numpy")

__all__ = ["np"]
