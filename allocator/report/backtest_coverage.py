"""Sections of a :class:`BacktestResult` about safety: the lowest coverage over time per policy (and per account),
liquidations marked, every liquidation, and the days that closed in a rule's warning zone; then the run itself
(policies, settings, notes).
"""

from __future__ import annotations

import plotly.graph_objects as go

from allocator.analysis.backtest.result import BacktestResult
from allocator.report.backtest import _names, policy_colour
from allocator.report.backtest_series import (
    liquidations,
    lowest_coverage,
    thin_lowest,
    thin_step,
    warning_days,
)
from allocator.report.charts import REQUIRED, grouped_bars, lay_out, reference_line
from allocator.report.format import count, factor, money, paragraph, table, text
from allocator.report.registry import Block, Context, section

MAX_ACCOUNT_PANELS = 12  # accounts charted one panel each; beyond, the table and the lowest-coverage chart


def _percent(values: list[float | None]) -> list[float | None]:
    return [None if v is None else round(100 * v, 2) for v in values]


@section(BacktestResult, order=30)
def coverage(result: BacktestResult, ctx: Context) -> Block | None:
    daily = result.daily
    if daily.empty or not daily["requirement"].gt(0).any():
        return None
    names = _names(result)
    days = int(daily.groupby("policy")["date"].nunique().max())
    step = thin_step(days, ctx.marks)
    lowest = go.Figure()
    fallen = daily[daily["liquidated"].astype(bool)]
    for i, name in enumerate(names):
        series = lowest_coverage(daily, name)
        if not series.notna().any():
            continue
        line = thin_lowest(series, step)
        lowest.add_scatter(x0=line.x0, dx=line.dx, y=_percent(line.values), mode="lines", name=name,
                           legendgroup=name, line={"color": policy_colour(i)}, connectgaps=False,
                           hovertemplate=f"{name}, %{{x|%Y-%m-%d}}: lowest %{{y:.2f}}%<extra></extra>")
        mine = fallen[fallen["policy"] == name].groupby("date")["account"].agg(", ".join)
        if len(mine):
            lowest.add_scatter(x=[str(d) for d in mine.index], y=_percent([series.get(str(d)) for d in mine.index]),
                               mode="markers", name=f"{name}: liquidations", legendgroup=name, showlegend=False,
                               hovertext=[f"liquidated: {accounts}" for accounts in mine],
                               marker={"symbol": "x", "size": 10, "color": REQUIRED},
                               hovertemplate=f"{name}, %{{x|%Y-%m-%d}}: %{{hovertext}}<extra></extra>")
    reference_line(lowest, 100, "collateral = requirement", horizontal=True)
    lay_out(lowest, "Lowest coverage across accounts, per day (✕: liquidations)", x={"type": "date"},
            y={"title": "% of the requirement"})
    body = ctx.chart(lowest, 420)
    accounts = [str(a) for a in dict.fromkeys(daily.loc[daily["requirement"] > 0, "account"])]
    if len(accounts) <= MAX_ACCOUNT_PANELS:
        body += ctx.chart(_per_account(result, names, accounts, step, ctx), 190 + 170 * ((len(accounts) + 1) // 2))
    else:
        body += paragraph(f"{len(accounts)} accounts: too many to chart one by one; the chart above holds the "
                          "lowest of them each day.")
    if step > 1:
        body += paragraph(f"Each point is the lowest of {step} days ({days:,} days in the run).")
    return Block("Coverage over time", body, "Coverage: collateral (with the positions' P&L) over the requirement "
                                            "at the worst of the day's low, high and close (on the first day, at "
                                            "the close). Below 100% the venue's rule may liquidate the account.")


def _per_account(result: BacktestResult, names: list[str], accounts: list[str], step: int,
                 ctx: Context) -> go.Figure:
    from plotly.subplots import make_subplots

    columns = 2 if len(accounts) > 1 else 1
    rows = (len(accounts) + columns - 1) // columns
    figure = make_subplots(rows=rows, cols=columns, subplot_titles=accounts, shared_xaxes=True,
                           vertical_spacing=min(0.12, 0.5 / rows), horizontal_spacing=0.06)
    for j, account in enumerate(accounts):
        for i, name in enumerate(names):
            series = lowest_coverage(result.daily, name, account)
            if not series.notna().any():
                continue
            line = thin_lowest(series, step)
            figure.add_scatter(x0=line.x0, dx=line.dx, y=_percent(line.values), mode="lines", name=name,
                               legendgroup=name, showlegend=j == 0, line={"color": policy_colour(i), "width": 1.5},
                               hovertemplate=f"{account}, {name}, %{{x|%Y-%m-%d}}: %{{y:.2f}}%<extra></extra>",
                               row=j // columns + 1, col=j % columns + 1)
    figure.add_hline(y=100, line_dash="dash", line_color=REQUIRED, line_width=1)
    figure.update_layout(title="Coverage per account (% of its requirement)", margin={"t": 80},
                         legend={"orientation": "h", "y": -0.12})
    figure.update_xaxes(type="date")
    return figure


@section(BacktestResult, order=40, compact=True)
def liquidated(result: BacktestResult, ctx: Context) -> Block | None:
    rows = liquidations(result.daily)
    if not len(rows):
        return None
    money_ = f" ({ctx.currency})" if ctx.currency else ""
    body = table(rows.to_dict(orient="records"), {
        "date": ("date", text), "policy": ("policy", text), "account": ("account", text),
        "liquidation_row": ("at the day's", text), "worst_coverage": ("worst coverage", factor),
        "seized": (f"seized{money_}", money), "liquidation_loss": (f"penalty and restore{money_}", money),
        "deficit": (f"deficit{money_}", money)}, limit=ctx.rows)
    return Block("Liquidations", body, "Each account-day the venue liquidated: at the day's low, high or close, "
                                       "what it seized, the penalty plus the cost of restoring the account "
                                       "(liquidation loss), and any loss beyond the account's collateral (deficit).")


@section(BacktestResult, order=50, compact=True)
def warnings(result: BacktestResult, ctx: Context) -> Block | None:
    frame = warning_days(result.daily)
    if not len(frame):
        return None
    names = _names(result)
    accounts = [str(a) for a in dict.fromkeys(frame["account"])]
    counts = {(str(p), str(a)): int(n) for p, a, n in frame[["policy", "account", "days"]].itertuples(index=False)}
    body = ""
    if not ctx.compact:
        series = [(name, [float(counts.get((name, a), 0)) or None for a in accounts], policy_colour(i))
                  for i, name in enumerate(names) if any((name, a) in counts for a in accounts)]
        figure = grouped_bars(accounts, series, title="Days closed in the warning zone, per account and policy",
                              axis="days", hover="%{x:,.0f} days")
        body += ctx.chart(figure, 140 + 22 * len(accounts) * max(len(series), 1))
    body += table(frame.to_dict(orient="records"), {
        "policy": ("policy", text), "account": ("account", text), "days": ("days", count),
        "first": ("first", text), "last": ("last", text)}, limit=ctx.rows)
    return Block("Warning-zone days", body, "Account-days whose rule ratio closed in the warning zone without a "
                                            "liquidation (docs/backtest.md section 5): the days a desk would have "
                                            "been called.")


@section(BacktestResult, order=90)
def run(result: BacktestResult, ctx: Context) -> Block:
    meta = result.meta
    described = [{"name": p.get("name"), "kind": p.get("kind"),
                  "parameters": ", ".join(f"{k}={v}" for k, v in p.items() if k not in ("name", "kind"))}
                 for p in meta.get("policies", [])]
    body = table(described, {"name": ("policy", text), "kind": ("kind", text), "parameters": ("parameters", text)})
    settings = meta.get("settings") or {}
    if settings:
        body += "<h3>Settings</h3>" + table([{"setting": k, "value": v} for k, v in settings.items()],
                                            {"setting": ("", text), "value": ("", text)}, header=False)
    return Block("The run", body, f"{meta.get('start')} to {meta.get('end')}, {count(meta.get('days'))} days, "
                                  f"in {ctx.currency or 'the problem currency'}.")
