"""Historical stress episodes and the default proxy rules, read from the reviewed file ``models/stress-episodes.toml``.

An episode is a named window of calendar days (``start`` to ``end``, both included) with a description and a source;
its moves per asset are computed from the market files (returns.py), never stored. The file also holds the default
proxies: which ticker an asset without price data follows (``[proxies]``, and ``[stablecoins]``: every listed
dollar stablecoin follows ``follow``). A problem's ``[stress] proxies`` override them (inputs/stress.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import cache
from pathlib import Path

from pydantic import Field, ValidationError, model_validator

from allocator.errors import InputError, InputIssue
from allocator.inputs.fields import Day, Id, StrictModel
from allocator.inputs.issues import issues_from_pydantic
from allocator.io.data_files import MODELS_PACKAGE, data_folder
from allocator.io.documents import parse, read_text

#: The reviewed file of episodes, by its name in ``models/``.
EPISODES_FILE = "stress-episodes.toml"


class Episode(StrictModel):
    """A named window of calendar days whose price moves are a stress scenario."""

    name: Id
    start: Day
    end: Day
    description: str = Field(min_length=1)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Episode:
        if date.fromisoformat(self.end) < date.fromisoformat(self.start):
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class Stablecoins(StrictModel):
    """Dollar stablecoins that follow ``follow`` when they have no data of their own."""

    follow: Id
    assets: list[Id] = Field(default_factory=list)


class EpisodeFile(StrictModel):
    """The whole file: header, default proxies and the episodes."""

    name: Id
    reviewed: Day
    sources: list[str] = Field(min_length=1)
    notes: str = ""
    proxies: dict[Id, Id] = Field(default_factory=dict)
    stablecoins: Stablecoins | None = None
    episodes: list[Episode] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> EpisodeFile:
        names = [episode.name for episode in self.episodes]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"episode names must be unique: {', '.join(repeated)} repeated")
        return self

    def default_proxy(self, asset: str) -> str | None:
        """The ticker ``asset`` follows by the file's rules, or None."""
        if asset in self.proxies:
            return self.proxies[asset]
        if self.stablecoins is not None and asset in self.stablecoins.assets:
            return self.stablecoins.follow
        return None

    def select(self, names: Sequence[str] | None, where: str = "episodes") -> list[Episode]:
        """The named episodes in the order given (all of them, in file order, for None); InputError naming every
        unknown name (with the known ones) and every name given twice."""
        if names is None:
            return list(self.episodes)
        known = {episode.name: episode for episode in self.episodes}
        issues = [InputIssue(f"{where}[{i}]", f"unknown episode {name!r} (known: {', '.join(known)})",
                             "unknown_episode") for i, name in enumerate(names) if name not in known]
        issues += [InputIssue(f"{where}[{i}]", f"episode {name!r} is already chosen (episodes[{names.index(name)}]); "
                              "each episode once", "duplicate_id")
                   for i, name in enumerate(names) if name in names[:i]]
        if issues:
            raise InputError(issues)
        return [known[name] for name in names]


def load_episodes(path: str | Path | None = None) -> EpisodeFile:
    """The episodes and proxy rules of ``models/stress-episodes.toml`` (or of ``path``), validated; InputError
    located in the file otherwise."""
    if path is None:
        return _shipped()
    return _read(Path(path))


@cache
def _shipped() -> EpisodeFile:
    return _read(data_folder(MODELS_PACKAGE) / EPISODES_FILE)


def _read(path: Path) -> EpisodeFile:
    where = str(path) if path.name != EPISODES_FILE else f"models/{EPISODES_FILE}"
    data = parse(read_text(path, "stress episodes"), "toml", where)
    try:
        return EpisodeFile.model_validate(data)
    except ValidationError as error:
        raise InputError([InputIssue(f"{where}: {issue.location}", issue.message, issue.code)
                          for issue in issues_from_pydantic(error)]) from None
