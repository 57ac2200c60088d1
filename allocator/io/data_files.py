"""The data folders shipped with allocator, found with ``importlib.resources``.

The reviewed files stay at the top of the repository (``models/``, ``fixtures/``); pyproject.toml maps them into
the package at build time (``allocator._models``, ``allocator._fixtures``), so a wheel carries them and an editable
install reads the repository's own files: one copy, found the same way in both.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

#: The rulebooks of ``models/``.
MODELS_PACKAGE = "allocator._models"
#: ``fixtures/``: the example problems in ``problems/`` and, beside them, the price histories they name.
FIXTURES_PACKAGE = "allocator._fixtures"


def data_folder(package: str) -> Path:
    """The folder of a shipped data package, on disk. Raises ImportError, saying how to repair the installation,
    when the package is missing (an editable install made before the mapping existed) or is not a folder."""
    try:
        folder = resources.files(package)
    except ModuleNotFoundError as error:
        raise ImportError(f"{package} is missing from this installation of allocator; reinstall it "
                          "(pip install allocator, or pip install -e . from a checkout)") from error
    if not isinstance(folder, Path) or not folder.is_dir():
        raise ImportError(f"{package} is not a folder on disk ({folder}); install allocator unpacked with pip")
    return folder


def market_folder() -> Path:
    """``fixtures/market/``: the daily price histories (``<TICKER>-USD_1d.csv``, ``<TICKER>_1d.csv``) that example
    problems name and that the stress test reads (episode moves, Monte Carlo fits, ADVs; docs/stress.md)."""
    return data_folder(FIXTURES_PACKAGE) / "market"
