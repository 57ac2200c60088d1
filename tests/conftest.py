"""Shared fixtures. Hypothesis runs derandomized in CI (profile "ci", the default)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import allocator

sys.path.insert(0, str(Path(__file__).parent))
from helpers import PROBLEMS  # noqa: E402

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=int(os.environ.get("EXAMPLES", 200)),
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("slow", derandomize=False, deadline=None, max_examples=int(os.environ.get("EXAMPLES", 2000)),
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def desk() -> allocator.Problem:
    return allocator.load_problem(PROBLEMS / "desk.toml")
