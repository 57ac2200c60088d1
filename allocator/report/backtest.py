"""Sections of a :class:`BacktestResult` (``allocator backtest``, docs/backtest.md): the outcome, the summary (one
row per policy), and what each policy cost: the total by part and the cumulative cost over time, liquidations
marked. Coverage over time, liquidations and warning-zone days are in ``backtest_coverage.py``.

Long runs are thinned to the chart's budget of points (``backtest_series``); the tables and the saved frames keep
every day.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from allocator.analysis.backtest.result import BacktestResult
from allocator.report.backtest_series import (
    PARTS,
    cumulative_costs,
    policies,
    recorded_parts,
    thin_at,
    thin_step,
)
from allocator.report.charts import REQUIRED, TEMPLATE, WARN, cents, lay_out
from allocator.report.format import count, factor, facts, money, paragraph, table, text
from allocator.report.registry import Block, Context, section

COLOURS: list[str] = list(TEMPLATE["layout"]["colorway"])  # type: ignore[call-overload]

#: One colour per cost part, the same in every backtest chart.
PART_COLOURS = {"carry_forgone": "#8250df", "transfer_cost": "#1f6feb", "trading_cost": WARN,
                "liquidation_loss": REQUIRED, "exchange_pnl": "#bf8700"}


def policy_colour(index: int) -> str:
    """The policy's colour in every backtest chart (the report's colorway, in the summary's order)."""
    return COLOURS[index % len(COLOURS)]


def _names(result: BacktestResult) -> list[str]:
    return policies(result.daily, result.treasury, result.summary)


def _rows(result: BacktestResult) -> list[dict]:
    return [{str(k): v for k, v in row.items()} for row in result.summary.to_dict(orient="records")]


@section(BacktestResult, order=0, compact=True)
def headline(result: BacktestResult, ctx: Context) -> Block:
    meta, rows = result.meta, _rows(result)
    pairs = [("window", f"{meta.get('start')} to {meta.get('end')} ({count(meta.get('days'))} days)"),
             ("policies", ", ".join(_names(result)))]
    if rows:
        cheapest = min(rows, key=lambda r: r["total_cost"])
        safest = min(rows, key=lambda r: r["liquidations"])
        pairs.append(("lowest total cost", f"{cheapest['policy']}: {money(cheapest['total_cost'])} {ctx.currency}"))
        pairs.append(("fewest liquidations", ", ".join(str(r["policy"]) for r in rows
                                                       if r["liquidations"] == safest["liquidations"])
                      + f": {count(safest['liquidations'])}"))
    liquidated = sum(int(r["liquidations"]) for r in rows)
    warned = sum(int(r["warning_days"]) for r in rows)
    kind = "bad" if liquidated else ("warn" if warned else "good")
    notes = "".join(paragraph(f"note: {note}") for note in result.notes)
    return Block("Outcome", f'<div class="outcome {kind}">{facts(pairs)}</div>{notes}')


SUMMARY_COLUMNS = {
    "policy": ("policy", text), "total_cost": ("total cost", money), "carry_forgone": ("carry forgone", money),
    "carry_exchanged": ("of which exchanged", money), "transfer_cost": ("transfer", money),
    "trading_cost": ("trading", money), "liquidation_loss": ("liquidation loss", money),
    "exchange_pnl": ("exchange P&L", money), "liquidations": ("liquidations", count),
    "min_coverage": ("min coverage", factor), "p1_coverage": ("p1 coverage", factor),
    "warning_days": ("warning days", count), "moves": ("moves", count), "turnover": ("turnover", factor)}


@section(BacktestResult, order=10, compact=True)
def summary(result: BacktestResult, ctx: Context) -> Block | None:
    rows = _rows(result)
    if not rows:
        return None
    absent = set(PARTS) - set(recorded_parts(result.summary))  # a result saved before a part existed
    columns = {key: (f"{title} ({ctx.currency})" if fmt is money and ctx.currency else title, fmt)
               for key, (title, fmt) in SUMMARY_COLUMNS.items() if key not in absent}
    return Block("Summary", table(rows, columns) + _unrecorded(result.summary), "One row per policy, over the "
                 "whole window. Costs are money the desk gave up, paid or lost against its first day's inventory "
                 "held free (exchange P&L: what the assets it sold gained less what those it bought gained); "
                 "coverage is collateral (with the "
                 "positions' P&L) over the requirement at the worst of the day's low, high and close (min: the "
                 "lowest account-day; p1: the 1st percentile); warning days are account-days that closed in the "
                 "rule's warning zone.")


@section(BacktestResult, order=20)
def costs(result: BacktestResult, ctx: Context) -> Block | None:
    rows = _rows(result)
    if not rows or result.treasury.empty:
        return None
    names = [str(r["policy"]) for r in rows]
    totals = go.Figure()
    for part, label in recorded_parts(result.summary).items():
        totals.add_bar(y=names, x=cents([r[part] for r in rows]), name=label, orientation="h",
                       marker_color=PART_COLOURS[part],
                       hovertemplate=f"%{{y}}: %{{x:,.2f}} {ctx.currency}<extra>{label}</extra>")
    totals.add_scatter(y=names, x=cents([r["total_cost"] for r in rows]), mode="markers", name="total",
                       marker={"symbol": "line-ns-open", "size": 18, "color": "#1f2328"},
                       hovertemplate=f"%{{y}}: total %{{x:,.2f}} {ctx.currency}<extra></extra>")
    totals.update_layout(title="Total cost per policy, by part (negative: income or gain)", barmode="relative",
                         legend={"orientation": "h", "y": -0.15})
    totals.update_xaxes(title=f"{ctx.currency} over the window")
    totals.update_yaxes(autorange="reversed")
    days = int(result.treasury.groupby("policy").size().max())
    step = thin_step(days, ctx.marks)
    body = ctx.chart(totals, 140 + 34 * len(names)) + ctx.chart(_cumulative(result, names, step, ctx), 420)
    body += ctx.chart(_by_part(result, names, step, ctx), 190 + 170 * ((len(names) + 1) // 2))
    body += _unrecorded(result.treasury)
    if step > 1:
        body += paragraph(f"The charts over time show every {step}th day ({days:,} days in the run) and the last "
                          "day; the values are exact on the days shown.")
    return Block("Cost over time", body, "Cumulative cost from the first day: carry forgone (the income given up by "
                                         "posting collateral and by the assets sold in trades and liquidations), "
                                         "transfers, trades, liquidations (penalty and restore cost), and the "
                                         "exchange P&L (what the assets sold gained less what those bought "
                                         "gained); together, what the desk has less than its first day's inventory "
                                         "held free. Each ✕ is a day with a liquidation.")


def _unrecorded(frame: pd.DataFrame) -> str:
    """A note naming the cost parts ``frame`` lacks (a result saved before they existed): left out, not shown as
    zero."""
    recorded = recorded_parts(frame)
    labels = ", ".join(label for part, label in PARTS.items() if part not in recorded)
    if not labels:
        return ""
    return paragraph(f"Not recorded in this result (it was saved before they existed): {labels}. They are left out "
                     "of the table and the charts, not counted as zero; its total cost is the one it recorded.")


def _cumulative(result: BacktestResult, names: Sequence[str], step: int, ctx: Context) -> go.Figure:
    figure = go.Figure()
    liquidated = result.daily[result.daily["liquidated"].astype(bool)]
    for i, name in enumerate(names):
        frame = cumulative_costs(result.treasury, name)
        if not len(frame):
            continue
        line = thin_at(frame["total"], step)
        figure.add_scatter(x0=line.x0, dx=line.dx, y=line.values, mode="lines", name=name, legendgroup=name,
                           line={"color": policy_colour(i)},
                           hovertemplate=f"{name}, %{{x|%Y-%m-%d}}: %{{y:,.2f}} {ctx.currency}<extra></extra>")
        days = liquidated[liquidated["policy"] == name].groupby("date")["account"].agg(", ".join)
        if len(days):
            figure.add_scatter(x=[str(d) for d in days.index], y=cents(frame.loc[days.index.astype(str), "total"]),
                               mode="markers", name=f"{name}: liquidations", legendgroup=name, showlegend=False,
                               hovertext=[f"liquidated: {accounts}" for accounts in days],
                               marker={"symbol": "x", "size": 10, "color": REQUIRED},
                               hovertemplate=f"{name}, %{{x|%Y-%m-%d}}: %{{hovertext}}<extra></extra>")
    return lay_out(figure, "Cumulative cost per policy (✕: liquidations)", x={"type": "date"},
                   y={"title": f"{ctx.currency} since the first day"})


def _by_part(result: BacktestResult, names: Sequence[str], step: int, ctx: Context) -> go.Figure:
    from plotly.subplots import make_subplots

    columns = 2 if len(names) > 1 else 1
    rows = (len(names) + columns - 1) // columns
    figure = make_subplots(rows=rows, cols=columns, subplot_titles=list(names), shared_xaxes=True,
                           shared_yaxes=True, vertical_spacing=min(0.12, 0.5 / rows), horizontal_spacing=0.04)
    for i, name in enumerate(names):
        frame = cumulative_costs(result.treasury, name)
        for part, label in recorded_parts(result.treasury).items():
            line = thin_at(frame[part], step) if len(frame) else None
            if line is None:
                continue
            figure.add_scatter(x0=line.x0, dx=line.dx, y=line.values, mode="lines", stackgroup=f"p{i}",
                               name=label, legendgroup=part, showlegend=i == 0,
                               line={"color": PART_COLOURS[part], "width": 1},
                               hovertemplate=f"{name}, %{{x|%Y-%m-%d}}: {label} %{{y:,.2f}} {ctx.currency}"
                                             "<extra></extra>", row=i // columns + 1, col=i % columns + 1)
    figure.update_layout(title="Cumulative cost by part, one panel per policy", margin={"t": 80},
                         legend={"orientation": "h", "y": -0.12})
    figure.update_xaxes(type="date")
    return figure

