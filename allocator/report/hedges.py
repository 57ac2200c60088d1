"""The hedges section of a single-period :class:`Result` (docs/hedging.md): the recommended hedge trades, the
delta before and after per account and for the treasury (with the bands), and what the hedges saved against the
unhedged optimum when ``allocator.analysis.hedging.hedge_savings`` (``allocator hedges``) computed it.
"""

from __future__ import annotations

import plotly.graph_objects as go

from allocator.report.charts import REQUIRED, TARGET, TODAY, WARN, cents, grouped_bars
from allocator.report.format import facts, money, paragraph, quantity, table, text
from allocator.report.registry import Block, Context, section
from allocator.results.result import Result

LONG, SHORT = "#1a7f37", REQUIRED


def _saving(result: Result, ctx: Context) -> tuple[list[tuple[str, str]], str]:
    """The saving as a headline figure and, when known, a chart of the cost without and with the hedges."""
    if result.hedge_saving is None or result.objective is None:
        return [("saving", "not computed here (allocator hedges PROBLEM also solves it without the hedges)")], ""
    hedged = result.objective.total
    unhedged = hedged + result.hedge_saving
    figure = go.Figure(go.Bar(x=["without the hedges", "with the hedges"], y=cents([unhedged, hedged]),
                              marker_color=[TODAY, TARGET], text=[f"{unhedged:,.2f}", f"{hedged:,.2f}"],
                              textposition="outside",
                              hovertemplate=f"%{{x}}: %{{y:,.2f}} {ctx.currency} over the horizon<extra></extra>"))
    figure.update_layout(title=f"Capital cost without and with the hedges: {result.hedge_saving:,.2f} "
                               f"{ctx.currency} saved", showlegend=False)
    figure.update_yaxes(title=f"{ctx.currency} over the horizon")
    return [("saving", f"{result.hedge_saving:,.2f} {ctx.currency} against the unhedged optimum (which costs "
                       f"{unhedged:,.2f})")], ctx.chart(figure, 320)


@section(Result, order=35, compact=True)
def hedges(result: Result, ctx: Context) -> Block | None:
    if not (result.hedges or result.deltas or result.hedge_saving is not None):
        return None
    trades = result.hedges
    pairs = [("trades", f"{len(trades)}, {sum(abs(h.notional) for h in trades):,.2f} {ctx.currency} of notional"
                        if trades else "none: no hedge pays")]
    if trades:
        pairs += [("funding", f"{sum(h.funding for h in trades):,.2f} {ctx.currency} over the horizon (negative: "
                              "received)"),
                  ("fees", f"{sum(h.fee for h in trades):,.2f} {ctx.currency}"),
                  ("margin", f"{sum(h.margin for h in trades):,.2f} {ctx.currency} added to the requirements")]
    saved, chart = _saving(result, ctx)
    body = facts(pairs + saved) + chart
    if trades:
        names = [f"{h.account}: {h.instrument}" for h in trades]
        figure = go.Figure(go.Bar(y=names, x=cents([h.notional for h in trades]), orientation="h",
                                  marker_color=[LONG if h.notional > 0 else SHORT for h in trades],
                                  customdata=[[f"{h.quantity:.6g}", h.underlying] for h in trades],
                                  hovertemplate="%{y}: %{x:,.2f} " + ctx.currency + " (%{customdata[0]} "
                                                "%{customdata[1]})<extra></extra>"))
        figure.update_layout(title="Hedge trades: notional (green long, red short)")
        figure.update_xaxes(title=ctx.currency)
        figure.update_yaxes(autorange="reversed")
        body += ctx.chart(figure, 120 + 50 * len(names)) + table([h.model_dump() for h in trades], {
            "account": ("account", text), "instrument": ("instrument", text), "underlying": ("underlying", text),
            "quantity": ("quantity (signed)", quantity), "notional": (f"notional ({ctx.currency})", money),
            "funding": ("funding", money), "fee": ("fee", money), "margin": ("margin", money)}, limit=ctx.rows)
    body += _deltas(result, ctx)
    return Block("Hedges", body, "Perps and futures chosen together with the allocation: a hedge's funding and fee "
                                 "are part of the cost, its margin of its account's requirement, and its P&L of "
                                 "every risk limit. A hedge is opened before any transfer (docs/hedging.md).")


def _deltas(result: Result, ctx: Context) -> str:
    if not result.deltas:
        return ""
    names = [f"{d.owner}: {d.underlying}" for d in result.deltas]
    figure = grouped_bars(names, [("before (today, no hedge)", [d.before for d in result.deltas], TODAY),
                                  ("after (targets and hedges)", [d.after for d in result.deltas], TARGET)],
                          title="Delta before and after, per account and for the treasury", axis=f"{ctx.currency} "
                          "per unit return")
    banded = [(name, d.limit) for name, d in zip(names, result.deltas, strict=True) if d.limit is not None]
    if banded:
        for sign in (1, -1):
            figure.add_scatter(y=[n for n, _ in banded], x=cents([sign * limit for _, limit in banded]),
                               mode="markers", name="band" if sign > 0 else "band (short side)",
                               showlegend=sign > 0, legendgroup="band",
                               marker={"symbol": "line-ns-open", "size": 22, "color": WARN, "line": {"width": 3}},
                               hovertemplate="%{y}: band %{x:,.2f}<extra></extra>")
    rows = [{**d.model_dump(), "change": d.after - d.before} for d in result.deltas]
    return ("<h3>Delta before and after</h3>" + ctx.chart(figure, 140 + 60 * len(names)) + table(rows, {
        "owner": ("account", text), "underlying": ("underlying", text),
        "before": (f"before ({ctx.currency} per unit return)", money), "after": ("after", money),
        "change": ("change", money), "limit": ("band (max |delta|)", money)}) + (
        "" if banded else paragraph("No delta band: the hedges are sized by cost and the risk limits alone.")))
