"""The gallery of docs/examples/: every script with the output it prints, recorded beside it.

Each ``docs/examples/<topic>/NN_name.py`` has its output in ``NN_name.output.txt``. The site shows both (hooks.py);
tests/test_examples.py runs every script and compares its output with the recorded one, words exactly and numbers
to rounding (a last printed digit may differ between machines), so the gallery cannot drift. To record the outputs
again after a deliberate change: ``ALLOCATOR_RECORD_EXAMPLES=1 python -m pytest tests/test_examples.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
#: The topics, in the order the site shows them.
TOPICS = ("single-period", "risk", "what-if-and-batch", "transition", "stress-and-backtest")
NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?%?")


def scripts(topic: str | None = None) -> list[Path]:
    """The example scripts of ``topic`` (or of every topic), in order."""
    topics = (topic,) if topic else TOPICS
    return [script for name in topics for script in sorted((EXAMPLES / name).glob("[0-9][0-9]_*.py"))]


def recorded(script: Path) -> Path:
    return script.with_name(script.stem + ".output.txt")


def differences(expected: str, actual: str, rel: float = 1e-6) -> list[str]:
    """Where ``actual`` differs from ``expected`` beyond rounding: the same lines and words, and every number
    within ``rel`` or one unit of its last printed digit. Empty when they agree."""
    out = []
    left, right = expected.strip().splitlines(), actual.strip().splitlines()
    if len(left) != len(right):
        return [f"{len(right)} lines printed, {len(left)} recorded"]
    for number, (want, got) in enumerate(zip(left, right, strict=True), start=1):
        if NUMBER.sub("#", want).split() != NUMBER.sub("#", got).split():
            out.append(f"line {number}: {got!r} (recorded {want!r})")
            continue
        for a, b in zip(NUMBER.findall(want), NUMBER.findall(got), strict=True):
            x, y = _value(a), _value(b)
            digits = len(a.rstrip("%").split(".")[1]) if "." in a and "e" not in a.lower() else 0
            unit = 10.0 ** -digits if digits else 0.0
            if abs(x - y) > max(rel * abs(x), unit * 1.000001):
                out.append(f"line {number}: {b} (recorded {a})")
    return out


def _value(token: str) -> float:
    return float(token.rstrip("%").replace(",", ""))
