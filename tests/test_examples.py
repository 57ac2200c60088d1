"""The numbered example scripts in docs/examples run as written, from the repository root."""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers import ROOT

EXAMPLES = sorted((ROOT / "docs" / "examples").glob("[0-9][0-9]_*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script):
    result = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
