"""The example problems shipped with allocator: ``allocator example NAME``, ``example_problem(NAME)`` (the text)
and ``load_example(NAME)`` (the validated Problem).

They are the repository's ``fixtures/problems/*.toml`` (documented in fixtures/README.md), installed as
``allocator._fixtures`` together with the price histories they name (see allocator/io/data_files.py), so the README
and docs/examples/ can be followed after a plain ``pip install``.

A problem names its price histories relative to its own file (``history = { BTC = "../market/BTC-USD_1d.csv" }``),
which would break once the text is saved somewhere else; ``example_problem`` therefore writes those paths as the
absolute paths of the installed files, and says so in a comment at the top. Everything else is the file unchanged.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

from allocator.errors import InputError, InputIssue
from allocator.io.data_files import FIXTURES_PACKAGE, data_folder

if TYPE_CHECKING:
    from allocator.inputs.problem import Problem


def example_names() -> tuple[str, ...]:
    """Names of the shipped example problems (``desk``, ``fund``, ...), sorted."""
    return tuple(sorted(path.stem for path in _folder().glob("*.toml")))


def example_summary(name: str) -> str:
    """What the example is: the first sentence of its opening comment, without a ``desk.toml:`` prefix."""
    words = []
    for line in _path(name).read_text(encoding="utf-8").splitlines():
        if not line.startswith("#") or not line.lstrip("#").strip():
            break
        words.append(line.lstrip("#").strip())
    text = " ".join(words).removeprefix(f"{name}.toml:").strip()
    return text.split(". ")[0].rstrip(".") + "."


def load_example(name: str) -> Problem:
    """The example problem ``name``, loaded and validated (``load_problem`` of the installed file)."""
    from allocator.io.loading import load_problem

    return load_problem(_path(name))


def example_problem(name: str) -> str:
    """The text of the example problem ``name``, ready to be saved anywhere and loaded with ``load_problem``.
    Raises InputError (located ``example NAME``) for an unknown name, listing the names there are."""
    path = _path(name)
    text = path.read_text(encoding="utf-8")
    history = tomllib.loads(text).get("market", {}).get("history") or {}
    files = {value: (path.parent / value).resolve() for value in history.values() if not Path(value).is_absolute()}
    if not files:
        return text
    for value, file in files.items():
        written = json.dumps(file.as_posix(), ensure_ascii=False)  # a TOML basic string
        text = text.replace(json.dumps(value), written).replace(f"'{value}'", written)
    expected = {asset: (path.parent / value).resolve().as_posix() for asset, value in history.items()}
    if tomllib.loads(text)["market"]["history"] != expected:  # pragma: no cover - guards the shipped files' syntax
        raise RuntimeError(f"could not rewrite the history paths of the example {name!r}")
    folder = sorted({file.parent.as_posix() for file in files.values()})
    note = (f"# allocator example {name}: the price histories below are the files installed with allocator in "
            f"{', '.join(folder)}\n# (in the repository: fixtures/market/); copy them to move this file elsewhere.\n")
    return note + text


def _folder() -> Path:
    return data_folder(FIXTURES_PACKAGE) / "problems"


def _path(name: str) -> Path:
    if name not in example_names():
        raise InputError([InputIssue(f"example {name}", f"no such example (available: "
                                     f"{', '.join(example_names())})", "unknown_example")])
    return _folder() / f"{name}.toml"
