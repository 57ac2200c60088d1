"""``allocator validate PROBLEM``: read and check a problem file, solve nothing (exit 0 valid, 2 not).

Every located issue is reported at once, one ``error:`` line each (the same checks as every other command runs
before its solve: types, ranges, cross-field checks, rulebooks, price histories). Loads no solver: it answers in
a fraction of a second (docs/performance.md, command line)."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path
from typing import Any

import click

from allocator.cli.exits import EXIT_INPUT
from allocator.cli.options import Output, output_options

#: pydantic's own spellings of "no plugins at all" (pydantic/plugin/_loader.py, ``get_plugins``).
PLUGINS_OFF = ("__all__", "1", "true")
_LOADER = "pydantic.plugin._loader"


def skip_plugin_search() -> None:
    """Turn off pydantic's plugin search in this process, unless the user set ``PYDANTIC_DISABLE_PLUGINS``.

    pydantic looks for plugins when it builds its first validator by reading every installed distribution's entry
    points (about 35 ms); ``PYDANTIC_DISABLE_PLUGINS=__all__`` stops the reading but not the import of the module
    that would do it, which brings importlib.metadata, email and zipfile (about 25 ms). With plugins off that
    module's one function used, ``get_plugins``, returns nothing, so a stand-in returning nothing takes its place;
    any other name asked of it imports the real module (:func:`_real_loader`). ``validate`` only (docs/cli.md)."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if os.environ["PYDANTIC_DISABLE_PLUGINS"] in PLUGINS_OFF and _LOADER not in sys.modules:
        stand_in = types.ModuleType(_LOADER, "Stand-in for pydantic's plugin loader while plugins are off.")
        vars(stand_in).update(get_plugins=lambda: (), __getattr__=_real_loader)
        sys.modules[_LOADER] = stand_in


def _real_loader(name: str) -> Any:
    """A name the stand-in lacks: the real loader replaces it (importing it), and answers. Not for the special
    names the import system asks of every module (``__path__``: is it a package?)."""
    if name.startswith("__"):
        raise AttributeError(f"module {_LOADER!r} has no attribute {name!r}")
    sys.modules.pop(_LOADER, None)
    from importlib import import_module

    return getattr(import_module(_LOADER), name)


@click.command("validate")
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@output_options("json", what="the verdict ({valid, issues})")
def command(problem: Path, output: Output) -> None:
    """Check PROBLEM (.toml or .json) without solving it: 'valid', or every located error (exit 2)."""
    from allocator.lazy import defer_numpy

    defer_numpy()  # a single-threaded check: numpy only if a check needs it (allocator/lazy.py)
    skip_plugin_search()
    from allocator.errors import InputError
    from allocator.io.loading import load_problem

    try:
        loaded = load_problem(problem)
    except InputError as error:
        issues = [{"location": i.location, "message": i.message, "code": i.code} for i in error.issues]
        _verdict(output, {"valid": False, "problem": str(problem), "issues": issues})
        for issue in error.issues:
            click.echo(f"error: {issue}", err=True)
        click.echo(f"invalid: {problem}: {len(issues)} issue{'s' if len(issues) != 1 else ''}", err=True)
        sys.exit(EXIT_INPUT)
    _verdict(output, {"valid": True, "problem": str(problem), "issues": []})
    output.say(f"valid: {problem} ({len(loaded.assets)} assets, {len(loaded.accounts)} accounts, "
               f"{len(loaded.holdings)} holdings)")


def _verdict(output: Output, verdict: dict[str, Any]) -> None:
    """The verdict as JSON where ``-o``/``--json`` asked; nothing (and no JSON writer imported) when neither did."""
    if output.path is None and not output.to_stdout:
        return
    from allocator.cli.output import deliver_document, dump

    deliver_document(output, dump(verdict))
