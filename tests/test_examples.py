"""The example scripts of docs/examples/<topic>/ run as written from the repository root, and print what the
gallery of the documentation site shows (``NN_name.output.txt`` beside each script; docs/site/gallery.py): the same
words and the same numbers to rounding. After a deliberate change, record the outputs again with
``ALLOCATOR_RECORD_EXAMPLES=1 python -m pytest tests/test_examples.py``."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from helpers import ROOT

sys.path.insert(0, str(ROOT / "docs" / "site"))
from gallery import EXAMPLES, TOPICS, differences, recorded, scripts  # noqa: E402

SCRIPTS = scripts()
RECORD = os.environ.get("ALLOCATOR_RECORD_EXAMPLES") == "1"


def test_every_topic_has_a_readme_and_every_script_is_in_a_topic():
    assert sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()) == sorted(TOPICS)
    assert all((EXAMPLES / topic / "README.md").is_file() for topic in TOPICS)
    assert sorted(EXAMPLES.rglob("*.py")) == sorted(SCRIPTS)  # nothing outside a topic, nothing unnumbered
    assert all(scripts(topic) for topic in TOPICS)


@pytest.mark.parametrize("script", SCRIPTS, ids=[f"{p.parent.name}/{p.name}" for p in SCRIPTS])
def test_example_runs_and_prints_what_the_gallery_shows(script):
    run = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip()
    if RECORD:
        recorded(script).write_text(run.stdout, encoding="utf-8")
    assert recorded(script).is_file(), f"no recorded output: run with ALLOCATOR_RECORD_EXAMPLES=1 ({script.name})"
    assert differences(recorded(script).read_text(encoding="utf-8"), run.stdout) == []


def test_the_comparison_allows_rounding_and_nothing_else():
    recorded_text = "cost 1,521.29 USD\nshadow 0.0202%\n3 steps\n"
    assert differences(recorded_text, "cost 1,521.30 USD\nshadow 0.0203%\n3 steps\n") == []  # a last digit
    assert differences(recorded_text, "cost 1,521.32 USD\nshadow 0.0202%\n3 steps\n") == ["line 1: 1,521.32 "
                                                                                           "(recorded 1,521.29)"]
    assert differences(recorded_text, "cost 1,521.29 EUR\nshadow 0.0202%\n3 steps\n")[0].startswith("line 1:")
    assert differences(recorded_text, "cost 1,521.29 USD\nshadow 0.0202%\n4 steps\n") == ["line 3: 4 (recorded 3)"]
    assert differences(recorded_text, "cost 1,521.29 USD\n") == ["1 lines printed, 3 recorded"]
