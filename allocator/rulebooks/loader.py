"""Loading rulebooks by name (``models/<name>.toml``) or path, with every issue located in the file at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from allocator.checks import issues_from_pydantic
from allocator.documents import parse, read_text
from allocator.errors import InputError, InputIssue
from allocator.rulebooks.aave import AaveRulebook
from allocator.rulebooks.base import Rulebook
from allocator.rulebooks.bcbs import BcbsRulebook
from allocator.rulebooks.binance import BinanceRulebook
from allocator.rulebooks.deribit import DeribitRulebook
from allocator.rulebooks.drift import DriftRulebook
from allocator.rulebooks.dydx import DydxRulebook
from allocator.rulebooks.hyperliquid import HyperliquidRulebook

#: The reviewed data files, next to the package (the package is installed editable from the repository).
MODELS = Path(__file__).resolve().parents[2] / "models"

#: Formula families by the ``kind`` a file declares.
KINDS: dict[str, type[Rulebook]] = {cls.kind: cls for cls in (
    AaveRulebook, BinanceRulebook, DriftRulebook, DeribitRulebook, HyperliquidRulebook, DydxRulebook, BcbsRulebook)}


def available_rulebooks() -> tuple[str, ...]:
    """Names of the rulebooks in ``models/``."""
    return tuple(sorted(path.stem for path in MODELS.glob("*.toml")))


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
    path = MODELS / f"{text}.toml"
    if not path.is_file():
        known = ", ".join(available_rulebooks())
        raise InputError([InputIssue(f"rulebook {text}", f"no file models/{text}.toml (available: {known})",
                                     "unknown_rulebook")])
    return path


def _display(path: Path) -> str:
    """``models/x.toml`` for the shipped files, the path as given otherwise."""
    try:
        return str(path.resolve().relative_to(MODELS.parent))
    except ValueError:
        return str(path)
