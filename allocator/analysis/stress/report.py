"""What ``allocator.stress`` returns: a frozen report with DataFrame views and a JSON round trip.

Rows (docs/stress.md has every column): ``episodes`` (the windows tested), ``moves`` (each asset's move per scenario
and its source; a scenario is an episode or one of the caller's ``moves``), ``accounts`` (per scenario and account:
collateral before and after, P&L, requirement, equity against the liquidation line, liquidated or not and in which
round, the loss; the distance to liquidation beside them), ``summary`` (per scenario: who fell, rounds, the
treasury's losses), ``draws``, ``draw_accounts`` and ``monte_carlo`` (per Monte Carlo draw, per account over the
draws, and the fit with the loss distribution) and ``liquidity`` (the impact model's inputs per asset).
It shows itself like a Result: ``summary_text()`` (a few lines; ``summary`` is the per-scenario DataFrame),
``to_html()`` (the self-contained report, docs/report.md) and ``_repr_html_()`` (compact, for notebooks).
An account row's ``mode`` is the margin mode in force at the account (``Problem.terms``: isolated, cross or portfolio).
"""

from __future__ import annotations

import pandas as pd
from pydantic import Field

from allocator.results.reportable import Reportable, Row, rows_frame


class EpisodeRow(Row):
    name: str
    start: str
    end: str
    description: str
    source: str


class MoveRow(Row):
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


class AccountRow(Row):
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


class SummaryRow(Row):
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


class DrawRow(Row):
    draw: int
    liquidated: int
    accounts_liquidated: list[str]
    cascade_accounts: list[str]
    rounds: int
    market_loss: float
    liquidation_loss: float
    cascade_loss: float
    total_loss: float


class DrawAccountRow(Row):
    account: str
    probability_liquidated: float
    probability_in_cascade: float = Field(description="share of draws where it fell in round 2 or later")
    expected_liquidation_loss: float
    expected_seized: float


class MonteCarloInfo(Row):
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


class LiquidityRow(Row):
    asset: str
    adv: float | None
    adv_source: str
    sigma_daily: float | None
    sigma_source: str
    impact: float
    impact_source: str


class StressReport(Reportable):
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
        return rows_frame(self.account_rows, AccountRow)

    @property
    def summary(self) -> pd.DataFrame:
        """One row per scenario."""
        return rows_frame(self.summary_rows, SummaryRow)

    @property
    def moves(self) -> pd.DataFrame:
        return rows_frame(self.move_rows, MoveRow)

    @property
    def draws(self) -> pd.DataFrame:
        """One row per Monte Carlo draw."""
        return rows_frame(self.draw_rows, DrawRow)

    @property
    def draw_accounts(self) -> pd.DataFrame:
        """One row per account over the Monte Carlo draws."""
        return rows_frame(self.draw_account_rows, DrawAccountRow)

    @property
    def liquidity(self) -> pd.DataFrame:
        return rows_frame(self.liquidity_rows, LiquidityRow)

    def to_json(self, *, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent, by_alias=True)  # pydantic's serializer, as Result.to_json

    @classmethod
    def from_json(cls, text: str | bytes) -> StressReport:
        return cls.model_validate_json(text)

    def headline(self) -> list[tuple[str, str]]:
        """The figures a reader needs first, as (label, text) pairs: what was stressed, who was liquidated, the worst
        scenario's loss, the Monte Carlo tail. ``summary_text()`` prints them; the report's first section shows
        them. (``summary`` is the per-scenario DataFrame, docs/stress.md.)"""
        money = self.currency
        holdings = {"current": "today's holdings", "result": "an optimize result's targets",
                    "given": "a given allocation"}.get(self.holdings, self.holdings)
        pairs = [("allocation", holdings)]
        rows = self.summary_rows
        if rows:
            kinds = sorted({row.variant for row in rows})
            pairs.append(("scenarios", f"{len(rows)} ({', '.join(kinds)}), "
                                       f"{'with' if self.cascade else 'without'} liquidation cascades"))
            pairs.append(("treasury today", f"{rows[0].treasury_before:,.2f} {money}"))
            fell = [row for row in rows if row.liquidated]
            later = sorted({f"{account} in {row.scenario}" for row in rows for account in row.cascade_accounts})
            pairs.append(("liquidations", f"{sum(row.liquidated for row in rows)} in {len(fell)} of {len(rows)} "
                                          "scenarios" + (f"; in a cascade round: {', '.join(later)}" if later
                                                         else "")))
            worst = max(rows, key=lambda row: row.total_loss)
            pairs.append(("worst scenario", f"{worst.scenario}: loss {worst.total_loss:,.2f} {money} (market "
                                            f"{worst.market_loss:,.2f}, liquidations {worst.liquidation_loss:,.2f}; "
                                            f"the cascade added {worst.cascade_loss:,.2f})"))
        mc = self.monte_carlo
        if mc is not None:
            pairs.append(("monte carlo", f"{mc.draws:,} draws (seed {mc.seed}): P(any liquidation) "
                                         f"{mc.probability_any_liquidation:.2%}, P(cascade) "
                                         f"{mc.probability_cascade:.2%}; loss VaR 95% {mc.var_95:,.2f}, VaR 99% "
                                         f"{mc.var_99:,.2f}, ES 99% {mc.expected_shortfall_99:,.2f} {money}"))
        return pairs

    def summary_text(self) -> str:
        """A few lines of text (``headline()``); ``allocator stress`` prints the long form with tables."""
        return self.headline_text()



