"""Sections of a :class:`StressReport` beyond the scenarios: the Monte Carlo draws (the fitted model, the
distribution of the treasury's loss and of the liquidations per draw, each account's probability of liquidation)
and the data behind it all (the episodes' windows and sources, the impact model's inputs).

Draws are charted as counts in bins, never one mark per draw, so 10,000 draws cost the page a few kB.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import plotly.graph_objects as go

from allocator.analysis.stress.report import StressReport
from allocator.report.charts import REQUIRED, TARGET, WARN, grouped_bars, lay_out, reference_line
from allocator.report.format import count, facts, money, paragraph, percent, quantity, table, text
from allocator.report.registry import Block, Context, section
from allocator.report.stress import CASCADE

BINS = 40  # bars of the loss distribution
WORST = 20  # draws listed in the table


@section(StressReport, order=40, compact=True)
def monte_carlo(report: StressReport, ctx: Context) -> Block | None:
    mc = report.monte_carlo
    if mc is None:
        return None
    series = ", ".join(f"{asset}: {ticker or 'held constant'}" for asset, ticker in mc.series.items())
    body = facts([
        ("draws", f"{mc.draws:,} of one day's moves (seed {mc.seed})"),
        ("model", f"Student-t with {mc.degrees_of_freedom:.2f} degrees of freedom, fitted to {mc.observations:,} "
                  f"days {mc.window_start} .. {mc.window_end}"),
        ("series", series),
        ("liquidations", f"P(any account liquidated) {percent(mc.probability_any_liquidation)}, P(a cascade round) "
                         f"{percent(mc.probability_cascade)}"),
        ("treasury loss", f"mean {mc.mean_total_loss:,.2f}, VaR 95% {mc.var_95:,.2f}, VaR 99% {mc.var_99:,.2f}, "
                          f"expected shortfall 99% {mc.expected_shortfall_99:,.2f} {ctx.currency}")])
    body += _losses(report, ctx) + _liquidations(report, ctx)
    rows = [row.model_dump() for row in report.draw_account_rows]
    if any(row["probability_liquidated"] > 0 for row in rows):
        names = [row["account"] for row in rows]
        figure = grouped_bars(names, [
            ("liquidated", [100 * row["probability_liquidated"] for row in rows], REQUIRED),
            ("in a cascade round", [100 * row["probability_in_cascade"] for row in rows], CASCADE)],
            title="Probability of liquidation per account over the draws", axis="% of draws", hover="%{x:.2f}%")
        body += ctx.chart(figure, 120 + 50 * len(names))
    elif rows:
        body += paragraph(f"No account is liquidated in any of the {mc.draws:,} draws.")
    body += "<h3>Per account over the draws</h3>" + table(rows, {
        "account": ("account", text), "probability_liquidated": ("P(liquidated)", percent),
        "probability_in_cascade": ("P(in a cascade round)", percent),
        "expected_liquidation_loss": (f"expected penalty ({ctx.currency})", money),
        "expected_seized": ("expected sold by the venue", money)}, limit=ctx.rows)
    worst = sorted(report.draw_rows, key=lambda row: (-row.total_loss, row.draw))[:min(WORST, ctx.rows)]
    if worst:
        body += f"<h3>The {len(worst)} worst draws</h3>" + table(
            [{**row.model_dump(), "accounts_liquidated": ", ".join(row.accounts_liquidated)} for row in worst], {
                "draw": ("draw", count), "liquidated": ("liquidated", count),
                "accounts_liquidated": ("accounts", text), "rounds": ("rounds", count),
                "market_loss": (f"market loss ({ctx.currency})", money),
                "liquidation_loss": ("liquidation penalties", money), "cascade_loss": ("added by the cascade", money),
                "total_loss": ("total loss", money)}, total=len(worst))
    return Block("Monte Carlo draws", body, "Each draw is one day's moves of every asset from the fitted model, run "
                                            "through the same revaluation, liquidation rules and cascade as an "
                                            "episode. Every draw is in the JSON report (draws).")


def _losses(report: StressReport, ctx: Context) -> str:
    """The treasury's total loss per draw as a histogram (counts per bin), VaR 95% and 99% marked."""
    if ctx.compact or not report.draw_rows or report.monte_carlo is None:
        return ""
    losses = np.array([row.total_loss for row in report.draw_rows])
    low, high = float(losses.min()), float(losses.max())
    bins = min(BINS, max(ctx.marks, 1))
    counts, edges = np.histogram(losses, bins=bins, range=(low, high) if high > low else (low - 0.5, low + 0.5))
    centres = (edges[:-1] + edges[1:]) / 2
    figure = go.Figure(go.Bar(x=[round(float(c), 2) for c in centres], y=counts.tolist(), marker_color=TARGET,
                              width=float(edges[1] - edges[0]) * 0.95,
                              customdata=[[f"{a:,.2f}", f"{b:,.2f}"] for a, b in zip(edges[:-1], edges[1:],
                                                                                     strict=True)],
                              hovertemplate="%{y} draws lose %{customdata[0]} to %{customdata[1]} "
                                            f"{ctx.currency}<extra></extra>"))
    mc = report.monte_carlo
    reference_line(figure, round(mc.var_95, 2), "VaR 95%")
    figure.add_vline(x=round(mc.var_99, 2), line_dash="dot", line_color=REQUIRED, annotation_text="VaR 99%",
                     annotation_position="top left")
    figure.update_layout(title=f"The treasury's loss over {mc.draws:,} draws (negative: a gain)", showlegend=False,
                         bargap=0)
    figure.update_xaxes(title=ctx.currency)
    figure.update_yaxes(title="draws")
    return ctx.chart(figure, 340)


def _liquidations(report: StressReport, ctx: Context) -> str:
    """How many draws liquidate 0, 1, 2... accounts, split by whether a cascade round liquidated more."""
    if ctx.compact or not any(row.liquidated for row in report.draw_rows):
        return ""  # the per-account table says no account fell in any draw
    plain = Counter(row.liquidated for row in report.draw_rows if not row.cascade_accounts)
    cascaded = Counter(row.liquidated for row in report.draw_rows if row.cascade_accounts)
    numbers = list(range(max(plain | cascaded) + 1))
    figure = go.Figure()
    for name, counts, colour in (("shock only", plain, WARN), ("with a cascade round", cascaded, CASCADE)):
        if counts:
            figure.add_bar(x=numbers, y=[counts.get(n, 0) for n in numbers], name=name, marker_color=colour,
                           hovertemplate="%{y} draws liquidate %{x} accounts<extra>" + name + "</extra>")
    lay_out(figure, "Accounts liquidated per draw", barmode="stack",
            x={"title": "accounts liquidated in the draw", "dtick": 1}, y={"title": "draws"})
    return ctx.chart(figure, 300)


@section(StressReport, order=70)
def data(report: StressReport, ctx: Context) -> Block | None:
    if not report.episodes and not report.liquidity_rows:
        return None
    body = ""
    if report.episodes:
        body += "<h3>Episodes</h3>" + table([e.model_dump() for e in report.episodes], {
            "name": ("episode", text), "start": ("start", text), "end": ("end", text),
            "description": ("what happened", text), "source": ("source", text)}, limit=ctx.rows)
    if report.liquidity_rows:
        body += "<h3>Market impact of liquidation sales</h3>" + table([r.model_dump() for r in report.liquidity_rows], {
            "asset": ("asset", text), "adv": (f"daily volume ({ctx.currency})", money), "adv_source": ("from", text),
            "sigma_daily": ("daily volatility", percent), "sigma_source": ("from", text),
            "impact": ("impact constant", quantity), "impact_source": ("from", text)}, limit=ctx.rows)
    return Block("Episodes and market data", body, "The episodes are reviewed data (models/stress-episodes.toml); "
                                                  "a sale worth v moves its asset's price by -k sigma sqrt(v / "
                                                  "volume) (docs/stress.md).")
