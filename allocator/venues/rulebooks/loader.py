"""Loading rulebooks by name or path, with every issue located in the file at once.

A name is looked up first in the user's own folders, listed in the environment variable ``ALLOCATOR_RULEBOOKS``
(separated like PATH), then among the reviewed files shipped with the package (``models/`` of the repository,
installed as ``allocator._models``; see allocator/io/data_files.py). A user's file of the same name as a shipped one
is the one used, and its path is what every issue and ``Rulebook.path`` show.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from allocator.errors import InputError, InputIssue
from allocator.inputs.issues import issues_from_pydantic
from allocator.io.data_files import MODELS_PACKAGE, data_folder
from allocator.io.documents import parse, read_text
from allocator.venues.rulebooks.aave import AaveRulebook
from allocator.venues.rulebooks.base import Rulebook
from allocator.venues.rulebooks.bcbs import BcbsRulebook
from allocator.venues.rulebooks.binance import BinanceRulebook
from allocator.venues.rulebooks.deribit import DeribitRulebook
from allocator.venues.rulebooks.drift import DriftRulebook
from allocator.venues.rulebooks.dydx import DydxRulebook
from allocator.venues.rulebooks.hyperliquid import HyperliquidRulebook

#: The reviewed rulebook files shipped with the package (the repository's ``models/`` in an editable install).
MODELS = data_folder(MODELS_PACKAGE)
#: The environment variable naming the user's own rulebook folders, searched before ``MODELS``.
USER_FOLDERS = "ALLOCATOR_RULEBOOKS"

#: Reviewed data files of ``models/`` that are not venue rulebooks (the stress episodes, docs/stress.md).
NOT_RULEBOOKS = frozenset({"stress-episodes"})

#: Formula families by the ``kind`` a file declares.
KINDS: dict[str, type[Rulebook]] = {cls.kind: cls for cls in (
    AaveRulebook, BinanceRulebook, DriftRulebook, DeribitRulebook, HyperliquidRulebook, DydxRulebook, BcbsRulebook)}


def available_rulebooks() -> tuple[str, ...]:
    """Names of the rulebooks: the shipped ones and those in the folders of ``ALLOCATOR_RULEBOOKS``."""
    return tuple(sorted({path.stem for folder in rulebook_folders() for path in folder.glob("*.toml")}
                        - NOT_RULEBOOKS))


def rulebook_folders() -> tuple[Path, ...]:
    """Where names are looked up, in order: the folders of ``ALLOCATOR_RULEBOOKS``, then the shipped ``MODELS``.
    Raises InputError when a listed folder is not a directory (empty entries are skipped)."""
    listed = [entry for entry in os.environ.get(USER_FOLDERS, "").split(os.pathsep) if entry.strip()]
    issues = [InputIssue(USER_FOLDERS, f"{entry!r} is not a folder (give folders of rulebook .toml files, "
                                       f"separated by {os.pathsep!r})", "not_a_folder")
              for entry in listed if not Path(entry).is_dir()]
    if issues:
        raise InputError(issues)
    return (*(Path(entry) for entry in listed), MODELS)


def load_rulebook(name_or_path: str | Path) -> Rulebook:
    """A validated rulebook: ``load_rulebook("aave-v3-ethereum")`` or a path to a ``.toml`` file.
    Raises InputError listing every issue, located as ``models/x.toml: collateral.WBTC.haircut``."""
    path = _locate(name_or_path)
    where = _display(path)
    try:  # binary, UTF-16, too deep: a located InputError like any other (documents.py)
        data = parse(read_text(path, "rulebook"), "toml", where)
    except InputError as error:
        raise InputError([InputIssue(where, issue.message, issue.code) if issue.location == str(path) else issue
                          for issue in error.issues]) from None
    return rulebook_from_data(data, where)


def rulebook_from_data(data: dict[str, Any], where: str = "<data>") -> Rulebook:
    """Validate a rulebook given as a dictionary (the parsed TOML); ``where`` prefixes every issue's location."""
    kind = data.get("kind")
    cls = KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        known = ", ".join(sorted(KINDS))
        raise InputError([InputIssue(f"{where}: kind", f"{kind!r} is not a known kind (one of {known})",
                                     "unknown_kind")])
    try:
        spec = cls.spec_model.model_validate(data)
    except ValidationError as error:
        raise InputError([_located(where, issue) for issue in issues_from_pydantic(error)]) from None
    issues = cls.cross_issues(spec)
    if issues:
        raise InputError([_located(where, issue) for issue in issues])
    return cls(spec, where)


def _located(where: str, issue: InputIssue) -> InputIssue:
    return InputIssue(f"{where}: {issue.location}" if issue.location else where, issue.message, issue.code)


def _locate(name_or_path: str | Path) -> Path:
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or "/" in text or text.endswith(".toml"):
        return Path(name_or_path)
    folders = rulebook_folders()
    for folder in folders:
        path = folder / f"{text}.toml"
        if path.is_file():
            return path
    known = ", ".join(available_rulebooks())
    also = f" nor in {USER_FOLDERS} ({os.pathsep.join(map(str, folders[:-1]))})" if len(folders) > 1 else ""
    raise InputError([InputIssue(f"rulebook {text}", f"no file models/{text}.toml{also} (available: {known})",
                                 "unknown_rulebook")])


def _display(path: Path) -> str:
    """``models/x.toml`` for the shipped files (wherever the package is installed), the path as given otherwise."""
    try:
        return (Path("models") / path.resolve().relative_to(MODELS.resolve())).as_posix()
    except ValueError:
        return str(path)
