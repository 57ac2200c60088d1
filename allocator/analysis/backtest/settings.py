"""The backtest's own conventions that a user may change: costs not in the problem, the cash and settlement assets.

* ``trade_fee_bps`` (10): what a trade costs where the problem has no venue trading both assets at that location
  (plus half of each asset's ``spread_bps``); illustrative, of the order of a large exchange's taker fee;
* ``restore_cost_bps`` (10): what the treasury pays to restore an account after a liquidation, as a share of the
  notional it re-opens (positions) or of the debt it borrows again (a loan); illustrative;
* ``cash``: the asset the treasury pays and receives money in (default: the first dollar stablecoin of the problem,
  USDC first; else the problem's first asset);
* ``settlement``: per account, the asset its positions' variation margin is paid in (default: the first dollar
  stablecoin eligible there, USDC first; else the cash asset);
* ``stablecoins``: the assets ``all_stable`` and ``isolated`` may post (default: USDC and the dollar stablecoins
  listed in models/stress-episodes.toml that the problem has);
* ``penalties``: per account, the liquidation penalty (over the problem's ``[stress] liquidation_penalty``, the
  rulebook's and the stress package's 5% default);
* ``proxies``: asset -> ticker (or "constant") for assets without price data (over the problem's
  ``[stress] proxies``);
* ``positions`` ("notional"): positions are held at **constant notional**: at every close each position is resized
  to ``quantity x price(start) / price(today)`` of its underlying (a desk sizes its book in money; over five years
  of 10-20x moves constant units would turn a hedge into the whole book), free of cost; "units" keeps the file's
  quantities. Options are resized the same way (their strike and time to expiry stay as written: no roll).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from allocator.analysis.stress.episodes import load_episodes
from allocator.errors import InputError, InputIssue
from allocator.inputs.fields import Bps, Id, StrictModel
from allocator.inputs.problem import Problem
from allocator.inputs.stress import Penalty


class BacktestSettings(StrictModel):
    """Conventions of a backtest beyond the problem (module docstring)."""

    trade_fee_bps: Bps = 10.0
    restore_cost_bps: Bps = 10.0
    cash: Id | None = None
    settlement: dict[Id, Id] = Field(default_factory=dict)
    stablecoins: list[Id] | None = None
    penalties: dict[Id, Penalty] = Field(default_factory=dict)
    proxies: dict[Id, Id] = Field(default_factory=dict)
    positions: Literal["notional", "units"] = "notional"

    def check(self, problem: Problem) -> None:
        """InputError naming every asset or account the problem does not have, and every field of the problem the
        backtest does not model (``unsupported``)."""
        assets, accounts = set(problem.asset_ids), set(problem.account_ids)
        issues = []
        named = [("cash", self.cash)] if self.cash is not None else []
        named += [(f"settlement.{k}", a) for k, a in self.settlement.items()]
        named += [(f"stablecoins[{i}]", a) for i, a in enumerate(self.stablecoins or [])]
        issues += [InputIssue(f"settings.{where}", f"unknown asset {asset!r}", "unknown_asset")
                   for where, asset in named if asset not in assets]
        issues += [InputIssue(f"settings.{table}.{k}", f"unknown account {k!r}", "unknown_account")
                   for table in ("settlement", "penalties") for k in getattr(self, table) if k not in accounts]
        issues += unsupported(problem)
        if issues:
            raise InputError(issues)

    def stable(self, problem: Problem) -> list[str]:
        """The stablecoins of the problem, USDC first."""
        if self.stablecoins is not None:
            return list(self.stablecoins)
        rules = load_episodes().stablecoins
        known = {"USDC"} | ({rules.follow, *rules.assets} if rules else set())
        return sorted((a for a in problem.asset_ids if a in known), key=lambda a: (a != "USDC",
                                                                                   problem.asset_ids.index(a)))

    def cash_asset(self, problem: Problem) -> str:
        if self.cash is not None:
            return self.cash
        stable = self.stable(problem)
        return stable[0] if stable else problem.asset_ids[0]

    def settlement_assets(self, problem: Problem) -> list[str]:
        """Per account (problem order), the asset its variation margin settles in."""
        stable, cash = self.stable(problem), self.cash_asset(problem)
        out = []
        for account in problem.accounts:
            eligible = problem.terms[account.id].eligible
            mine = [a for a in stable if a in eligible]
            out.append(self.settlement.get(account.id, mine[0] if mine else cash))
        return out


def unsupported(problem: Problem) -> list[InputIssue]:
    """The problem's fields the backtest refuses rather than ignore (docs/backtest.md, section 10): an account's
    ``margin_mode`` (every account runs in its rulebook's own mode: a liquidation, its restoration and the variation
    margin per isolated sub-account are not modelled), ``[[hedges]]`` (no policy trades hedges, so a plan that
    counts on them would never be carried out) and ``max_net_delta`` (it bounds the hedges' delta)."""
    issues = []
    written = [a for a in problem.accounts if a.parent is None]  # the file's accounts (sub-accounts are expanded)
    for k, account in enumerate(written):
        if account.margin_mode is not None:
            issues.append(InputIssue(f"accounts[{k}].margin_mode", f"{account.margin_mode!r}: the backtest runs "
                                     "every account in its rulebook's own mode; leave margin_mode out (compare "
                                     "modes with `allocator modes`)", "unsupported_in_backtest"))
        if account.max_net_delta:
            issues.append(InputIssue(f"accounts[{k}].max_net_delta", "the backtest trades no hedges, so it cannot "
                                     "hold a delta limit; leave max_net_delta out", "unsupported_in_backtest"))
    if problem.hedges:
        issues.append(InputIssue("hedges", f"{len(problem.hedges)} [[hedges]] given: no backtest policy trades "
                                 "hedges; leave them out (what they save: `allocator hedges`)",
                                 "unsupported_in_backtest"))
    if problem.max_net_delta:
        issues.append(InputIssue("max_net_delta", "the backtest trades no hedges, so it cannot hold a delta limit; "
                                 "leave max_net_delta out", "unsupported_in_backtest"))
    return issues
