"""Sections of a what-if table (``analysis.what_if``) or a frontier (``analysis.frontier``: the same table with the
swept value in column ``value``): the cost per scenario or along the curve, shadow prices, shortfalls.

A table is a plain DataFrame, so it is wrapped as :class:`WhatIfTable` to be reported (``whatif_html(table)``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from allocator.report.charts import REQUIRED, TARGET, WARN, heatmaps, lay_out
from allocator.report.format import SIGN_CONVENTION, Formatter, facts, money, paragraph, table, text
from allocator.report.registry import Block, Context, section

MAX_HEATMAP = 60  # scenarios; above this, shadow prices are shown as a distribution per account


@dataclass(frozen=True, eq=False)
class WhatIfTable:
    """A what-if or frontier table to report; ``name`` titles its sections, ``currency`` labels its amounts."""

    frame: pd.DataFrame
    name: str = "What-if"
    currency: str = ""

    @property
    def is_frontier(self) -> bool:
        return "value" in self.frame.columns and pd.api.types.is_numeric_dtype(self.frame["value"])

    @property
    def swept(self) -> str:
        """What a frontier sweeps, read off its scenario ids (``frontier`` names them ``field.key=value``)."""
        fields = {str(ident).rsplit("=", 1)[0] for ident in self.frame.get("scenario", []) if "=" in str(ident)}
        return fields.pop() if len(fields) == 1 else "swept value"

    def accounts(self, prefix: str) -> list[str]:
        return [c.removeprefix(prefix + ".") for c in self.frame.columns if c.startswith(prefix + ".")]


def _optimal(table_: WhatIfTable) -> pd.DataFrame:
    return table_.frame[table_.frame["status"] == "optimal"]


@section(WhatIfTable, order=0, compact=True)
def headline(item: WhatIfTable, ctx: Context) -> Block:
    frame, money_ = item.frame, item.currency or ctx.currency
    counts = frame["status"].value_counts().to_dict() if "status" in frame else {}
    pairs = [("scenarios", f"{len(frame):,}: " + ", ".join(f"{n:,} {s}" for s, n in sorted(counts.items())))]
    solved = _optimal(item)["objective"] if "objective" in frame else pd.Series(dtype=float)
    if len(solved):
        pairs.append(("cost", f"{solved.min():,.2f} to {solved.max():,.2f} {money_} (median "
                              f"{solved.median():,.2f})"))
    if item.is_frontier:
        pairs.append(("swept", f"{item.swept} from {frame['value'].min():g} to {frame['value'].max():g} "
                               f"({len(frame)} values)"))
    return Block("Overview", facts(pairs))


@section(WhatIfTable, order=10)
def cost_curve(item: WhatIfTable, ctx: Context) -> Block | None:
    frame, money_ = item.frame, item.currency or ctx.currency
    if "objective" not in frame or not len(frame):
        return None
    figure = go.Figure()
    solved = _optimal(item)
    failed = frame[frame["status"] != "optimal"]
    if item.is_frontier:
        ordered = solved.sort_values("value")
        for column, colour in (("objective", TARGET), ("carry", "#8250df"), ("transfer", WARN)):
            if column in ordered:
                figure.add_scatter(x=ordered["value"].round(8).tolist(), y=ordered[column].round(2).tolist(),
                                   mode="lines+markers", name=column, line={"color": colour},
                                   hovertemplate=f"value %{{x:g}}: {column} %{{y:,.2f}} {money_}<extra></extra>")
        if len(failed):
            figure.add_scatter(x=failed["value"].tolist(), y=[0.0] * len(failed), mode="markers",
                               name="infeasible or failed", marker={"symbol": "x", "size": 12, "color": REQUIRED},
                               hovertext=failed["status"].tolist(),
                               hovertemplate="value %{x:g}: %{hovertext}<extra></extra>")
        figure.update_xaxes(title=item.swept)
        title = "Cost along the frontier"
    else:
        shown = frame.head(ctx.marks)
        ok = shown["status"] == "optimal"
        figure.add_bar(x=shown["scenario"].astype(str).tolist(),
                       y=[round(v, 2) if o and not math.isnan(v) else 0.0
                          for v, o in zip(shown["objective"], ok, strict=True)],
                       marker_color=[TARGET if o else REQUIRED for o in ok],
                       hovertext=shown["status"].tolist(),
                       hovertemplate="%{x}: %{y:,.2f} " + money_ + " (%{hovertext})<extra></extra>")
        figure.update_xaxes(title="scenario", type="category")
        title = "Cost per scenario (red: infeasible or failed)"
    figure.update_layout(title=title, legend={"orientation": "h", "y": -0.2})
    figure.update_yaxes(title=f"{money_} over the horizon")
    body = ctx.chart(figure, 380)
    if not item.is_frontier and len(frame) > ctx.marks:
        body += paragraph(f"The chart shows the first {ctx.marks:,} of {len(frame):,} scenarios.")
    return Block("Cost", body)


@section(WhatIfTable, order=20)
def shadow_prices(item: WhatIfTable, ctx: Context) -> Block | None:
    accounts = item.accounts("shadow_price")
    solved = _optimal(item)
    if not accounts or not len(solved):
        return None
    columns = [f"shadow_price.{a}" for a in accounts]
    if item.is_frontier:
        ordered = solved.sort_values("value")
        figure = go.Figure()
        for account, column in zip(accounts, columns, strict=True):
            figure.add_scatter(x=ordered["value"].tolist(), y=[float(f"{v:.6g}") for v in ordered[column]],
                               mode="lines+markers", name=account,
                               hovertemplate=f"{account}, value %{{x:g}}: %{{y:.4g}}<extra></extra>")
        figure.update_xaxes(title=item.swept)
        figure.update_yaxes(title="shadow price (currency per currency)")
        figure.update_layout(title="Shadow price of each requirement along the frontier")
        chart = ctx.chart(figure, 360)
    elif len(solved) <= MAX_HEATMAP:
        z = [[float(f"{v:.6g}") for v in solved[c]] for c in columns]
        figure = heatmaps([("", z)], accounts, solved["scenario"].astype(str).tolist(),
                          title="Shadow price of each requirement per scenario", unit="per unit of requirement",
                          diverging=[True], money=False)
        figure.update_traces(hovertemplate="%{y}, %{x}: %{z:.4g} per unit of requirement<extra></extra>")
        chart = ctx.chart(figure, 160 + 30 * len(accounts))
    else:
        figure = go.Figure()
        for account, column in zip(accounts, columns, strict=True):
            figure.add_box(y=[float(f"{v:.6g}") for v in solved[column]], name=account, boxpoints=False)
        figure.update_layout(title="Shadow price of each requirement over the scenarios", showlegend=False)
        figure.update_yaxes(title="shadow price (currency per currency)")
        chart = ctx.chart(figure, 360)
    return Block("Shadow prices", chart, SIGN_CONVENTION)


@section(WhatIfTable, order=30)
def shortfalls(item: WhatIfTable, ctx: Context) -> Block | None:
    accounts = item.accounts("shortfall")
    short = item.frame[item.frame["status"] == "infeasible"] if "status" in item.frame else item.frame.iloc[:0]
    if not accounts or not len(short):
        return None
    figure = go.Figure()
    x = (short["value"] if item.is_frontier else short["scenario"].astype(str)).tolist()
    for account in accounts:
        values = short[f"shortfall.{account}"].fillna(0.0)
        if (values > 0).any():
            figure.add_bar(x=x, y=values.round(2).tolist(), name=account,
                           hovertemplate=f"{account}: %{{y:,.2f}}<extra>%{{x}}</extra>")
    if not figure.data:
        return None
    lay_out(figure, "Shortfall per account in the infeasible scenarios", barmode="stack",
            x={"title": item.swept if item.is_frontier else "scenario",
               "type": "linear" if item.is_frontier else "category"},
            y={"title": item.currency or ctx.currency})
    return Block("Infeasible scenarios", ctx.chart(figure, 360), "The least shortfall any allocation leaves.")


@section(WhatIfTable, order=40)
def rows(item: WhatIfTable, ctx: Context) -> Block:
    money_ = item.currency or ctx.currency
    columns: dict[str, tuple[str, Formatter]] = {"scenario": ("scenario", text)}
    if item.is_frontier:
        columns["value"] = ("value", text)
    columns |= {"status": ("status", text), "objective": (f"cost ({money_})", money), "carry": ("carry", money),
                "transfer": ("transfers", money), "error": ("error", text)}
    records = item.frame.to_dict(orient="records")
    return Block("Scenarios", table(records, {k: v for k, v in columns.items() if k in item.frame}, limit=ctx.rows))
