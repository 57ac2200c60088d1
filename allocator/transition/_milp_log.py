"""What a mixed-integer solve is doing and why it stopped, read from HiGHS's own log.

cvxpy gives no callback into HiGHS, but HiGHS writes its branch-and-bound table to a log file
(``log_file``, with ``log_to_console`` off so that nothing reaches stdout). :class:`MilpWatch` points HiGHS at a
temporary file and, while the solve runs (HiGHS releases the GIL), a thread reads the newest table row every
``every`` seconds and logs it to the ``allocator.transition`` logger at INFO, with the seconds since the solve
began: ``MILP 12 s: incumbent 31,250.00, bound 29,870.12, gap 4.41%`` (currency: program units times ``S r``; the
MILP's own objective, with piecewise-linear impact). The CLI shows the latest as a status line on stderr, on a
terminal only (allocator/cli/progress.py).
After the solve :attr:`MilpWatch.stop_reason` is HiGHS's "Status" line (``Time limit reached``, ...).
"""

from __future__ import annotations

import logging
import re
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

LOGGER = logging.getLogger("allocator.transition")
#: Seconds between progress lines (the first after this long: short solves print nothing).
EVERY = 5.0

_TIME = re.compile(r"^(?P<time>[\d.]+)s$")


@dataclass(frozen=True)
class Progress:
    seconds: float
    bound: float | None  # program units
    incumbent: float | None
    gap: str  # as HiGHS prints it: "4.41%", "Large", "inf"


def parse_row(line: str) -> Progress | None:
    """A row of HiGHS's branch-and-bound table, or None for any other line. The row ends with the time
    (``0.9s``); the first percentage is the share of the tree explored, followed by the best bound, the best
    solution and the gap."""
    tokens = line.split()
    if len(tokens) < 8 or not _TIME.match(tokens[-1]):
        return None
    explored = next((i for i, token in enumerate(tokens) if token.endswith("%")), None)
    if explored is None or explored + 3 >= len(tokens):
        return None

    def number(token: str) -> float | None:
        try:
            value = float(token)
        except ValueError:
            return None
        return value if abs(value) != float("inf") else None

    bound, incumbent, gap = tokens[explored + 1:explored + 4]
    return Progress(seconds=float(tokens[-1][:-1]), bound=number(bound), incumbent=number(incumbent), gap=gap)


def stop_reason(text: str) -> str | None:
    """HiGHS's final "Status" line of a MIP solve (``Optimal``, ``Time limit reached``, ...)."""
    found = re.findall(r"^\s*Status\s+(.+?)\s*$", text, flags=re.MULTILINE)
    return found[-1] if found else None


class MilpWatch:
    """Context manager: ``options`` for the HiGHS solve, progress logged while it runs, the stop reason after."""

    def __init__(self, to_currency: float, every: float = EVERY) -> None:
        self.to_currency = to_currency
        self.every = every
        self.stop_reason: str | None = None
        self.last: Progress | None = None
        self._folder = tempfile.TemporaryDirectory(prefix="allocator-milp-")
        self.path = Path(self._folder.name) / "highs.log"
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="milp-progress", daemon=True)

    @property
    def options(self) -> dict[str, Any]:
        return {"output_flag": True, "log_to_console": False, "log_file": str(self.path)}

    def __enter__(self) -> MilpWatch:
        self._started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._done.set()
        self._thread.join()
        text = self._read()
        self.stop_reason = stop_reason(text)
        rows = [row for row in map(parse_row, text.splitlines()) if row is not None]
        self.last = rows[-1] if rows else None
        self._folder.cleanup()

    def _read(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def _watch(self) -> None:
        while not self._done.wait(self.every):
            rows = [row for row in map(parse_row, self._read().splitlines()) if row is not None]
            if rows:
                LOGGER.info(self.describe(rows[-1], time.perf_counter() - self._started))

    def describe(self, row: Progress, elapsed: float | None = None) -> str:
        """A progress line: ``elapsed`` seconds since the solve began (default: HiGHS's time of the row), and
        the newest row's incumbent, bound (currency) and gap."""
        def money(value: float | None) -> str:
            return "none yet" if value is None else f"{value * self.to_currency:,.2f}"

        seconds = row.seconds if elapsed is None else elapsed
        return (f"MILP {seconds:.0f} s: incumbent {money(row.incumbent)}, bound {money(row.bound)}, "
                f"gap {row.gap}")
