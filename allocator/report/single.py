"""Sections of a single-period :class:`Result`: the headline, accounts, holdings before and after, costs, plan.

Shadow prices, risk figures and the infeasibility diagnosis are in ``single_prices.py``.
"""

from __future__ import annotations

import plotly.graph_objects as go

from allocator.report.charts import (
    REQUIRED,
    REQUIREMENT,
    TARGET,
    TODAY,
    grouped_bars,
    heatmaps,
    lay_out,
    reference_line,
)
from allocator.report.charts import waterfall as waterfall_chart
from allocator.report.format import facts, money, paragraph, percent, quantity, rate, table, text
from allocator.report.holdings import grid
from allocator.report.registry import Block, Context, section
from allocator.results.result import Result


@section(Result, order=0, compact=True)
def headline(result: Result, ctx: Context) -> Block:
    notes = "".join(paragraph(note) for note in result.diagnostics.notes)
    kind = "bad" if result.status == "infeasible" else ("warn" if not result.plan_safe else "good")
    return Block("Outcome", f'<div class="outcome {kind}">{facts(result.headline())}</div>{notes}')


@section(Result, order=10, compact=True)
def accounts(result: Result, ctx: Context) -> Block | None:
    if not result.accounts:
        return None
    names = [a.id for a in result.accounts]
    height = 120 + 60 * len(names)
    bars = grouped_bars(names, [("requirement", [a.requirement for a in result.accounts], REQUIREMENT),
                                ("required (with buffer, net of P&L)", [a.required for a in result.accounts],
                                 REQUIRED),
                                ("collateral today", [a.initial_collateral for a in result.accounts], TODAY),
                                ("collateral at the target", [a.collateral for a in result.accounts], TARGET)],
                        title="Requirement and haircut-adjusted collateral", axis=ctx.currency)
    coverage = go.Figure()
    for name, values, colour in (("today", [a.initial_collateral for a in result.accounts], TODAY),
                                 ("at the target", [a.collateral for a in result.accounts], TARGET)):
        ratios = [round(100 * v / a.required, 2) if a.required > 0 else None
                  for v, a in zip(values, result.accounts, strict=True)]
        coverage.add_bar(y=names, x=ratios, name=name, orientation="h", marker_color=colour,
                         hovertemplate="%{y}: %{x:.1f}% of required<extra>" + name + "</extra>")
    reference_line(coverage, 100, "100% of required")
    coverage.update_layout(title="Coverage: collateral / required", barmode="group",
                           legend={"orientation": "h", "y": -0.15})
    coverage.update_xaxes(title="% of required", rangemode="tozero")
    coverage.update_yaxes(autorange="reversed")
    rows = [{**a.model_dump(), "coverage": a.collateral / a.required if a.required > 0 else None}
            for a in result.accounts]
    columns = {"id": ("account", text), "requirement": ("requirement", money), "pnl": ("positions' P&L", money),
               "required": ("required", money), "initial_collateral": ("collateral today", money),
               "collateral": ("collateral at the target", money), "excess": ("excess", money),
               "coverage": ("coverage", percent)}
    if any(a.hedge_margin for a in result.accounts):
        columns["hedge_margin"] = ("of which hedges' margin", money)
    if any(a.margin_mode != "cross" or a.parent for a in result.accounts):
        columns |= {"margin_mode": ("margin mode", text), "parent": ("sub-account of", text)}
    body = ctx.chart(bars, height) + ctx.chart(coverage, height) + table(rows, columns)
    return Block("Accounts", body, f"Amounts in {ctx.currency}. Collateral is haircut-adjusted; required = "
                                   "requirement x (1 + buffer), net of the positions' P&L. Coverage = collateral / "
                                   "required (an account without a requirement has none).")


@section(Result, order=20)
def holdings(result: Result, ctx: Context) -> Block | None:
    if not result.targets:
        return None
    cells = grid(result.targets)
    figure = heatmaps([("today", cells.before), ("at the target", cells.after), ("change", cells.change())],
                      cells.assets, cells.locations, title=f"Value held, asset by location ({ctx.currency})",
                      unit=ctx.currency, diverging=[False, False, True])
    notes = "".join(paragraph(note) for note in cells.notes)
    rows = [t.model_dump() for t in result.targets]
    body = ctx.chart(figure, 160 + 28 * len(cells.assets)) + notes + table(rows, {
        "asset": ("asset", text), "location": ("location", text), "initial_quantity": ("quantity today", quantity),
        "quantity": ("target quantity", quantity), "value": (f"target value ({ctx.currency})", money)},
        limit=ctx.rows)
    return Block("Holdings before and after", body, "Value of every holding at today's prices, where it sits today "
                                                   "and at the optimal target; the change is target minus today.")


@section(Result, order=30)
def costs(result: Result, ctx: Context) -> Block | None:
    if result.objective is None:
        return None
    o = result.objective
    parts = [("carry", o.carry), ("transfers", o.transfer)]
    rows = [{"part": "carry", "amount": o.carry, "what": "income forgone on the holdings (negative: earned)"},
            {"part": "transfers", "amount": o.transfer, "what": "route costs of the moves"}]
    if o.hedging or result.hedges:  # total = carry + transfers + hedging (docs/hedging.md)
        parts.append(("hedging", o.hedging))
        rows.append({"part": "hedging", "amount": o.hedging, "what": "the hedges' funding and fees (negative: "
                                                                     "funding received)"})
    rows.append({"part": "total", "amount": o.total, "what": "what the allocation costs the desk"})
    figure = waterfall_chart(parts, o.total, title="Capital cost over the horizon", currency=ctx.currency)
    return Block("Cost", ctx.chart(figure, 340) + table(rows, {"part": ("part", text), "amount": (
        f"amount ({ctx.currency})", money), "what": ("meaning", text)}))


@section(Result, order=40)
def plan(result: Result, ctx: Context) -> Block | None:
    if not result.plan:
        return None if result.status == "infeasible" else Block("Plan", paragraph(
            "Nothing to move." if result.planned else "The plan was not computed (plan=False)."))
    steps, charted = result.plan, result.plan[:ctx.marks]
    figure = go.Figure()
    for asset in dict.fromkeys(s.asset for s in charted):
        mine = [s for s in charted if s.asset == asset]
        figure.add_bar(x=[s.step for s in mine], y=[round(s.value, 2) for s in mine], name=asset,
                       customdata=[[s.from_, s.to, f"{s.quantity:.6g}", f"{s.cost:,.2f}",
                                    "needs temporary funding" if s.needs_funding else "safe"] for s in mine],
                       hovertemplate="step %{x}: %{customdata[2]} " + asset + " %{customdata[0]} → "
                                     "%{customdata[1]}<br>value %{y:,.2f}, cost %{customdata[3]} (%{customdata[4]})"
                                     "<extra></extra>")
    flagged = [s for s in charted if s.needs_funding]
    if flagged:
        figure.add_scatter(x=[s.step for s in flagged], y=[round(s.value, 2) for s in flagged], mode="markers",
                           name="needs temporary funding", marker={"symbol": "x", "size": 12, "color": REQUIRED},
                           hovertemplate="step %{x} needs temporary funding<extra></extra>")
    lay_out(figure, "Transfers in the order they are made", barmode="stack",
            x={"title": "step", "dtick": 1 if len(steps) <= 40 else None}, y={"title": f"value moved ({ctx.currency})"})
    body = ctx.chart(figure, 360)
    if len(steps) > len(charted):
        body += paragraph(f"The chart shows the first {len(charted):,} of {len(steps):,} steps.")
    body += table([s.model_dump(by_alias=True) for s in steps], {
        "step": ("step", text), "asset": ("asset", text), "from": ("from", text), "to": ("to", text),
        "quantity": ("quantity", quantity), "value": (f"value ({ctx.currency})", money),
        "cost": (f"cost ({ctx.currency})", money), "needs_funding": ("needs funding", text)}, limit=ctx.rows)
    if result.funding:
        body += "<h3>Temporary funding</h3>" + table([f.model_dump() for f in result.funding], {
            "step": ("before step", text), "account": ("account", text),
            "amount": (f"amount ({ctx.currency})", money)})
    about = ("Each transfer keeps every account at or above min(collateral today, required) when made in this "
             "order." if result.plan_safe else "No order keeps every account at its floor: the flagged steps need "
             "the temporary funding listed below.")
    return Block("Plan", body, about)


@section(Result, order=90)
def diagnostics(result: Result, ctx: Context) -> Block:
    d = result.diagnostics
    rows = [{"figure": "solver", "value": d.solver + (f" (after {d.fallback_from} failed)" if d.fallback_from
                                                       else "")},
            {"figure": "status", "value": d.status}, {"figure": "phases", "value": ", ".join(d.phases)},
            {"figure": "compile", "value": f"{d.compile_seconds:.3f} s"},
            {"figure": "solve", "value": f"{d.solve_seconds:.3f} s"},
            {"figure": "total", "value": f"{d.total_seconds:.3f} s"},
            {"figure": "money scale", "value": rate(d.money_scale)}]
    return Block("Solver", table(rows, {"figure": ("", text), "value": ("", text)}, header=False))
