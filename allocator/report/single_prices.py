"""Sections of a single-period :class:`Result` beyond the allocation: shadow prices, risk figures, the diagnosis."""

from __future__ import annotations

import plotly.graph_objects as go

from allocator.report.charts import REQUIRED, REQUIREMENT, TARGET, WARN, distance_to_liquidation, grouped_bars, heatmaps
from allocator.report.format import SIGN_CONVENTION, money, paragraph, percent, rate, table, text
from allocator.report.holdings import MAX_ASSETS as MAX_GRID
from allocator.report.holdings import prices
from allocator.report.registry import Block, Context, section
from allocator.results.result import Result

PER = 1_000_000  # shadow prices are charted as the cost of this much more requirement


@section(Result, order=50)
def shadow_prices(result: Result, ctx: Context) -> Block | None:
    if not result.accounts:
        return None
    per = f"{PER:,} {ctx.currency}"
    names = [a.id for a in result.accounts]
    figure = grouped_bars(names, [(f"cost of {per} more requirement", [a.shadow_price * PER for a in result.accounts],
                                   REQUIRED)], title=f"Shadow price of each requirement (per {per})",
                          axis=f"{ctx.currency} over the horizon")
    body = ctx.chart(figure, 120 + 40 * len(names)) + table(
        [{"account": a.id, "shadow_price": a.shadow_price, "per": a.shadow_price * PER} for a in result.accounts],
        {"account": ("account", text), "shadow_price": (f"shadow price ({ctx.currency} per {ctx.currency})", rate),
         "per": (f"cost of {per} more requirement", money)})
    if result.binding:
        body += "<h3>Binding constraints</h3>" + table(
            [b.model_dump() for b in result.binding],
            {"label": ("constraint", text), "shadow_price": ("shadow price (per unit of tightening)", rate)},
            limit=ctx.rows)
    body += _marginal_values(result, ctx)
    return Block("Shadow prices", body, SIGN_CONVENTION)


def _marginal_values(result: Result, ctx: Context) -> str:
    if not result.marginal_values:
        return ""
    price = prices(result.targets)
    value = {(m.asset, m.location): m.value / price[m.asset] * PER for m in result.marginal_values if m.asset in price}
    if not value:
        return ""
    rows, cut_rows = _largest([a for a, _ in value], value, 0)
    columns, cut_columns = _largest([loc for _, loc in value], value, 1)
    z = [[value.get((a, loc), 0.0) for loc in columns] for a in rows]
    per = f"{PER:,} {ctx.currency}"
    figure = heatmaps([("", z)], rows, columns, title=f"Marginal value of holding {per} more there today",
                      unit=f"{ctx.currency} saved", diverging=[True])
    left = sorted({m.asset for m in result.marginal_values} - set(price))
    note = paragraph(f"left out, no price in the result: {', '.join(left)}") if left else ""
    if cut_rows or cut_columns:
        note += paragraph(f"Shown: the {len(rows)} assets and {len(columns)} locations with the largest marginal "
                          f"values ({cut_rows} assets and {cut_columns} locations more in the JSON result).")
    return ("<h3>Marginal value of holdings</h3>" + paragraph(
        "Cost saved over the horizon if one more unit of the asset were held there today, per "
        f"{per} of its value (positive: holding more there lowers the cost).") + ctx.chart(
        figure, 160 + 28 * len(rows)) + note)


def _largest(names: list[str], value: dict[tuple[str, str], float], axis: int) -> tuple[list[str], int]:
    """The names in first-seen order, or the MAX_GRID with the largest |value|, and how many were left out."""
    ordered = list(dict.fromkeys(names))
    if len(ordered) <= MAX_GRID:
        return ordered, 0
    size = dict.fromkeys(ordered, 0.0)
    for key, v in value.items():
        size[key[axis]] = max(size[key[axis]], abs(v))
    kept = set(sorted(ordered, key=lambda n: -size[n])[:MAX_GRID])
    return [n for n in ordered if n in kept], len(ordered) - len(kept)


def _has_risk(result: Result) -> bool:
    fields = ("sigma", "cvar", "liquidation_move", "worst_scenario_excess", "risk_excess")
    return result.portfolio is not None or any(getattr(a, f) is not None for a in result.accounts for f in fields)


@section(Result, order=60)
def risk(result: Result, ctx: Context) -> Block | None:
    if not _has_risk(result):
        return None
    names = [a.id for a in result.accounts]
    body = ""
    if any(a.liquidation_move is not None for a in result.accounts):
        figure = distance_to_liquidation(
            names, [a.liquidation_move for a in result.accounts], [a.market_liquidation_move for a in result.accounts],
            title="Distance to liquidation: the price move that leaves only the requirement")
        body += ctx.chart(figure, 120 + 60 * len(names))
    cushions = [(label, [getattr(a, key) for a in result.accounts], colour)
                for key, label, colour in (("risk_excess", "after the parametric limit (z x sigma)", TARGET),
                                           ("worst_scenario_excess", "after the worst stress scenario", REQUIREMENT))
                if any(getattr(a, key) is not None for a in result.accounts)]
    if cushions:
        body += ctx.chart(grouped_bars(names, cushions, title="Collateral left over the requirement under risk",
                                       axis=ctx.currency), 120 + 60 * len(names))
    body += table([a.model_dump() for a in result.accounts], {
        "id": ("account", text), "sigma": ("sigma", money), "risk_excess": ("risk excess", money),
        "cvar": ("CVaR", money), "worst_scenario": ("worst scenario", text),
        "worst_scenario_excess": ("excess after it", money), "main_underlying": ("main underlying", text),
        "liquidation_move": ("liquidation move", percent),
        "market_liquidation_move": ("market liquidation move", percent)})
    if result.portfolio is not None:
        p = result.portfolio
        body += "<h3>Treasury-wide limit</h3>" + table([p.model_dump()], {
            "requirement": ("requirement", money), "pnl": ("positions' P&L", money),
            "collateral": ("collateral", money), "sigma": ("sigma", money), "risk_excess": ("risk excess", money),
            "worst_scenario": ("worst scenario", text), "worst_scenario_excess": ("excess after it", money)})
    return Block("Risk", body, f"Amounts in {ctx.currency}. sigma: standard deviation of the account's equity over "
                               "its risk horizon; risk excess: collateral - z x sigma - requirement net of P&L; "
                               "liquidation move: the uniform price move at which collateral plus positions falls "
                               "to the requirement (docs/risk.md).")


@section(Result, order=5, compact=True)
def diagnosis(result: Result, ctx: Context) -> Block | None:
    if result.status != "infeasible":
        return None
    rows = [s.model_dump() for s in result.shortfalls]
    labels = [s.account if s.constraint == "coverage" else s.constraint for s in result.shortfalls]
    figure = go.Figure(go.Bar(y=labels, x=[round(s.amount, 2) for s in result.shortfalls], orientation="h",
                              marker_color=[REQUIRED if s.constraint == "coverage" else WARN
                                            for s in result.shortfalls],
                              hovertemplate="%{y}: %{x:,.2f} " + ctx.currency + "<extra></extra>"))
    figure.update_layout(title="Least shortfall any allocation leaves")
    figure.update_xaxes(title=ctx.currency)
    figure.update_yaxes(autorange="reversed")
    body = ctx.chart(figure, 120 + 50 * len(labels)) + table(rows, {
        "account": ("account", text), "constraint": ("constraint", text),
        "amount": (f"short or exceeded by ({ctx.currency})", money)})
    return Block("Why no allocation exists", body, "The elastic program's answer: the least total shortfall over "
                                                  "all allocations, per account, and the limits it had to exceed.")
