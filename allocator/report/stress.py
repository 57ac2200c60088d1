"""Sections of a :class:`StressReport` (``allocator.stress``, docs/stress.md): the outcome, the treasury's loss per
scenario, every account in every scenario (collateral before and after, P&L, requirement, liquidated or not and in
which round, beside its distance to liquidation today), and the cascade with the price moves it made.

The Monte Carlo draws and the data behind the scenarios are in ``stress_draws.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from allocator.analysis.stress.report import AccountRow, StressReport
from allocator.report.charts import (
    REQUIRED,
    REQUIREMENT,
    TARGET,
    TODAY,
    WARN,
    cents,
    distance_to_liquidation,
    grouped_bars,
    heatmaps,
)
from allocator.report.format import count, factor, facts, money, paragraph, percent, table, text
from allocator.report.registry import Block, Context, section

#: The colours of an account's state in a scenario: no requirement (nothing to liquidate), standing, liquidated by
#: the shock itself (round 1), liquidated in a cascade round (2 and later).
NONE, SAFE, LIQUIDATED, CASCADE = "#eaeef2", "#aceebb", REQUIRED, "#8250df"


def _scenarios(report: StressReport) -> list[str]:
    return list(dict.fromkeys([row.scenario for row in report.summary_rows] +
                              [row.scenario for row in report.account_rows]))


def _accounts(report: StressReport) -> list[str]:
    return list(dict.fromkeys(row.account for row in report.account_rows))


def state(row: AccountRow) -> str:
    """An account's state in a scenario, in words: liquidated (round n), ok (its health), or no requirement."""
    if row.liquidated:
        return f"liquidated (round {row.round})" if row.round else "liquidated"
    return "no requirement" if row.health is None else f"ok ({row.health:,.3f})"


@section(StressReport, order=0, compact=True)
def headline(report: StressReport, ctx: Context) -> Block:
    fell = any(row.liquidated for row in report.summary_rows)
    risky = report.monte_carlo is not None and report.monte_carlo.probability_any_liquidation > 0
    kind = "bad" if fell else ("warn" if risky else "good")
    notes = "".join(paragraph(f"note: {note}") for note in report.notes)
    return Block("Outcome", f'<div class="outcome {kind}">{facts(report.headline())}</div>{notes}')


@section(StressReport, order=10, compact=True)
def treasury(report: StressReport, ctx: Context) -> Block | None:
    rows = report.summary_rows
    if not rows:
        return None
    names = [row.scenario for row in rows]
    height = 140 + 34 * len(names)
    worth = grouped_bars(names, [("today", [row.treasury_before for row in rows], TODAY),
                                 ("after the scenario", [row.treasury_after for row in rows], TARGET)],
                         title="The treasury's value, today and after each scenario", axis=ctx.currency)
    losses = go.Figure()
    for name, values, colour in (("market loss", [row.market_loss for row in rows], WARN),
                                 ("liquidation penalties", [row.liquidation_loss for row in rows], REQUIRED)):
        losses.add_bar(y=names, x=cents(values), name=name, orientation="h", marker_color=colour,
                       hovertemplate=f"%{{y}}: %{{x:,.2f}} {ctx.currency}<extra>{name}</extra>")
    if any(row.cascade_loss for row in rows):
        losses.add_scatter(y=names, x=cents([row.cascade_loss for row in rows]), mode="markers",
                           name="of which the cascade added", marker={"symbol": "diamond", "size": 11,
                                                                      "color": CASCADE},
                           hovertemplate=f"%{{y}}: the cascade added %{{x:,.2f}} {ctx.currency}<extra></extra>")
    losses.update_layout(title="The treasury's loss per scenario (negative: a gain)", barmode="relative",
                         legend={"orientation": "h", "y": -0.15})
    losses.update_xaxes(title=ctx.currency)
    losses.update_yaxes(autorange="reversed")
    short = shortfalls(report)
    records = [{**row.model_dump(), "accounts_liquidated": ", ".join(row.accounts_liquidated),
                "cascade_accounts": ", ".join(row.cascade_accounts),
                "shortfall": sum(short.get(row.scenario, {}).values())} for row in rows]
    body = ctx.chart(worth, height) + ctx.chart(losses, height) + _shortfall_chart(names, short, ctx, height)
    body += table(records, {
        "scenario": ("scenario", text), "variant": ("moves", text), "liquidated": ("liquidated", count),
        "accounts_liquidated": ("accounts liquidated", text), "cascade_accounts": ("in round 2 or later", text),
        "rounds": ("cascade rounds", count), "shortfall": (f"shortfall ({ctx.currency})", money),
        "worst_account": ("worst account", text),
        "worst_health": ("its health / threshold", factor), "treasury_before": (f"treasury today ({ctx.currency})",
                                                                                money),
        "treasury_after": ("treasury after", money), "market_loss": ("market loss", money),
        "liquidation_loss": ("liquidation penalties", money), "cascade_loss": ("added by the cascade", money),
        "total_loss": ("total loss", money)}, limit=ctx.rows)
    return Block("Treasury per scenario", body, f"Amounts in {ctx.currency}. The total loss is the market loss "
                                                "(collateral and positions revalued at the scenario's prices, after "
                                                "the cascade's sales) plus the penalties the liquidations cost; the "
                                                "cascade's share is what it added to the shock alone. The shortfall "
                                                "is the collateral missing to each account's required level after "
                                                "the scenario, summed over the accounts.")


def shortfalls(report: StressReport) -> dict[str, dict[str, float]]:
    """Per scenario, each account's shortfall after it (max(required - collateral, 0); only accounts short)."""
    short: dict[str, dict[str, float]] = {}
    for row in report.account_rows:
        if row.shortfall > 0:
            short.setdefault(row.scenario, {})[row.account] = row.shortfall
    return short


def _shortfall_chart(names: list[str], short: dict[str, dict[str, float]], ctx: Context, height: int) -> str:
    """The shortfall per scenario, stacked by account (nothing when no account is short in any scenario)."""
    accounts = list(dict.fromkeys(a for s in names for a in short.get(s, {})))
    if not accounts:
        return paragraph("No account is short of its required collateral in any scenario.")
    figure = go.Figure()
    for account in accounts:
        figure.add_bar(y=names, x=cents([short.get(s, {}).get(account, 0.0) for s in names]), name=account,
                       orientation="h", hovertemplate=f"%{{y}}: {account} short %{{x:,.2f}} {ctx.currency}"
                                                      "<extra></extra>")
    figure.update_layout(title="Shortfall per scenario: collateral missing to the required level, per account",
                         barmode="stack", legend={"orientation": "h", "y": -0.15})
    figure.update_xaxes(title=ctx.currency)
    figure.update_yaxes(autorange="reversed")
    return ctx.chart(figure, height)


def _state_map(report: StressReport, ctx: Context, accounts: list[str], scenarios: list[str]) -> tuple[str, str]:
    """The account x scenario grid of states as a heatmap (a chart and a note if scenarios were left out)."""
    shown = scenarios[:max(1, 4 * ctx.marks // max(len(accounts), 1))]
    rows = {(row.account, row.scenario): row for row in report.account_rows}
    code = {NONE: 0, SAFE: 1, LIQUIDATED: 2, CASCADE: 3}

    def colour(row: AccountRow | None) -> str:
        if row is None or (row.health is None and not row.liquidated):
            return NONE
        if not row.liquidated:
            return SAFE
        return CASCADE if (row.round or 1) >= 2 else LIQUIDATED

    cells = [[rows.get((a, s)) for s in shown] for a in accounts]
    z = [[code[colour(cell)] for cell in line] for line in cells]
    words = [["" if cell is None else state(cell).replace("liquidated", "LIQUIDATED") for cell in line]
             for line in cells]
    scale = [[0.0, NONE], [0.25, NONE], [0.25, SAFE], [0.5, SAFE], [0.5, LIQUIDATED], [0.75, LIQUIDATED],
             [0.75, CASCADE], [1.0, CASCADE]]
    figure = go.Figure(go.Heatmap(z=z, x=shown, y=accounts, zmin=0, zmax=4, colorscale=scale, showscale=False,
                                  xgap=2, ygap=2, text=words, texttemplate="%{text}", textfont={"size": 11},
                                  hovertemplate="%{y} in %{x}: %{text}<extra></extra>"))
    figure.update_layout(title="Who is liquidated: red in the shock itself, purple in a cascade round (ok: the "
                               "rule's health ratio)")
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(side="top", type="category")
    note = paragraph(f"The grid shows the first {len(shown):,} of {len(scenarios):,} scenarios.") \
        if len(shown) < len(scenarios) else ""
    return ctx.chart(figure, 150 + 34 * len(accounts)), note


def _distance(report: StressReport, ctx: Context, accounts: list[str]) -> str:
    first = {row.account: row for row in reversed(report.account_rows)}
    accounts = [a for a in accounts if first[a].liquidation_move is not None or
                first[a].market_liquidation_move is not None]
    if not accounts:
        return ""
    figure = distance_to_liquidation(
        accounts, [first[a].liquidation_move for a in accounts], [first[a].market_liquidation_move for a in accounts],
        title="Distance to liquidation today: the price move that leaves only the requirement")
    return ctx.chart(figure, 140 + 50 * len(accounts)) + paragraph(
        "Accounts without a distance (no positions, or no move reaches the line) are left out of the chart.")


def _money_bars(rows: Sequence[AccountRow], ctx: Context) -> str:
    """Per scenario and account (a two-level axis): collateral before and after, the positions' P&L and the
    requirement after, with a red cross over every account liquidated."""
    shown = list(rows[:max(1, ctx.marks // 4)])
    x = [[row.scenario for row in shown], [row.account for row in shown]]
    figure = go.Figure()
    for name, key, colour in (("collateral today", "collateral_before", TODAY),
                              ("collateral after", "collateral_after", TARGET), ("positions' P&L", "pnl", WARN),
                              ("requirement after", "requirement_after", REQUIREMENT)):
        figure.add_bar(x=x, y=cents([getattr(row, key) for row in shown]), name=name, marker_color=colour,
                       hovertemplate=f"%{{x}}: %{{y:,.2f}} {ctx.currency}<extra>{name}</extra>")
    fell = [row for row in shown if row.liquidated]
    if fell:
        top = [max(row.collateral_before, row.collateral_after, row.requirement_after, 0.0) for row in fell]
        figure.add_scatter(x=[[row.scenario for row in fell], [row.account for row in fell]], y=cents(top),
                           mode="markers", name="liquidated", marker={"symbol": "x", "size": 13, "color": REQUIRED},
                           hovertext=[state(row) for row in fell], hovertemplate="%{x}: %{hovertext}<extra></extra>")
    figure.update_layout(title="Collateral, P&L and requirement per scenario and account (haircut-adjusted)",
                         barmode="group", margin={"t": 80},
                         legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0})
    figure.update_yaxes(title=ctx.currency)
    note = paragraph(f"The chart shows the first {len(shown):,} of {len(rows):,} account rows.") \
        if len(shown) < len(rows) else ""
    return ctx.chart(figure, 480) + note


@section(StressReport, order=20, compact=True)
def accounts(report: StressReport, ctx: Context) -> Block | None:
    if not report.account_rows:
        return None
    names, scenarios = _accounts(report), _scenarios(report)
    chart, note = _state_map(report, ctx, names, scenarios)
    body = chart + note + _distance(report, ctx, names)
    first = {row.account: row for row in reversed(report.account_rows)}
    each = {(row.account, row.scenario): state(row) for row in report.account_rows}
    grid = [{"account": a, "rule": first[a].rule, "move": first[a].liquidation_move,
             "market": first[a].market_liquidation_move,
             **{f"s{i}": each.get((a, s), "") for i, s in enumerate(scenarios)}} for a in names]
    columns = {"account": ("account", text), "rule": ("rule", text), "move": ("distance: main underlying", percent),
               "market": ("distance: whole market", percent)}
    columns |= {f"s{i}": (s, text) for i, s in enumerate(scenarios)}
    body += "<h3>Distance to liquidation today, beside each scenario</h3>" + table(grid, columns, limit=ctx.rows)
    body += _money_bars(report.account_rows, ctx)
    body += "<h3>Every account in every scenario</h3>" + table(
        [row.model_dump() for row in report.account_rows], {
            "scenario": ("scenario", text), "account": ("account", text), "rule": ("rule", text),
            "collateral_before": (f"collateral today ({ctx.currency})", money),
            "collateral_after": ("collateral after", money), "pnl": ("positions' P&L", money),
            "requirement_after": ("requirement after", money), "required_after": ("required after", money),
            "shortfall": ("shortfall", money), "maintenance_after": ("liquidation line", money),
            "equity_after": ("equity", money), "health": ("health", factor), "threshold": ("threshold", factor),
            "liquidated": ("liquidated", text), "round": ("round", count), "seized": ("sold by the venue", money),
            "liquidation_loss": ("liquidation penalty", money)}, limit=ctx.rows)
    return Block("Accounts in each scenario", body,
                 "Collateral is haircut-adjusted on the account's own basis, requirements re-derived at the "
                 "scenario's prices. An account is liquidated by its venue's rule (health factor, uniMMR, or equity "
                 "below the maintenance line); round 1 is the shock itself, later rounds the cascade of the "
                 "liquidations' sales. Distance to liquidation: the uniform move of the main underlying (or of every "
                 "volatile asset) that leaves only the requirement, today (blank: no positions, or no move reaches "
                 "the line).")


@section(StressReport, order=30)
def cascade(report: StressReport, ctx: Context) -> Block | None:
    rows = report.summary_rows
    if not rows:
        return None
    body = ""
    if any(row.liquidated for row in rows):
        names = [row.scenario for row in rows]
        figure = grouped_bars(names, [
            ("round 1 (the shock)", [row.liquidated - len(row.cascade_accounts) for row in rows], REQUIRED),
            ("round 2 and later (the cascade)", [len(row.cascade_accounts) for row in rows], CASCADE)],
            title="Accounts liquidated per scenario, by round", axis="accounts", hover="%{x:.0f}")
        figure.update_layout(barmode="stack")
        body += ctx.chart(figure, 140 + 34 * len(names))
    else:
        body += paragraph("No account is liquidated in any scenario: there is nothing to cascade.")
    body += _moves(report, ctx)
    records = [m.model_dump() for m in report.move_rows]
    body += "<h3>Price moves and their sources</h3>" + table(records, {
        "scenario": ("scenario", text), "asset": ("asset", text), "move": ("move", percent),
        "after_cascade": ("after the cascade", percent), "source": ("source", text), "ticker": ("series", text),
        "base_date": ("from", text), "end_date": ("to", text), "note": ("note", text)}, limit=ctx.rows)
    about = ("Liquidations sell the seized collateral into the market (square-root impact on each asset's daily "
             "volume); the lower prices can liquidate more accounts, round after round, to a fixed point."
             if report.cascade else "Run without cascades: liquidations do not move prices (round 1 only).")
    return Block("Cascade and price moves", body, about)


def _moves(report: StressReport, ctx: Context) -> str:
    scenarios = list(dict.fromkeys(m.scenario for m in report.move_rows))
    assets = list(dict.fromkeys(m.asset for m in report.move_rows))
    if not scenarios or not assets:
        return ""
    shown = scenarios[:max(1, 4 * ctx.marks // len(assets))]
    move = {(m.asset, m.scenario): m for m in report.move_rows}

    def grid(key: str) -> list[list[float]]:
        return [[100 * getattr(move[(a, s)], key) if (a, s) in move else 0.0 for s in shown] for a in assets]

    panels = [("the shock", grid("move"))]
    if report.cascade:
        panels.append(("after the cascade", grid("after_cascade")))
    figure = heatmaps(panels, assets, shown, title="Price moves per asset and scenario (%)", unit="%",
                      diverging=[True] * len(panels), money=False)
    note = paragraph(f"The grid shows the first {len(shown):,} of {len(scenarios):,} scenarios.") \
        if len(shown) < len(scenarios) else ""
    return ctx.chart(figure, 240 + 30 * len(assets)) + note
