"""Sections of a :class:`TransitionResult`: headline, holdings, costs, the schedule as a timeline, coverage in time."""

from __future__ import annotations

from collections import defaultdict

import plotly.graph_objects as go

from allocator.report.charts import TARGET, TODAY, grouped_bars, heatmaps, lay_out, reference_line, waterfall
from allocator.report.format import facts, hours, money, paragraph, percent, quantity, rate, table, text
from allocator.report.holdings import grid
from allocator.report.registry import Block, Context, section
from allocator.transition._result import TransitionResult, TransitionStep


@section(TransitionResult, order=0, compact=True)
def headline(result: TransitionResult, ctx: Context) -> Block:
    notes = "".join(paragraph(note) for note in result.diagnostics.notes)
    kind = "good" if result.status == "optimal" else "warn"
    return Block("Outcome", f'<div class="outcome {kind}">{facts(result.headline())}</div>{notes}')


@section(TransitionResult, order=20)
def holdings(result: TransitionResult, ctx: Context) -> Block | None:
    if not result.targets:
        return None
    hints: dict[str, float] = {}
    for step in result.steps:  # today's prices, for an asset the transition sells out of entirely
        if step.quantity > 0:
            hints.setdefault(step.asset, step.value / step.quantity)
        if step.asset_to and step.quantity_to and step.value_to is not None:
            hints.setdefault(step.asset_to, step.value_to / step.quantity_to)
    cells = grid(result.targets, hints)
    figure = heatmaps([("today", cells.before), ("at the end", cells.after), ("change", cells.change())],
                      cells.assets, cells.locations, title=f"Value held, asset by location ({ctx.currency})",
                      unit=ctx.currency, diverging=[False, False, True])
    body = ctx.chart(figure, 160 + 28 * len(cells.assets)) + "".join(paragraph(n) for n in cells.notes)
    if result.exposure is not None:
        e = result.exposure
        bars = grouped_bars(["volatile holdings"], [("today", [e.before], TODAY), ("at the end", [e.after], TARGET)],
                            title=f"Value of the volatile assets held ({', '.join(e.volatile) or 'none'})",
                            axis=ctx.currency)
        body += ctx.chart(bars, 220)
    return Block("Holdings before and after", body, "Value at today's prices (the end state valued like the "
                                                   "schedule, at today's prices).")


@section(TransitionResult, order=30)
def costs(result: TransitionResult, ctx: Context) -> Block:
    c = result.costs
    parts = [("carry", c.carry), ("transfers", c.transfer), ("fees", c.fees), ("spread", c.spread),
             ("impact", c.impact)]
    figure = waterfall(parts, c.total, title="Cost of the transition", currency=ctx.currency)
    meaning = {"carry": "income forgone over the periods (negative: earned)", "transfers": "route costs",
               "fees": "venue fees of the trades", "spread": "half spreads crossed", "impact": "market impact"}
    rows = [{"part": name, "amount": value, "what": meaning[name]} for name, value in parts]
    rows.append({"part": "total", "amount": c.total, "what": "what the transition costs the desk"})
    return Block("Cost", ctx.chart(figure, 340) + table(rows, {
        "part": ("part", text), "amount": (f"amount ({ctx.currency})", money), "what": ("meaning", text)}))


def _lane(step: TransitionStep) -> str:
    return f"trade at {step.venue}: {step.asset} → {step.asset_to}" if step.kind == "trade" else \
        f"{step.from_} → {step.to}"


Group = dict[tuple[str, int, str], list[TransitionStep]]


def _summed(steps: list[TransitionStep], marks: int) -> tuple[str, Group]:
    """The steps summed into at most ``marks`` bars if possible: by route, period and asset; else by route and
    period; else by period alone. Returns how, in words, and the groups (lane, period, asset) -> steps."""
    ways = (("route, period and asset", lambda s: (_lane(s), s.period, s.asset)),
            ("route and period", lambda s: (_lane(s), s.period, "all assets")),
            ("period", lambda s: ("all steps", s.period, "all assets")))
    for words, key in ways:
        groups: Group = defaultdict(list)
        for step in steps:
            groups[key(step)].append(step)
        if len(groups) <= marks:
            return words, groups
    return words, groups


@section(TransitionResult, order=40)
def timeline(result: TransitionResult, ctx: Context) -> Block:
    if not result.steps:
        return Block("Schedule", paragraph("Nothing to move."))
    span = max(result.periods * result.period_hours, 1e-9)
    shortest = span / 200  # an instant transfer still shows as a sliver
    bars: dict[str, list[tuple[str, float, float, str]]] = defaultdict(list)
    summed = ""
    if len(result.steps) > ctx.marks:
        summed, groups = _summed(result.steps, ctx.marks)
        for (lane, period, asset), steps in groups.items():
            start = (period - 1) * result.period_hours
            bars[asset].append((lane, start, result.period_hours,
                                f"period {period}: {len(steps)} steps, {sum(s.value for s in steps):,.2f} "
                                f"{ctx.currency}"))
    else:
        for s in result.steps:
            what = (f"sell {s.quantity:.6g} {s.asset} for {s.quantity_to or 0:.6g} {s.asset_to}" if s.kind == "trade"
                    else f"{s.quantity:.6g} {s.asset} {s.from_} → {s.to}")
            bars[s.asset].append((_lane(s), s.start_hours, max(s.arrival_hours - s.start_hours, shortest),
                                  f"step {s.step}: {what}<br>{s.value:,.2f} {ctx.currency}, cost {s.cost:,.2f}<br>"
                                  f"{s.start_hours:g} h → {s.arrival_hours:g} h"))
    figure = go.Figure()
    for asset, rows in bars.items():
        figure.add_bar(y=[r[0] for r in rows], base=[round(r[1], 4) for r in rows], x=[round(r[2], 4) for r in rows],
                       orientation="h", name=asset, opacity=0.8, hovertext=[r[3] for r in rows],
                       hovertemplate="%{hovertext}<extra>" + asset + "</extra>")
    lanes = {r[0] for rows in bars.values() for r in rows}
    figure.update_layout(title="Schedule: each step from its start to its arrival", barmode="overlay",
                         legend={"orientation": "h", "y": -0.12})
    figure.update_xaxes(title="hours from the start", range=[0, span])
    figure.update_yaxes(autorange="reversed")
    body = ctx.chart(figure, 160 + 26 * len(lanes))
    if summed:
        body += paragraph(f"{len(result.steps):,} steps: the chart sums them by {summed}.")
    body += table([s.model_dump(by_alias=True) for s in result.steps], {
        "step": ("step", text), "period": ("period", text), "start_hours": ("start", hours),
        "arrival_hours": ("arrival", hours), "kind": ("kind", text), "asset": ("asset", text),
        "from": ("from", text), "to": ("to", text), "quantity": ("quantity", quantity),
        "asset_to": ("buys", text), "quantity_to": ("quantity bought", quantity),
        "value": (f"value ({ctx.currency})", money), "cost": (f"cost ({ctx.currency})", money)}, limit=ctx.rows)
    return Block("Schedule", body, "Transfers land after their route's delay; a trade at a venue fills within its "
                                   "period. Values at today's prices.")


@section(TransitionResult, order=45, compact=True)
def coverage(result: TransitionResult, ctx: Context) -> Block | None:
    if not result.coverage:
        return None
    figure = go.Figure()
    by_account: dict[str, list] = defaultdict(list)
    for row in result.coverage:
        by_account[row.account].append(row)
    for account, rows in by_account.items():
        rows.sort(key=lambda r: r.period)
        scale = [r.required if r.required > 0 else None for r in rows]
        figure.add_scatter(x=[r.period for r in rows], y=[round(100 * r.lowest / s, 3) if s else None
                                                          for r, s in zip(rows, scale, strict=True)],
                           mode="lines+markers", name=account, legendgroup=account,
                           hovertemplate=f"{account}, period %{{x}}: lowest %{{y:.1f}}% of required<extra></extra>")
        figure.add_scatter(x=[r.period for r in rows], y=[round(100 * r.floor / s, 3) if s else None
                                                          for r, s in zip(rows, scale, strict=True)],
                           mode="lines", line={"dash": "dot"}, name=f"{account} floor", legendgroup=account,
                           hovertemplate=f"{account} floor: %{{y:.1f}}% of required<extra></extra>")
    reference_line(figure, 100, "required at the end", horizontal=True)
    lay_out(figure, "Lowest collateral in each period, as % of the end state's required", x={"title": "period"},
            y={"title": "% of required"})
    lowest = result.to_frame("lowest").to_dict(orient="records")
    body = ctx.chart(figure, 380) + "<h3>Lowest point per account</h3>" + table(
        [{**r, "ratio": r["lowest"] / r["required"] if r["required"] > 0 else None} for r in lowest], {
            "account": ("account", text), "period": ("period", text), "lowest": ("lowest collateral", money),
            "floor": ("floor", money), "required": ("required at the end", money),
            "ratio": ("lowest / required", percent)})
    return Block("Coverage during the transition", body, "Haircut-adjusted collateral. The floor is min(collateral "
                                                        "today, requirement): no account goes below it.")


@section(TransitionResult, order=90)
def diagnostics(result: TransitionResult, ctx: Context) -> Block:
    d = result.diagnostics
    rows = [("solver", d.solver), ("schedule solver", d.schedule_solver or ""), ("mode", d.mode),
            ("status", d.status), ("solve", f"{d.solve_seconds:.3f} s"), ("total", f"{d.total_seconds:.3f} s"),
            ("money scale", rate(d.money_scale)),
            ("convex relaxation's cost", money(d.relaxation_cost)), ("price of the move limits", percent(d.gap)),
            ("MILP gap", percent(d.milp_gap))]
    return Block("Solver", table([{"figure": k, "value": v} for k, v in rows if v],
                                 {"figure": ("", text), "value": ("", text)}, header=False))
