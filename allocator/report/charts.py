"""Plotly figures as page fragments, and the few chart shapes every section uses.

The page embeds plotly.js once (page.py); each chart is a ``<div>`` with a deterministic id and a small script
that queues its ``Plotly.newPlot`` call with its own data (serialised by plotly's own JSON writer), so the same
result gives the same file. The page's loader draws the queue: the charts on the first screen at once, the rest
as they are scrolled near or when the browser is idle (page.py, ``LOADER``). Numbers are rounded before they are
charted (money to cents, ratios to 6 significant figures): the tables and the JSON result keep full precision,
and the page stays small.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.io.json import to_json_plotly

#: plotly.js options for every chart: no plotly logo, resize with the page, no selection tools (nothing to select).
CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}

#: One colour per role, the same in every section: today (before), the target (after), what is required.
TODAY, TARGET, REQUIRED, REQUIREMENT, WARN = "#9aa5b1", "#1f6feb", "#d1242f", "#f0883e", "#bf8700"
#: Money earned (a negative cost) in the cost charts.
INCOME = "#2da44e"


#: A small template (plotly's own "plotly_white" repeats about 7 kB of trace defaults in every chart's data).
TEMPLATE = {"layout": {
    "colorway": ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692", "#B6E880", "#FF97FF",
                 "#FECB52"],
    "paper_bgcolor": "white", "plot_bgcolor": "white", "font": {"color": "#2a3f5f"},
    "xaxis": {"gridcolor": "#EBF0F8", "linecolor": "#EBF0F8", "zerolinecolor": "#EBF0F8", "ticks": ""},
    "yaxis": {"gridcolor": "#EBF0F8", "linecolor": "#EBF0F8", "zerolinecolor": "#EBF0F8", "ticks": ""},
    "hoverlabel": {"align": "left"}, "title": {"x": 0.02}}}


def chart_div(figure: go.Figure, div_id: str, height: int) -> str:
    """The figure, styled like every chart of the report, as a ``<div>`` and its ``Plotly.newPlot`` script."""
    top = figure.layout.margin.t if figure.layout.margin.t is not None else 40
    # Assigned, not updated: a new figure already holds plotly's default template, and update_layout would merge
    # this one into it (about 6 kB of trace defaults in every chart's data).
    figure.layout.template = TEMPLATE
    figure.update_layout(height=height, margin={"l": 10, "r": 10, "t": top, "b": 10},
                         font={"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
                         hoverlabel={"namelength": -1})
    figure.update_yaxes(automargin=True)
    figure.update_xaxes(automargin=True)
    spec = figure.to_plotly_json()
    # to_json_plotly writes < and / as \u escapes: a label holding "</script>" cannot end the script early.
    call = (f'Plotly.newPlot("{div_id}", {to_json_plotly(spec.get("data", []))}, '
            f'{to_json_plotly(spec.get("layout", {}))}, {to_json_plotly(CONFIG)})')
    return (f'<div id="{div_id}" class="plotly-graph-div" style="height:{height}px; width:100%;"></div>'
            f'<script>(window.allocatorCharts = window.allocatorCharts || []).push(["{div_id}", '
            f"function () {{ return {call}; }}]);</script>")


def cents(values: Sequence[float | None]) -> list[float | None]:
    """Rounded to cents; None (no figure: no bar is drawn) stays None."""
    return [None if v is None else round(float(v), 2) for v in values]


def significant(values: Sequence[float], digits: int = 6) -> list[float]:
    return [float(f"{float(v):.{digits}g}") for v in values]


def grouped_bars(categories: Sequence[str], series: Sequence[tuple[str, Sequence[float | None], str]], *, title: str,
                 axis: str, horizontal: bool = True, hover: str = "%{x:,.2f}") -> go.Figure:
    """One bar per category and series (series: name, values, colour), side by side."""
    figure = go.Figure()
    for name, values, colour in series:
        data = cents(values)
        if horizontal:
            figure.add_bar(y=list(categories), x=data, name=name, orientation="h", marker_color=colour,
                           hovertemplate=f"%{{y}}: {hover}<extra>{name}</extra>")
        else:
            figure.add_bar(x=list(categories), y=data, name=name, marker_color=colour,
                           hovertemplate=f"%{{x}}: {hover.replace('%{x', '%{y')}<extra>{name}</extra>")
    figure.update_layout(barmode="group", title=title, legend={"orientation": "h", "y": -0.15})
    if horizontal:
        figure.update_xaxes(title=axis)
        figure.update_yaxes(autorange="reversed")
    else:
        figure.update_yaxes(title=axis)
    return figure


def waterfall(parts: Sequence[tuple[str, float]], total: float, *, title: str, currency: str) -> go.Figure:
    """Each cost part as a step from the running sum before it to the one after it (a cost steps up in red, income
    steps down in green), then the total as a bar from zero. Floating bars (``base`` + value) rather than plotly's
    waterfall trace, which the page's cartesian plotly.js bundle does not have (bundle.py); the hover and the label
    of each bar give the part itself."""
    names = [name for name, _ in parts] + ["total"]
    steps = [round(float(value), 2) for _, value in parts]
    bases = [round(sum(steps[:i]), 2) for i in range(len(steps))] + [0.0]
    values = [*steps, round(float(total), 2)]
    colours = [REQUIRED if value >= 0 else INCOME for value in steps] + [TARGET]
    figure = go.Figure(go.Bar(x=names, y=values, base=bases, marker_color=colours,
                              text=[f"{v:,.2f}" for v in values], textposition="outside", cliponaxis=False,
                              hovertemplate=f"%{{x}}: %{{y:,.2f}} {currency}<extra></extra>"))
    figure.update_layout(title=title, showlegend=False)
    figure.update_yaxes(title=f"{currency} over the horizon")
    return figure


def heatmaps(panels: Sequence[tuple[str, list[list[float]]]], rows: Sequence[str], columns: Sequence[str], *,
             title: str, unit: str, diverging: Sequence[bool] = (), money: bool = True) -> go.Figure:
    """Side-by-side heatmaps over the same rows and columns (a shared colour scale for the plain panels, a
    red-blue scale centred on zero for the diverging ones); each cell labelled with its value when few. Values are
    rounded to cents (``money``) or to 6 significant figures."""
    from plotly.subplots import make_subplots

    figure = make_subplots(rows=1, cols=len(panels), subplot_titles=[name for name, _ in panels],
                           shared_yaxes=True, horizontal_spacing=0.04)
    plain = [v for (_, z), d in zip(panels, _pad(diverging, len(panels)), strict=True) if not d for r in z for v in r]
    top = max(plain, default=1.0) or 1.0
    labelled = len(rows) * len(columns) <= 120
    for i, ((name, z), centred) in enumerate(zip(panels, _pad(diverging, len(panels)), strict=True), start=1):
        data = [[round(float(v), 2) for v in row] if money else significant(row) for row in z]
        extent = max((abs(v) for row in data for v in row), default=1.0) or 1.0
        figure.add_trace(go.Heatmap(
            z=data, x=list(columns), y=list(rows), name=name, xgap=1, ygap=1,
            colorscale="RdBu" if centred else "Blues", zmid=0 if centred else None,
            zmin=-extent if centred else 0, zmax=extent if centred else top, showscale=False,
            text=[[short(v) for v in row] for row in data] if labelled else None,
            texttemplate="%{text}" if labelled else None, textfont={"size": 10},
            hovertemplate=f"%{{y}} at %{{x}}: %{{z:,.2f}} {unit}<extra>{name}</extra>"), row=1, col=i)
    figure.update_layout(title=title, margin={"t": 80 if len(panels) > 1 else 40})
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(tickangle=-35)
    return figure


def short(value: float) -> str:
    """A cell label to 3 significant figures: 14.3M, 951k, 0.5 (no SI milli, which reads like millions)."""
    if value == 0:
        return "0"
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k"), (1.0, "")):
        if abs(value) >= scale * 0.9995 or scale == 1.0:  # 999,854 rounds to 1M, not 1e+03k
            mantissa = float(f"{value / scale:.3g}")
            return f"{mantissa:g}{suffix}" if abs(mantissa) < 1000 or suffix == "B" else f"{mantissa:.0f}{suffix}"
    return f"{value:.3g}"  # pragma: no cover


def _pad(flags: Sequence[bool], n: int) -> list[bool]:
    return [*flags, *([False] * (n - len(flags)))][:n]


def reference_line(figure: go.Figure, value: float, label: str, *, horizontal: bool = False) -> Any:
    """A dashed line at ``value`` (100% coverage, a floor) across the whole plot."""
    if horizontal:
        return figure.add_hline(y=value, line_dash="dash", line_color=REQUIRED, annotation_text=label,
                                annotation_position="top left")
    return figure.add_vline(x=value, line_dash="dash", line_color=REQUIRED, annotation_text=label,
                            annotation_position="top")


def lay_out(figure: go.Figure, title: str, *, x: dict[str, Any] | None = None, y: dict[str, Any] | None = None,
            **layout: Any) -> go.Figure:
    """Title ``figure``, put its legend in a row below the plot and set its axes (``x``, ``y``: plotly axis settings
    such as ``{"title": "period"}``); ``layout``: more layout settings (``barmode``)."""
    figure.update_layout(title=title, **layout, legend={"orientation": "h", "y": -0.2})
    if x:
        figure.update_xaxes(**x)
    if y:
        figure.update_yaxes(**y)
    return figure


def distance_to_liquidation(accounts: Sequence[str], main: Sequence[float | None], market: Sequence[float | None],
                            *, title: str) -> go.Figure:
    """Per account, the price move (fractions, drawn in %) that leaves only the requirement: of the account's main
    underlying alone, and of every volatile asset together (the result's and the stress report's chart)."""
    def percent(values: Sequence[float | None]) -> list[float | None]:
        return [None if v is None else 100 * v for v in values]

    return grouped_bars(accounts, [("main underlying moves", percent(main), REQUIRED),
                                   ("every volatile asset moves", percent(market), WARN)],
                        title=title, axis="% price move", hover="%{x:.1f}%")
