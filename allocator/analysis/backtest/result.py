"""``BacktestResult``: what a backtest found, as DataFrames, saved as JSON or as a folder of Parquet and CSV.

* ``daily``: one row per day, policy and account (``simulation.ACCOUNT_COLUMNS``): ``requirement``,
  ``collateral`` (credit at the day's end, after the policy acted), ``coverage`` (collateral over requirement at
  the close, before the policy acted) and ``coverage_after``, ``equity`` (maintenance basis), ``ratio`` (the
  liquidation rule's) and ``warning``, the worst intraday ``worst_coverage`` and ``worst_ratio``, ``liquidated``
  with its ``liquidation_row``, ``seized``, ``liquidation_loss`` and ``deficit``, the variation margin ``pnl``,
  ``carry_forgone`` (what the account's collateral forgoes posted), ``transfer_cost`` and ``moves`` touching the
  account; coverage is NaN without a requirement;
* ``treasury``: one row per day and policy (``simulation.TREASURY_COLUMNS``): the inventory's ``value`` at the
  close, ``market_pnl``, ``pnl``, every cost (``carry_forgone``: the accounts' plus ``carry_exchanged``, what the
  assets exchanged forgo), the moves and their value, whether the policy ``acted`` and why (``note``);
* ``summary``: one row per policy (metrics.py);
* ``holdings`` (with ``record_holdings=True``): units per day, policy, asset and location;
* ``notes``: assets held at their price for want of data, proxies used, bankruptcies.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

FRAMES = ("daily", "treasury", "summary", "holdings")


class BacktestResult:
    """The frames of a backtest (module docstring) and what it was run on (``meta``)."""

    def __init__(self, daily: pd.DataFrame, treasury: pd.DataFrame, summary: pd.DataFrame,
                 notes: list[str] | None = None, meta: dict[str, Any] | None = None,
                 holdings: pd.DataFrame | None = None) -> None:
        self.daily = daily
        self.treasury = treasury
        self.summary = summary
        self.notes = list(notes or [])
        self.meta = dict(meta or {})
        self.holdings = holdings if holdings is not None else pd.DataFrame(
            columns=["date", "policy", "asset", "location", "quantity"])

    @property
    def currency(self) -> str:
        """The problem's currency, in which every amount is (``meta["currency"]``)."""
        return str(self.meta.get("currency") or "")

    def to_html(self, *, title: str | None = None) -> str:
        """The self-contained HTML report (charts included, no network needed to open it; docs/report.md): the
        summary, coverage and cumulative cost over time per policy, liquidations and warning-zone days."""
        from allocator.report import to_html  # the report is a higher tier: tests/test_layers.py ALLOWED

        return to_html(self, title=title)

    def _repr_html_(self) -> str:
        """A compact report for notebooks: the outcome and the tables, no charts (``to_html()`` has them)."""
        from allocator.report import compact_html  # tests/test_layers.py ALLOWED, as for to_html

        return compact_html(self)

    def __repr__(self) -> str:
        policies = ", ".join(map(str, self.summary.get("policy", [])))
        return f"<BacktestResult {self.meta.get('start')}..{self.meta.get('end')}: {policies}>"

    def to_json(self) -> str:
        """Everything, as one JSON document (``BacktestResult.from_json`` reads it back exactly). Each frame is
        its columns, their dtypes and its rows; a coverage without a requirement is ``NaN`` and a ratio without a
        line ``Infinity``, written as Python's json module writes them."""
        return json.dumps({"meta": self.meta, "notes": self.notes, **{name: _frame_data(getattr(self, name))
                                                                       for name in FRAMES}})

    @classmethod
    def from_json(cls, text: str) -> BacktestResult:
        return cls.from_data(json.loads(text))

    @classmethod
    def from_data(cls, data: dict) -> BacktestResult:
        """From the parsed JSON of ``to_json`` (a reader that parsed the file already passes it here)."""
        frames = {name: _frame(data[name]) for name in FRAMES}
        return cls(frames["daily"], frames["treasury"], frames["summary"], data.get("notes"), data.get("meta"),
                   frames["holdings"])

    def save(self, folder: str | Path) -> None:
        """``daily.parquet``, ``treasury.parquet``, ``summary.csv`` (and ``holdings.parquet`` when recorded) and
        ``meta.json`` (meta and notes) in ``folder``, each written to a temporary name and renamed."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        _atomic(folder / "daily.parquet", lambda p: self.daily.to_parquet(p, index=False))
        _atomic(folder / "treasury.parquet", lambda p: self.treasury.to_parquet(p, index=False))
        _atomic(folder / "summary.csv", lambda p: self.summary.to_csv(p, index=False))
        if len(self.holdings):
            _atomic(folder / "holdings.parquet", lambda p: self.holdings.to_parquet(p, index=False))
        _atomic(folder / "meta.json", lambda p: p.write_text(json.dumps({"meta": self.meta, "notes": self.notes},
                                                                        indent=2), encoding="utf-8"))

    @classmethod
    def load(cls, folder: str | Path) -> BacktestResult:
        folder = Path(folder)
        info = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        holdings = pd.read_parquet(folder / "holdings.parquet") if (folder / "holdings.parquet").exists() else None
        return cls(pd.read_parquet(folder / "daily.parquet"), pd.read_parquet(folder / "treasury.parquet"),
                   pd.read_csv(folder / "summary.csv"), info.get("notes"), info.get("meta"), holdings)


def _frame_data(frame: pd.DataFrame) -> dict[str, Any]:
    return {"columns": list(map(str, frame.columns)), "dtypes": [str(t) for t in frame.dtypes],
            "data": frame.astype(object).where(frame.notna(), None).to_numpy().tolist() if len(frame) else []}


def _frame(data: dict[str, Any]) -> pd.DataFrame:
    frame = pd.DataFrame(data["data"], columns=data["columns"])
    for column, dtype in zip(data["columns"], data["dtypes"], strict=True):
        if dtype.startswith(("float", "int", "bool")):
            frame[column] = frame[column].astype("float64" if dtype.startswith("float") else dtype)
    return frame


def _atomic(path: Path, write: Any) -> None:
    temporary = path.with_name(f".tmp-{path.name}")
    write(temporary)
    temporary.replace(path)
