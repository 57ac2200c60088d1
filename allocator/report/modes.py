"""Sections of a margin-mode comparison (``compare_modes``, ``allocator modes``; docs/margin-modes.md): the capital
cost, requirement and collateral of each mode side by side, and each mode's stress outcome.

The comparison is a plain DataFrame (one row per mode), so it is wrapped as :class:`ModesTable` to be reported,
as a what-if table is wrapped as ``WhatIfTable``. ``allocator report`` reads the table ``allocator modes -o`` wrote
(.json, .csv or .parquet; load.py tells it apart by its ``mode`` and ``in_mode`` columns).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from allocator.report.charts import REQUIRED, REQUIREMENT, TARGET, TODAY, WARN, cents, grouped_bars, lay_out
from allocator.report.format import Formatter, count, facts, money, paragraph, table, text
from allocator.report.registry import Block, Context, section

#: The columns compare_modes writes; any other is a stress hook's figure (docs/margin-modes.md).
COLUMNS: dict[str, tuple[str, Formatter]] = {
    "mode": ("mode", text), "status": ("status", text), "cost": ("cost", money), "carry": ("carry", money),
    "transfer": ("transfers", money), "hedging": ("hedging", money), "requirement": ("requirement", money),
    "required": ("required", money), "collateral": ("collateral", money), "shortfall": ("shortfall", money),
    "accounts": ("accounts", count), "worst_scenario_excess": ("worst scenario excess", money),
    "episodes_liquidated": ("episodes with a liquidation", count), "liquidations": ("liquidations", count),
    "worst_episode": ("worst episode", text), "worst_loss": ("its loss", money), "in_mode": ("in the mode", text),
    "kept": ("kept their own mode", text)}


@dataclass(frozen=True, eq=False)
class ModesTable:
    """A ``compare_modes`` table to report (indexed by ``mode`` as it returns, or with a ``mode`` column as
    ``allocator modes`` writes it); ``currency`` labels its amounts (a table file does not carry it)."""

    frame: pd.DataFrame
    name: str = "Margin modes"
    currency: str = ""

    @property
    def rows(self) -> list[dict[str, Any]]:
        """One record per mode, missing figures as None."""
        frame = self.frame if "mode" in self.frame.columns else self.frame.reset_index()
        return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]

    @property
    def extra(self) -> list[str]:
        """Columns a stress hook of the caller's added."""
        return [c for c in self.rows[0] if c not in COLUMNS and c != "index"] if self.rows else []


def _plain(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def _optimal(item: ModesTable) -> list[dict[str, Any]]:
    return [row for row in item.rows if row.get("status") == "optimal" and row.get("cost") is not None]


@section(ModesTable, order=0, compact=True)
def headline(item: ModesTable, ctx: Context) -> Block:
    rows, solved, money_ = item.rows, _optimal(item), item.currency or ctx.currency
    pairs = [("modes", ", ".join(f"{row['mode']} ({row.get('status')})" for row in rows))]
    unit = f" {money_}" if money_ else ""
    if solved:
        cheap, dear = min(solved, key=lambda r: r["cost"]), max(solved, key=lambda r: r["cost"])
        if round(dear["cost"], 2) == round(cheap["cost"], 2):  # the same to the cent: solver noise is no saving
            pairs.append(("cost", f"{cheap['cost']:,.2f}{unit} over the horizon in every mode solved"))
        else:
            more = (dear["cost"] - cheap["cost"]) / abs(cheap["cost"]) if cheap["cost"] else None
            pairs += [("cheapest", f"{cheap['mode']}: {cheap['cost']:,.2f}{unit} over the horizon"),
                      ("dearest", f"{dear['mode']}: {dear['cost']:,.2f}{unit}" + (f" ({more:.1%} more)" if more
                                                                                   is not None else ""))]
    if any("liquidations" in row for row in solved):
        pairs.append(("stress", "; ".join(
            f"{row['mode']}: {_whole(row.get('liquidations'))} liquidations in {_whole(row.get('episodes_liquidated'))}"
            " episodes" + (f", worst {row['worst_episode']} ({row['worst_loss']:,.2f})" if row.get("worst_episode")
                           else "") for row in solved)))
    body = facts(pairs) + "<h3>Accounts in each mode</h3>" + table(rows, {
        "mode": ("mode", text), "in_mode": ("in the mode", text), "kept": ("kept their own mode (why)", text)})
    return Block("Overview", body)


def _whole(value: Any) -> str:
    return "?" if value is None else f"{value:,.0f}"


@section(ModesTable, order=10)
def side_by_side(item: ModesTable, ctx: Context) -> Block | None:
    rows, money_ = item.rows, item.currency or ctx.currency
    if not rows:
        return None
    modes = [str(row["mode"]) for row in rows]
    body = ""
    solved = _optimal(item)
    if solved:
        cost = go.Figure()
        for key, colour in (("carry", TODAY), ("transfer", WARN), ("hedging", "#8250df")):
            values = [row.get(key) if row.get("status") == "optimal" else None for row in rows]
            if any(v for v in values):
                cost.add_bar(x=modes, y=cents(values), name=key, marker_color=colour,
                             hovertemplate=f"%{{x}}: {key} %{{y:,.2f}} {money_}<extra></extra>")
        cost.add_scatter(x=modes, y=cents([row.get("cost") if row.get("status") == "optimal" else None
                                           for row in rows]), mode="markers+text", name="total",
                         marker={"symbol": "diamond", "size": 12, "color": TARGET},
                         text=[f"{row['cost']:,.2f}" if row.get("status") == "optimal" else "infeasible"
                               for row in rows], textposition="top center",
                         hovertemplate=f"%{{x}}: %{{y:,.2f}} {money_} over the horizon<extra>total</extra>")
        lay_out(cost, "Capital cost per mode", barmode="relative", y={"title": f"{money_} over the horizon"})
        body += ctx.chart(cost, 360)
        sizes = grouped_bars(modes, [(label, [row.get(key) for row in rows], colour) for key, label, colour in (
            ("requirement", "requirement", REQUIREMENT), ("required", "required (with buffers)", REQUIRED),
            ("collateral", "collateral posted", TARGET)) if any(row.get(key) for row in rows)],
            title="Requirement and haircut-adjusted collateral per mode", axis=money_, horizontal=False,
            hover="%{x:,.2f}")
        body += ctx.chart(sizes, 360)
    failed = [row for row in rows if row.get("status") != "optimal"]
    if failed:
        body += paragraph("Infeasible: " + "; ".join(f"{row['mode']} (least total shortfall "
                                                     f"{money(row.get('shortfall'))} {money_})" for row in failed))
    body += table(rows, {k: v for k, v in COLUMNS.items() if k not in ("in_mode", "kept")
                         and any(k in row for row in rows)} | {k: (k, _hooked(rows, k)) for k in item.extra})
    return Block("Cost, requirement and collateral", body,
                 f"Each mode's verified optimum, amounts in {money_ or 'the problem currency'}. Requirement: the "
                 "venues' requirements summed (hedges' margin included); required: with each account's buffer, net "
                 "of P&L; collateral: haircut-adjusted, posted at the accounts (isolated sub-accounts included).")


def _hooked(rows: list[dict[str, Any]], key: str) -> Formatter:
    values = [row.get(key) for row in rows if row.get(key) is not None]
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return count
    return money if values and all(isinstance(v, float) for v in values) else text


@section(ModesTable, order=20)
def stress_outcome(item: ModesTable, ctx: Context) -> Block | None:
    rows, money_ = _optimal(item), item.currency or ctx.currency
    if not rows:
        return None
    modes = [str(row["mode"]) for row in rows]
    body = ""
    counted = [(label, [row.get(key) for row in rows], colour) for key, label, colour in (
        ("episodes_liquidated", "episodes with a liquidation", WARN), ("liquidations", "liquidations", REQUIRED))
        if any(row.get(key) for row in rows)]
    if counted:
        body += ctx.chart(grouped_bars(modes, counted, title="Liquidations in the historical episodes per mode",
                                       axis="count", horizontal=False, hover="%{x:.0f}"), 320)
    if any(row.get("worst_loss") for row in rows):
        figure = go.Figure(go.Bar(x=modes, y=cents([row.get("worst_loss") for row in rows]), marker_color=REQUIRED,
                                  text=[row.get("worst_episode") or "" for row in rows], textposition="auto",
                                  hovertemplate=f"%{{x}}: %{{y:,.2f}} {money_} in %{{text}}<extra></extra>"))
        figure.update_layout(title="The treasury's loss in the worst episode per mode")
        figure.update_yaxes(title=money_)
        body += ctx.chart(figure, 320)
    if any(row.get("worst_scenario_excess") for row in rows):
        body += ctx.chart(grouped_bars(modes, [("worst scenario excess", [row.get("worst_scenario_excess")
                                                                          for row in rows], TARGET)],
                                       title="Smallest excess after the problem's own stress scenarios",
                                       axis=money_, horizontal=False, hover="%{x:,.2f}"), 300)
    if not body and not any(k in row for row in rows for k in ("liquidations", "worst_scenario_excess", *item.extra)):
        return None
    if not body:
        body = paragraph("No liquidation and no loss in any mode.")
    return Block("Stress outcome per mode", body,
                 "Each mode's optimal allocation through the historical episodes with cascades (allocator.stress, "
                 "docs/stress.md), and the smallest excess after the problem's own stress scenarios.")
