"""Benchmarks: run with `python -m pytest tests/benchmarks -m benchmark -s`. Figures go to docs/performance.md.

Each benchmark prints one line per figure and appends it to ``tests/benchmarks/last-run.jsonl`` (not committed).
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import pytest

RECORD = Path(__file__).with_name("last-run.jsonl")


@pytest.fixture()
def record():
    def write(name: str, **figures: object) -> None:
        line = {"benchmark": name, "when": time.strftime("%Y-%m-%d %H:%M"), "python": platform.python_version(),
                **figures}
        print("\n" + json.dumps(line))
        with RECORD.open("a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")

    return write
