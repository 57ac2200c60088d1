"""Reading a file a user hands us (a problem, a what-if file, a batch spec, a rulebook) into plain data.

Whatever its bytes are, the outcome is the parsed data or an :class:`~allocator.errors.InputError` located at the
file, never a traceback. The faults and their codes:

* ``unreadable``: missing, not permitted, a directory, or not a regular file (a FIFO or a device would block or
  never end);
* ``too_large``: more than :data:`MAX_BYTES`;
* ``encoding``: not UTF-8 text (a binary file, UTF-16, a NUL byte); a UTF-8 byte-order mark is allowed;
* ``syntax``: not valid TOML or JSON (TOML also refuses a key given twice);
* ``too_deep``: nested deeper than :data:`MAX_DEPTH` levels (Python's parsers would overflow the stack);
* ``duplicate_key``: a JSON object that gives one key twice (JSON parsers silently keep the last one, so
  ``"price": 3500, "price": 35`` would solve with 35), located at the key.
"""

from __future__ import annotations

import functools
import tomllib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from allocator.errors import InputError, InputIssue

#: Deepest nesting of tables and lists accepted (the deepest real input, a tiered haircut model, has 7).
MAX_DEPTH = 32

#: Largest file read (a 10,000-scenario what-if file is about 2 MB).
MAX_BYTES = 256 << 20

SUFFIXES = (".toml", ".json")


def read_document(path: str | Path, what: str = "file") -> Any:
    """The parsed content of a ``.toml`` or ``.json`` file; InputError located at the path otherwise.
    ``what`` names the file in messages ("problem file", "batch spec")."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError([InputIssue(str(path), f"unknown file type {suffix!r}; use .toml or .json",
                                     "unknown_format")])
    return parse(read_text(path, what), suffix[1:], str(path))


def read_text(path: str | Path, what: str = "file") -> str:
    """The file's text, decoded as UTF-8 (a byte-order mark is dropped); InputError if unreadable or not UTF-8."""
    path = regular_file(path, what)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise InputError([InputIssue(str(path), f"cannot read the {what}: {reason}", "unreadable")]) from None
    if len(raw) > MAX_BYTES:
        raise InputError([InputIssue(str(path), f"is larger than {MAX_BYTES >> 20} MiB; no input of ours is that "
                                     "large", "too_large")])
    looks = " (it looks like UTF-16)" if _utf16(raw) else ""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError([InputIssue(str(path), f"is not UTF-8 text{looks}: byte 0x{raw[error.start]:02x} at "
                                     f"offset {error.start}; save the {what} as UTF-8", "encoding")]) from None
    if "\x00" in text:  # valid UTF-8, but no text file holds a NUL: binary, or UTF-16 without a byte-order mark
        raise InputError([InputIssue(str(path), f"is not UTF-8 text{looks}: a NUL byte at offset "
                                     f"{raw.index(0)}; save the {what} as UTF-8", "encoding")])
    return text


def regular_file(path: str | Path, what: str = "file") -> Path:
    """``path``, if it is a regular file or missing (the reader then says so); InputError for a directory, a FIFO
    or a device, which a reader would misread, block on or never finish."""
    path = Path(path)
    if path.is_dir():
        raise InputError([InputIssue(str(path), f"is a directory, not a {what}", "unreadable")])
    if path.exists() and not path.is_file():
        raise InputError([InputIssue(str(path), f"is not a regular file; give a {what} on disk", "unreadable")])
    return path


def _utf16(raw: bytes) -> bool:
    """A UTF-16 byte-order mark, or text whose every other byte is zero (ASCII written as UTF-16)."""
    head = raw[:64]
    return head[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(head) >= 8 and (not any(head[0::2]) or not any(head[1::2])))


def parse(text: str, kind: str, where: str = "") -> Any:
    """``text`` parsed as ``kind`` ("toml" or "json"), depth-checked and, for JSON, free of repeated keys."""
    if kind == "toml":
        loads: Callable[[str], Any] = tomllib.loads
        fault: type[ValueError] = tomllib.TOMLDecodeError
    else:
        import json  # deferred: a TOML file is read without it (allocator validate's start-up, docs/cli.md)

        loads, fault = functools.partial(json.loads, object_pairs_hook=_Object.of), json.JSONDecodeError
    try:
        data = loads(text)
    except RecursionError:
        raise InputError([InputIssue(where, f"is nested too deeply to read (more than {MAX_DEPTH} levels)",
                                     "too_deep")]) from None
    except fault as error:
        raise InputError([InputIssue(where, f"not valid {kind.upper()}: {error}", "syntax")]) from None
    issues = _structure_issues(data, where)
    if issues:
        raise InputError(issues)
    return data


class _Object(dict):  # type: ignore[type-arg]
    """A JSON object as parsed, with the keys it gave more than once."""

    repeated: tuple[str, ...] = ()

    @classmethod
    def of(cls, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        value = dict(pairs)
        if len(value) == len(pairs):
            return value
        obj = cls(value)
        obj.repeated = tuple(key for key, count in Counter(key for key, _ in pairs).items() if count > 1)
        return obj


def _structure_issues(data: Any, where: str) -> list[InputIssue]:
    """Too deep (one issue, at the file) or repeated JSON keys (one per key, located like ``assets[0].price``);
    walked without recursion, so that no depth can overflow the stack here. Only objects and arrays are walked (a
    2000 x 100 book has 190,000 values but 5,000 of them hold others: 0.03 s instead of 0.2 s): a value deeper
    than ``MAX_DEPTH`` is the member of one at ``MAX_DEPTH``."""
    issues: list[InputIssue] = []
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())] if isinstance(data, (dict, list)) else []
    while stack:
        value, path = stack.pop()
        members = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
        if members and len(path) >= MAX_DEPTH:
            deepest = (*path, members[-1][0] if isinstance(value, list) else str(members[-1][0]))
            return [InputIssue(where, f"is nested too deeply (more than {MAX_DEPTH} levels, at "
                               f"{format_location(deepest[:4])}...)", "too_deep")]
        for key in getattr(value, "repeated", ()):
            issues.append(InputIssue(format_location((*path, key)), f"the key {key!r} is given twice in one object; "
                                     "keep one (a JSON reader would silently use the last)", "duplicate_key"))
        stack.extend((item, (*path, key if isinstance(value, list) else str(key))) for key, item in members
                     if isinstance(item, (dict, list)))
    return sorted(issues, key=lambda issue: issue.location)


def format_location(path: tuple[str | int, ...]) -> str:
    """``("assets", 0, "price")`` as ``assets[0].price``, the way every issue is located."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
