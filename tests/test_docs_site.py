"""The documentation site builds with ``mkdocs build --strict`` (a broken link, a missing anchor, a page left out of
the navigation or a docstring mkdocstrings cannot read fails it), and what it generates is there: the problem
file's field tables from the models' JSON Schema, every command in the CLI reference, the gallery with each
example's output, the math as MathML, and no page loads anything from the network. About 5 s."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

from allocator.cli import COMMANDS
from allocator.cli.schemas import schema

CONFIG = ROOT / "docs" / "site" / "mkdocs.yml"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    missing = [name for name in ("mkdocs", "material", "mkdocstrings_handlers.python", "mkdocs_click",
                                 "latex2mathml") if importlib.util.find_spec(name.split(".")[0]) is None]
    assert not missing, f"the docs tools are in the test extra: pip install -e '.[test]' (missing: {missing})"
    out = tmp_path_factory.mktemp("site")
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(CONFIG), "-d", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert run.returncode == 0, run.stderr[-4000:]
    return out


def _text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def test_every_page_of_the_navigation_is_built(site):
    for page in ("index", "quickstart", "concepts", "formulation", "problem-format", "cli", "cli-reference",
                 "api", "performance", "reliability"):
        assert (site / f"{page}.html").is_file(), page
    for topic in ("single-period", "risk", "what-if-and-batch", "transition", "stress-and-backtest"):
        assert (site / "examples" / topic / "index.html").is_file(), topic


def test_the_problem_format_has_every_field_of_every_model(site):
    page = _text(site / "problem-format.html")
    problem = schema("problem")
    for field in problem["properties"]:
        assert f"<code>{field}</code>" in page, field
    for name, model in problem["$defs"].items():
        assert f"<code>{name}</code>: every field" in page, name
        for field in model.get("properties", {}):
            assert f"<code>{field}</code>" in page, (name, field)
    assert "<!-- schema:" not in page


def test_the_cli_reference_lists_every_command(site):
    page = _text(site / "cli-reference.html")
    for name in COMMANDS:
        assert f"allocator {name}" in page, name
    assert "--output" in page and "--json" in page and "--out " not in page  # the old spelling stays hidden


def test_the_gallery_shows_each_example_with_its_output(site):
    scripts = sorted((ROOT / "docs" / "examples").glob("*/[0-9][0-9]_*.py"))
    assert scripts
    for script in scripts:
        page = _text(site / "examples" / script.parent.name / "index.html")
        assert script.name in page, script
        first = script.with_name(script.stem + ".output.txt").read_text(encoding="utf-8").splitlines()[0]
        assert first.split()[0] in page, script


def test_math_is_mathml_and_no_page_loads_from_the_network(site):
    assert _text(site / "formulation.html").count("<math") >= 3
    for page in site.rglob("*.html"):
        assert not re.search(r"""(?:src|@import)\s*=?\s*["']?https?://""", _text(page)), page


def test_links_to_repository_files_are_copied_into_the_site(site):
    page = _text(site / "problem-format.html")
    assert 'href="repository/fixtures/problems/desk.toml"' in page
    assert (site / "repository" / "fixtures" / "problems" / "desk.toml").is_file()
