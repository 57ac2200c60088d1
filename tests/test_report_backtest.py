"""The backtest's report (``BacktestResult.to_html``, ``allocator report DIR``): its sections, and every figure in
its charts and tables checked against the backtest's frames by hand: the final cumulative cost per policy (and
per part) equals the summary, the lowest coverage per day is the minimum over accounts of the worst intraday
coverage, each liquidation is marked on its day, the warning-zone days add up to the summary's. The run is the
short one of ``report_cases`` (desk.toml over March 2020, three policies, about 3 s); the browser renders the same
page in tests/test_report_browser.py.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from report_cases import items

from allocator.analysis.backtest import BacktestResult
from allocator.cli import main
from allocator.errors import InputError
from allocator.report import MAX_BYTES, read_result
from allocator.report.backtest_series import DAY_MS, PARTS, thin_at, thin_lowest, thin_step


@pytest.fixture(scope="module")
def result() -> BacktestResult:
    (backtest,) = items("desk-backtest")
    return backtest


@pytest.fixture(scope="module")
def html(result: BacktestResult) -> str:
    return result.to_html()


def figures(page: str) -> dict[str, dict[str, Any]]:
    """Every chart of the page by its title: the data and layout of its ``Plotly.newPlot`` call."""
    decoder, found = json.JSONDecoder(), {}
    for chunk in page.split("Plotly.newPlot(")[1:]:
        chunk = chunk.lstrip()
        _, end = decoder.raw_decode(chunk)  # the chart's id
        data, end2 = decoder.raw_decode(chunk[end:].lstrip(" ,\n"))
        rest = chunk[end:].lstrip(" ,\n")[end2:].lstrip(" ,\n")
        layout, _ = decoder.raw_decode(rest)
        found[layout["title"]["text"]] = {"data": data, "layout": layout}
    return found


def chart(page: str, title: str) -> dict[str, Any]:
    (match,) = [figure for name, figure in figures(page).items() if name.startswith(title)]
    return match


def _sections(page: str) -> list[str]:
    return re.findall(r"<section id=\"[^\"]*\"><h2>([^<]*)</h2>", page)


def test_the_backtest_report_shows_its_sections(html: str):
    assert _sections(html) == ["Outcome", "Summary", "Cost over time", "Coverage over time", "Liquidations",
                               "Warning-zone days", "The run"]
    assert len(html.encode("utf-8")) < MAX_BYTES
    assert "Backtest · USD" in html


def test_the_summary_table_has_one_row_per_policy(result: BacktestResult, html: str):
    summary = html[html.index('id="summary"'):html.index('id="cost-over-time"')]
    rows = re.findall(r"<tr><td>([a-z_]+)</td><td class=num>([\d,.-]+)</td>", summary)
    assert [(p, float(t.replace(",", ""))) for p, t in rows] == [
        (p, round(t, 2)) for p, t in zip(result.summary["policy"], result.summary["total_cost"], strict=True)]


def test_the_final_cumulative_cost_of_each_policy_is_its_summary_total(result: BacktestResult, html: str):
    lines = {trace["name"]: trace for trace in chart(html, "Cumulative cost per policy")["data"]
             if trace["mode"] == "lines"}
    treasury = result.treasury
    for row in result.summary.itertuples():
        by_hand = sum(treasury.loc[treasury["policy"] == row.policy, part].sum() for part in PARTS)
        assert row.total_cost == pytest.approx(by_hand, abs=1e-6)
        trace = lines[row.policy]
        assert trace["y"][-1] == pytest.approx(round(row.total_cost, 2), abs=0.005)
        assert trace["x0"] == result.meta["start"] and trace["dx"] == DAY_MS  # a month: every day shown
        assert len(trace["y"]) == result.meta["days"]
        mine = treasury[treasury["policy"] == row.policy]
        day = 12  # the cumulative total on 2020-03-13 (the 13th point) is the sum of the first 13 days' costs
        assert trace["y"][day] == pytest.approx(round(float(mine[list(PARTS)].iloc[:day + 1].to_numpy().sum()), 2),
                                                abs=0.005)


def test_each_cost_part_ends_at_the_summary_part(result: BacktestResult, html: str):
    panels = chart(html, "Cumulative cost by part")["data"]
    labels = {label: part for part, label in PARTS.items()}
    for index, row in enumerate(result.summary.to_dict(orient="records")):
        stack = [trace for trace in panels if trace["stackgroup"] == f"p{index}"]
        assert {labels[trace["name"]] for trace in stack} == set(PARTS)
        for trace in stack:
            assert trace["y"][-1] == pytest.approx(round(row[labels[trace["name"]]], 2), abs=0.005)
        assert sum(trace["y"][-1] for trace in stack) == pytest.approx(row["total_cost"], abs=0.03)


def test_the_lowest_coverage_is_the_worst_account_each_day(result: BacktestResult, html: str):
    figure = chart(html, "Lowest coverage across accounts")
    lines = {trace["name"]: trace["y"] for trace in figure["data"] if trace["mode"] == "lines"}
    daily = result.daily
    for row in result.summary.itertuples():
        mine = daily[daily["policy"] == row.policy]
        first = mine[mine["date"] == result.meta["start"]]
        by_hand = [100 * first["coverage"].min()] + list(
            100 * mine[mine["date"] != result.meta["start"]].groupby("date")["worst_coverage"].min())
        assert lines[row.policy] == pytest.approx([round(v, 2) for v in by_hand], abs=0.006)
        assert min(lines[row.policy][1:]) == pytest.approx(100 * row.min_coverage, abs=0.006)


def test_each_liquidation_is_marked_on_its_day(result: BacktestResult, html: str):
    fallen = result.daily[result.daily["liquidated"]]
    assert len(fallen) == result.summary["liquidations"].sum() == 8  # waterfall and optimized, 4 each on 03-12
    for title in ("Lowest coverage across accounts", "Cumulative cost per policy"):
        marks = {trace["name"].removesuffix(": liquidations"): trace for trace in chart(html, title)["data"]
                 if trace["mode"] == "markers" and trace["name"].endswith(": liquidations")}
        assert set(marks) == set(fallen["policy"])
        for policy, trace in marks.items():
            days = sorted(set(fallen.loc[fallen["policy"] == policy, "date"]))
            assert trace["x"] == days == ["2020-03-12"]
            accounts = ", ".join(fallen.loc[fallen["policy"] == policy, "account"])
            assert trace["hovertext"] == [f"liquidated: {accounts}"]
    table = html[html.index('id="liquidations"'):html.index('id="warning-zone-days"')]
    assert table.count("<tr><td>2020-03-12</td>") == len(fallen)


def test_the_warning_zone_days_add_up_to_the_summary(result: BacktestResult, html: str):
    bars = chart(html, "Days closed in the warning zone")["data"]
    for row in result.summary.itertuples():
        shown = sum(v or 0 for trace in bars if trace["name"] == row.policy for v in trace["x"])
        assert shown == row.warning_days
        by_hand = int(result.daily.loc[result.daily["policy"] == row.policy, "warning"].sum())
        assert by_hand == row.warning_days


def test_thinning_keeps_the_last_day_and_every_dip():
    days = pd.date_range("2020-01-01", periods=10, freq="D").strftime("%Y-%m-%d")
    coverage = pd.Series([1.5, 1.4, 0.7, 1.3, 1.2, None, 1.1, 1.6, 1.0, 1.2], index=days)
    assert thin_step(10, 4) == 3
    thinned = thin_lowest(coverage, 3)  # points on days 1, 4, 7 and 10; each the lowest since the last point
    assert (thinned.x0, thinned.dx, thinned.values) == ("2020-01-01", 3 * DAY_MS, [1.5, 0.7, 1.1, 1.0])
    cumulative = pd.Series([float(i) for i in range(10)], index=days)
    assert thin_at(cumulative, 3).values == [0.0, 3.0, 6.0, 9.0]
    assert thin_at(cumulative, 1).values == list(cumulative)


def test_the_compact_form_has_the_tables_and_no_script(result: BacktestResult):
    compact = result._repr_html_()
    assert "<script" not in compact
    for title in ("Outcome", "Summary", "Liquidations", "Warning-zone days"):
        assert f"<h4>{title}</h4>" in compact
    assert "Cost over time" not in compact


def test_the_report_reads_a_backtest_directory_and_its_json(result: BacktestResult, tmp_path):
    result.save(tmp_path / "run")
    (tmp_path / "run.json").write_text(result.to_json(), encoding="utf-8")
    for path in (tmp_path / "run", tmp_path / "run.json"):
        loaded = read_result(path)
        assert isinstance(loaded, BacktestResult)
        pd.testing.assert_frame_equal(loaded.summary, result.summary, check_dtype=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError) as error:
        read_result(tmp_path / "empty")
    assert [issue.location for issue in error.value.issues] == [
        str(tmp_path / "empty" / name) for name in ("meta.json", "daily.parquet", "treasury.parquet", "summary.csv")]


def test_allocator_report_writes_a_backtest_directory_beside_it(result: BacktestResult, tmp_path, monkeypatch):
    result.save(tmp_path / "march")
    monkeypatch.chdir(tmp_path)
    run = CliRunner().invoke(main, ["report", "march"])
    assert run.exit_code == 0, run.output
    page = (tmp_path / "march.html").read_text(encoding="utf-8")
    assert _sections(page)[:2] == ["Outcome", "Summary"]
    bad = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert bad.exit_code == 2
    assert "meta.json: no such file" in bad.output and "Traceback" not in bad.output


def test_a_result_saved_before_a_cost_part_existed_leaves_it_out_and_says_so(result: BacktestResult, tmp_path):
    """A folder saved before ``exchange_pnl`` was recorded (its column dropped from the saved files) is read back and
    reported without that part: no column or trace of it, not a zero, and a note naming it; the cumulative cost is
    the parts it recorded."""
    result.save(tmp_path)
    for name in ("treasury.parquet",):
        frame = pd.read_parquet(tmp_path / name).drop(columns=["exchange_pnl"])
        frame.to_parquet(tmp_path / name, index=False)
    summary = pd.read_csv(tmp_path / "summary.csv").drop(columns=["exchange_pnl"])
    summary.to_csv(tmp_path / "summary.csv", index=False)
    old = BacktestResult.load(tmp_path)
    page = old.to_html()
    table = page[page.index('id="summary"'):page.index('id="cost-over-time"')]
    (head,) = re.findall(r"<thead>(.*?)</thead>", table)
    assert "exchange P&amp;L" not in head and "carry forgone" in head
    note = "Not recorded in this result (it was saved before they existed): exchange P&amp;L."
    assert note in table and note in page[page.index('id="cost-over-time"'):]
    panels = chart(page, "Cumulative cost by part")["data"]
    assert {trace["name"] for trace in panels} == {label for part, label in PARTS.items() if part != "exchange_pnl"}
    bars = chart(page, "Total cost per policy")["data"]
    assert "exchange P&L" not in {trace["name"] for trace in bars}
    lines = {trace["name"]: trace["y"] for trace in chart(page, "Cumulative cost per policy")["data"]
             if trace["mode"] == "lines"}
    treasury = old.treasury
    for policy in old.summary["policy"]:
        mine = treasury[treasury["policy"] == policy]
        recorded = sum(mine[part].sum() for part in PARTS if part != "exchange_pnl")
        assert lines[policy][-1] == pytest.approx(round(recorded, 2), abs=0.005)
    assert "Not recorded" not in result.to_html()  # a result with every part has no such note
