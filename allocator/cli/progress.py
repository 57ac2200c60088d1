"""Progress of long runs on standard error, only when it is a terminal (a pipe, a file or CI sees nothing).

Every long command uses these two and nothing else: ``what-if``, ``batch`` (a bar over scenarios), ``transition``
(the MILP's incumbent, bound and gap as a status line), and likewise stress draws and backtests::

    with progress_bar("what-if", total=len(rows)) as advance:
        what_if(problem, rows, progress=advance)        # advance(n) after n more are done

    with progress_status("transition") as update:
        ...                                             # update("MILP 12 s: incumbent ..., gap 4.41%")

The bar and the status line are drawn by rich and vanish when the run ends (they are progress, not output).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def on_terminal() -> bool:
    """Whether standard error is a terminal (progress is drawn only then)."""
    stream = sys.stderr
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


@contextmanager
def progress_bar(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)``; a bar with counts, rate and time left while the block runs, on a terminal only."""
    if not on_terminal():
        yield _ignore
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(file=sys.stderr), transient=True) as bar:
        task = bar.add_task(label, total=total)

        def advance(n: int = 1) -> None:
            bar.advance(task, n)

        yield advance


@contextmanager
def progress_status(label: str) -> Iterator[Callable[[str], None]]:
    """Yield ``update(text)``; a spinner with ``label`` and the latest text while the block runs, on a terminal
    only."""
    if not on_terminal():
        yield _ignore
        return
    from rich.console import Console

    with Console(file=sys.stderr).status(label) as status:
        yield lambda text: status.update(f"{label}: {text}")


@contextmanager
def logged_status(label: str, logger: logging.Logger) -> Iterator[None]:
    """:func:`progress_status` fed by ``logger``'s INFO records (the MILP watch logs its progress there)."""
    with progress_status(label) as update:
        if update is _ignore:
            yield
            return
        handler = _Forward(update)
        level = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)


class _Forward(logging.Handler):
    def __init__(self, update: Callable[[str], None]) -> None:
        super().__init__(logging.INFO)
        self.update = update

    def emit(self, record: logging.LogRecord) -> None:
        self.update(record.getMessage())


def _ignore(*_: object) -> None:
    """Progress nobody sees."""
