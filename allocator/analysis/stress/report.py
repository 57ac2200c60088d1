"""What ``allocator.stress`` returns: a frozen report with DataFrame views and a JSON round trip.

Rows (docs/stress.md has every column): ``episodes`` (the windows tested), ``moves`` (each asset's move per scenario
and its source; a scenario is an episode or one of the caller's ``moves``), ``accounts`` (per scenario and account:
collateral before and after, P&L, requirement, equity against the liquidation line, liquidated or not and in which
round, the loss; the distance to liquidation beside them), ``summary`` (per scenario: who fell, rounds, the
treasury's losses), ``draws``, ``draw_accounts`` and ``monte_carlo`` (per Monte Carlo draw, per account over the
draws, and the fit with the loss distribution) and ``liquidity`` (the impact model's inputs per asset).
An account row's ``mode`` is its margin mode (today every account is cross-margined: one pool per account).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_by_name=True, serialize_by_alias=True)


class EpisodeRow(_Row):
    name: str
    start: str
    end: str
    description: str
    source: str


class MoveRow(_Row):
    scenario: str
    asset: str
    move: float = Field(description="relative price move applied")
    source: str = Field(description="data, proxy ([stress] proxies), rule (models/stress-episodes.toml), constant, "
                                    "missing (no data, no proxy: held at today's price) or given (the caller's)")
    ticker: str | None = Field(default=None, description="the series the move was computed from")
    base_date: str | None = None
    base: float | None = Field(default=None, description="the close before the window")
    end_date: str | None = None
    end: float | None = Field(default=None, description="the close (or the intraday low) the move runs to")
    note: str = ""
    after_cascade: float = Field(description="the price's move from today once liquidation sales have moved it")


class AccountRow(_Row):
    scenario: str
    account: str
    mode: str = Field(default="cross", description="margin mode the account was stressed under")
    rule: str = Field(description="maintenance, aave-health-factor or binance-unimmr")
    collateral_value_before: float = Field(description="market value of the posted collateral today")
    collateral_value_after: float
    collateral_before: float = Field(description="haircut-weighted collateral today (the account's basis)")
    collateral_after: float
    pnl: float = Field(description="the positions' P&L from today's prices (a loss is < 0)")
    requirement_before: float
    requirement_after: float = Field(description="the requirement re-derived at the stressed prices")
    required_after: float = Field(description="max(requirement_after * (1 + buffer) - P&L since the last mark, 0)")
    shortfall: float = Field(description="max(required_after - collateral_after, 0)")
    maintenance_after: float = Field(description="the liquidation line: the maintenance requirement")
    equity_after: float = Field(description="maintenance-basis collateral plus the P&L since the last mark")
    health: float | None = Field(description="the rule's ratio: health factor, uniMMR, or equity / maintenance; "
                                             "None without a requirement (nothing to liquidate)")
    threshold: float = Field(description="liquidated below it (at or below it for uniMMR)")
    liquidated: bool
    round: int | None = Field(default=None, description="the cascade round it fell in (1: the shock itself)")
    seized: float = Field(default=0.0, description="collateral value the venue sold")
    liquidation_loss: float = Field(default=0.0, description="the penalty the desk paid")
    liquidation_move: float | None = Field(default=None, description="move of the main underlying to liquidation")
    market_liquidation_move: float | None = None


class SummaryRow(_Row):
    scenario: str
    variant: str = Field(description="close, intraday, or given (the caller's moves)")
    liquidated: int
    accounts_liquidated: list[str]
    cascade_accounts: list[str] = Field(description="accounts that fell in round 2 or later")
    rounds: int
    worst_account: str | None = None
    worst_health: float | None = Field(default=None, description="its ratio over its threshold")
    treasury_before: float
    treasury_after: float
    market_loss: float
    liquidation_loss: float
    cascade_loss: float = Field(description="loss the cascade added to that of the shock alone")
    total_loss: float


class DrawRow(_Row):
    draw: int
    liquidated: int
    accounts_liquidated: list[str]
    cascade_accounts: list[str]
    rounds: int
    market_loss: float
    liquidation_loss: float
    cascade_loss: float
    total_loss: float


class DrawAccountRow(_Row):
    account: str
    probability_liquidated: float
    probability_in_cascade: float = Field(description="share of draws where it fell in round 2 or later")
    expected_liquidation_loss: float
    expected_seized: float


class MonteCarloInfo(_Row):
    draws: int
    seed: int
    degrees_of_freedom: float
    window_start: str
    window_end: str
    observations: int
    series: dict[str, str | None] = Field(description="asset -> the series it follows (None: held constant)")
    probability_any_liquidation: float
    probability_cascade: float
    mean_total_loss: float
    var_95: float
    var_99: float
    expected_shortfall_99: float


class LiquidityRow(_Row):
    asset: str
    adv: float | None
    adv_source: str
    sigma_daily: float | None
    sigma_source: str
    impact: float
    impact_source: str


class StressReport(_Row):
    currency: str
    holdings: str = Field(description="current, result or given")
    intraday: bool
    cascade: bool
    episodes: list[EpisodeRow] = Field(default_factory=list)
    move_rows: list[MoveRow] = Field(default_factory=list, alias="moves")
    account_rows: list[AccountRow] = Field(default_factory=list, alias="accounts")
    summary_rows: list[SummaryRow] = Field(default_factory=list, alias="summary")
    monte_carlo: MonteCarloInfo | None = None
    draw_rows: list[DrawRow] = Field(default_factory=list, alias="draws")
    draw_account_rows: list[DrawAccountRow] = Field(default_factory=list, alias="draw_accounts")
    liquidity_rows: list[LiquidityRow] = Field(default_factory=list, alias="liquidity")
    notes: list[str] = Field(default_factory=list)

    @property
    def accounts(self) -> pd.DataFrame:
        """One row per scenario and account."""
        return _frame(self.account_rows, AccountRow)

    @property
    def summary(self) -> pd.DataFrame:
        """One row per scenario."""
        return _frame(self.summary_rows, SummaryRow)

    @property
    def moves(self) -> pd.DataFrame:
        return _frame(self.move_rows, MoveRow)

    @property
    def draws(self) -> pd.DataFrame:
        """One row per Monte Carlo draw."""
        return _frame(self.draw_rows, DrawRow)

    @property
    def draw_accounts(self) -> pd.DataFrame:
        """One row per account over the Monte Carlo draws."""
        return _frame(self.draw_account_rows, DrawAccountRow)

    @property
    def liquidity(self) -> pd.DataFrame:
        return _frame(self.liquidity_rows, LiquidityRow)

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.model_dump(mode="json", by_alias=True), indent=indent)

    @classmethod
    def from_json(cls, text: str | bytes) -> StressReport:
        return cls.model_validate_json(text)


def _frame(rows: Sequence[_Row], model: type[_Row]) -> pd.DataFrame:
    columns = [field.alias or name for name, field in model.model_fields.items()]
    return pd.DataFrame([row.model_dump(by_alias=True) for row in rows], columns=columns)
