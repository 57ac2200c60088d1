"""Cross-field checks of the risk inputs: market, positions, stress scenarios, per-account risk settings.

Like checks.py, they read the raw input and skip whatever is malformed (pydantic reports that), so that every
issue is reported at once.
"""

from __future__ import annotations

import math
from typing import Any

from allocator.errors import HistoryError, InputIssue
from allocator.inputs.market import PSD_TOLERANCE
from allocator.inputs.raw import day, rows, table, text
from allocator.lazy import np
from allocator.venues.estimate import daily_returns, read_closes

#: Symmetry and unit-diagonal tolerance of a correlation matrix.
MATRIX_TOLERANCE = 1e-9


def risk_issues(data: dict[str, Any], known: set[str]) -> list[InputIssue]:
    issues: list[InputIssue] = []
    market = data.get("market")
    market_assets = _market_issues(market, known, issues) if isinstance(market, dict) else set()
    accounts = {text(row.get("id")): row for _, row in rows(data, "accounts")}

    underlyings: dict[str, set[str]] = {}
    for index, row in rows(data, "positions"):
        account, underlying = text(row.get("account")), text(row.get("underlying"))
        if account is not None and account not in accounts:
            issues.append(InputIssue(f"positions[{index}].account", f"unknown account {account!r}",
                                     "unknown_account"))
        if underlying is not None and known and underlying not in known:
            issues.append(InputIssue(f"positions[{index}].underlying", f"unknown asset {underlying!r}",
                                     "unknown_asset"))
        if account is not None and underlying is not None:
            underlyings.setdefault(account, set()).add(underlying)
        issues += _option_issues(index, row, day(data.get("as_of")))

    names: dict[str, int] = {}
    for index, row in rows(data, "stress_scenarios"):
        name = text(row.get("name"))
        if name is not None and names.setdefault(name, index) != index:
            issues.append(InputIssue(f"stress_scenarios[{index}].name", f"duplicate scenario name {name!r} "
                                     f"(first at stress_scenarios[{names[name]}])", "duplicate_id"))
        for asset in table(row.get("returns")):
            if known and asset not in known:
                issues.append(InputIssue(f"stress_scenarios[{index}].returns.{asset}", f"unknown asset {asset!r}",
                                         "unknown_asset"))

    if data.get("portfolio") is not None and not isinstance(market, dict):
        issues.append(InputIssue("portfolio", "a portfolio limit needs a [market] table", "missing_market"))
    for index, row in rows(data, "accounts"):
        ident = text(row.get("id"))
        if row.get("risk") is None:
            continue
        if not isinstance(market, dict):
            issues.append(InputIssue(f"accounts[{index}].risk", "a risk limit needs a [market] table "
                                     "(volatilities and correlations)", "missing_market"))
            continue
        needed = set(table(row.get("haircuts"))) | underlyings.get(str(ident), set())
        for asset in sorted(a for a in needed - market_assets if isinstance(a, str)):
            issues.append(InputIssue(f"accounts[{index}].risk", f"{asset} (eligible or a position's underlying) "
                                     "has no volatility in market.assets", "missing_volatility"))
    return issues


def _market_issues(market: dict[str, Any], known: set[str], issues: list[InputIssue]) -> set[str]:
    listed = market.get("assets")
    assets = [a for a in listed if isinstance(a, str)] if isinstance(listed, list) else []
    for position, asset in enumerate(assets):
        if known and asset not in known:
            issues.append(InputIssue(f"market.assets[{position}]", f"unknown asset {asset!r}", "unknown_asset"))
    if len(set(assets)) != len(assets):
        issues.append(InputIssue("market.assets", "an asset is listed twice", "duplicate_asset"))
    if market.get("history") is not None:
        _history_issues(market, assets, issues)
        return set(assets)
    if market.get("loadings") is not None or market.get("specific_volatility") is not None:
        _factor_issues(market, assets, issues)
        return set(assets)
    for field in ("volatility", "correlation"):
        if market.get(field) is None:
            issues.append(InputIssue(f"market.{field}", "is required (or give `history` to estimate it)",
                                     "missing_field"))
    if market.get("volatility") is None or market.get("correlation") is None:
        return set(assets)
    volatility = table(market.get("volatility"))
    for asset in assets:
        if asset not in volatility:
            issues.append(InputIssue(f"market.volatility.{asset}", "missing: every market asset needs a volatility",
                                     "missing_field"))
    for asset in volatility:
        if asset not in assets:
            issues.append(InputIssue(f"market.volatility.{asset}", f"{asset!r} is not in market.assets",
                                     "misaligned"))
    matrix = market.get("correlation")
    n = len(assets)
    if n == 0:  # no usable asset list (pydantic reports it): nothing to check the matrix against
        return set()
    if not isinstance(matrix, list) or len(matrix) != n or any(not isinstance(r, list) or len(r) != n
                                                                for r in matrix):
        shape = f"{len(matrix)} rows" if isinstance(matrix, list) else "not a list of rows"
        issues.append(InputIssue("market.correlation", f"must be {n} x {n} (one row and column per market asset); "
                                 f"got {shape}", "bad_shape"))
        return set(assets)
    if any(not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v) for r in matrix for v in r):
        return set(assets)  # pydantic reports the entry
    rho = np.array(matrix, dtype=float)
    for i, j in zip(*np.nonzero(np.abs(rho - rho.T) > MATRIX_TOLERANCE), strict=True):
        if i < j:
            issues.append(InputIssue(f"market.correlation[{i}][{j}]", f"{rho[i, j]:g} differs from "
                                     f"[{j}][{i}] = {rho[j, i]:g}: not symmetric", "not_symmetric"))
    for i in np.flatnonzero(np.abs(np.diag(rho) - 1.0) > MATRIX_TOLERANCE):
        issues.append(InputIssue(f"market.correlation[{i}][{i}]", f"{rho[i, i]:g}: the diagonal must be 1",
                                 "bad_diagonal"))
    for i, j in zip(*np.nonzero(np.abs(rho) > 1.0 + MATRIX_TOLERANCE), strict=True):
        if i != j:
            issues.append(InputIssue(f"market.correlation[{i}][{j}]", f"{rho[i, j]:g} is not in [-1, 1]",
                                     "out_of_range"))
    smallest = float(np.linalg.eigvalsh((rho + rho.T) / 2).min())
    if smallest < -PSD_TOLERANCE:
        issues.append(InputIssue("market.correlation", f"not positive semi-definite: smallest eigenvalue "
                                 f"{smallest:.3g} (tolerance {PSD_TOLERANCE:g})", "not_psd"))
    return set(assets)


def _factor_issues(market: dict[str, Any], assets: list[str], issues: list[InputIssue]) -> None:
    """A factor model: ``loadings`` (one list of the same length per market asset) and ``specific_volatility``
    (one per market asset), and nothing of the other forms."""
    for field in ("volatility", "correlation", "history"):
        if market.get(field) is not None:
            issues.append(InputIssue(f"market.{field}", "give a factor model (loadings and specific_volatility) or "
                                     f"{'history' if field == 'history' else 'volatility and correlation'}, "
                                     "not both", "conflicting_fields"))
    lengths: dict[int, str] = {}
    for field in ("loadings", "specific_volatility"):
        given = table(market.get(field))
        if market.get(field) is None:
            issues.append(InputIssue(f"market.{field}", "is required in a factor model (with "
                                     f"{'specific_volatility' if field == 'loadings' else 'loadings'})",
                                     "missing_field"))
            continue
        for asset in assets:
            if asset not in given:
                issues.append(InputIssue(f"market.{field}.{asset}", "missing: every market asset needs one",
                                         "missing_field"))
        for asset, value in given.items():
            if asset not in assets:
                issues.append(InputIssue(f"market.{field}.{asset}", f"{asset!r} is not in market.assets",
                                         "misaligned"))
            elif field == "loadings" and isinstance(value, list):
                lengths.setdefault(len(value), asset)
    if len(lengths) > 1 or 0 in lengths:
        shown = ", ".join(f"{asset}: {n}" for n, asset in sorted(lengths.items()))
        issues.append(InputIssue("market.loadings", f"every asset needs the same number (at least 1) of factor "
                                 f"loadings; got {shown}", "bad_shape"))


def _history_issues(market: dict[str, Any], assets: list[str], issues: list[InputIssue]) -> None:
    """``history``: one readable daily CSV per market asset, with enough common dates."""
    for field in ("volatility", "correlation"):
        if market.get(field) is not None:
            issues.append(InputIssue(f"market.{field}", "give either volatility and correlation, or history "
                                     "(to estimate them), not both", "conflicting_fields"))
    history = table(market.get("history"))
    closes = {}
    for asset in assets:
        path = history.get(asset)
        if not isinstance(path, str):
            issues.append(InputIssue(f"market.history.{asset}", "missing: every market asset needs a price "
                                     "history file", "missing_field"))
            continue
        try:
            closes[asset] = read_closes(path)
        except HistoryError as error:
            issues.append(InputIssue(f"market.history.{asset}", str(error), "bad_history"))
    for asset in history:
        if asset not in assets:
            issues.append(InputIssue(f"market.history.{asset}", f"{asset!r} is not in market.assets", "misaligned"))
    if closes and len(closes) == len(assets):
        window, end = market.get("window_days", 365), market.get("end")
        try:
            daily_returns(closes, day(end), window if isinstance(window, int) else 365)
        except HistoryError as error:
            issues.append(InputIssue("market.history", str(error), "short_history"))


OPTION_FIELDS = ("strike", "expiry", "type", "implied_volatility")


def _option_issues(index: int, row: dict[str, Any], as_of: str | None) -> list[InputIssue]:
    where = f"positions[{index}]"
    if row.get("kind") != "option":
        return [InputIssue(f"{where}.{field}", f"only options have a {field} (this is a {row.get('kind')})",
                           "not_applicable") for field in OPTION_FIELDS if row.get(field) is not None]
    out = [InputIssue(f"{where}.{field}", "is required for an option", "missing_field")
           for field in OPTION_FIELDS if row.get(field) is None]
    expiry = day(row.get("expiry"))
    if as_of is None:
        out.append(InputIssue("as_of", "option positions need a valuation date (as_of = YYYY-MM-DD)",
                              "missing_field"))
    elif expiry is not None and expiry <= as_of:
        out.append(InputIssue(f"{where}.expiry", f"{expiry} is not after the valuation date {as_of}: "
                              "the option has expired", "expired"))
    return out
