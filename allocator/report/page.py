"""The page: one self-contained HTML file, plotly.js embedded once, every item's sections in order.

plotly.js is the cartesian partial bundle shipped with allocator (about 1.5 MB; bundle.py), a comment in the
page's head names it (or says why the plotly package's full bundle is there instead).

Nothing is fetched when the file opens: no CDN, no font, no image by URL. A Content-Security-Policy in the page
says so to the browser too (``default-src 'none'``: a request the page tried would be refused and logged), so the
report opens the same offline, from an e-mail attachment or a file share. The same result gives the same bytes
(chart ids are numbered, nothing is timestamped).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from importlib.metadata import version

from allocator.report.bundle import plotly_bundle
from allocator.report.format import SIGN_CONVENTION
from allocator.report.registry import Block, Context, registered_types, renderers_for

#: No network at all: inline scripts and styles (plotly.js builds styles and uses eval-free code, but its
#: heatmaps draw through data: and blob: images).
POLICY = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; "
          "font-src data:")

STYLE = """
:root { color-scheme: light; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --good: #1a7f37; --warn: #9a6700;
        --bad: #d1242f; --panel: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); }
header { padding: 18px 28px 10px; border-bottom: 1px solid var(--line); background: var(--panel); }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; color: var(--muted); }
nav { margin-top: 8px; display: flex; flex-wrap: wrap; gap: 4px 14px; }
nav a { color: #0969da; text-decoration: none; font-size: 13px; }
main { padding: 8px 28px 28px; max-width: 1400px; }
section { margin: 22px 0 30px; }
h2 { font-size: 18px; margin: 0 0 6px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
.about, .note { color: var(--muted); margin: 4px 0 10px; max-width: 110ch; }
.outcome { border-left: 5px solid var(--good); background: var(--panel); padding: 8px 14px; }
.outcome.warn { border-color: var(--warn); } .outcome.bad { border-color: var(--bad); }
dl.facts { margin: 0; display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; }
dl.facts div { display: contents; } dt { font-weight: 600; } dd { margin: 0; }
.table { overflow-x: auto; margin: 8px 0; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 3px 10px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
th { background: var(--panel); position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.plotly-graph-div { margin: 6px 0; }
footer { padding: 14px 28px; color: var(--muted); border-top: 1px solid var(--line); font-size: 12px; }
"""


#: Draws the charts the page queued (charts.chart_div): those on the first screen at once, each other one when it
#: is scrolled near (IntersectionObserver) or when the browser is idle, one per idle slot, so that every chart is
#: drawn without scrolling too (find, print) and the first screen does not wait for the charts below it. When the
#: charts of the first screen are drawn, ``body[data-first-screen-ms]`` holds the time since navigation started,
#: and ``body[data-drawn-ms]`` when the last chart is (the browser test and the benchmark read them).
LOADER = """
(function () {
  var queue = window.allocatorCharts || [], left = queue.length, first = 0, body = document.body;
  function stamp(name) { body.setAttribute(name, String(Math.round(performance.now()))); }
  function draw(entry, onFirstScreen) {
    if (entry.started) { return; }
    entry.started = true;
    function done() {
      left -= 1;
      if (onFirstScreen) { first -= 1; if (first === 0) { stamp("data-first-screen-ms"); } }
      if (left === 0) { stamp("data-drawn-ms"); }
    }
    Promise.resolve(entry[1]()).then(done, function (error) { done(); throw error; });
  }
  if (left === 0) { stamp("data-first-screen-ms"); stamp("data-drawn-ms"); return; }
  var byId = {}, bottom = window.innerHeight + 200;
  var visible = queue.filter(function (entry) {
    byId[entry[0]] = entry;
    return document.getElementById(entry[0]).getBoundingClientRect().top < bottom;
  });
  first = visible.length;
  if (first === 0) { stamp("data-first-screen-ms"); }
  visible.forEach(function (entry) { draw(entry, true); });
  if ("IntersectionObserver" in window) {
    var observer = new IntersectionObserver(function (seen) {
      seen.forEach(function (item) {
        if (item.isIntersecting) { observer.unobserve(item.target); draw(byId[item.target.id], false); }
      });
    }, {rootMargin: "400px 0px"});
    queue.forEach(function (entry) { if (!entry.started) { observer.observe(document.getElementById(entry[0])); } });
  }
  var later = window.requestIdleCallback || function (next) { return setTimeout(next, 1); }, next = 0;
  function idle() {
    while (next < queue.length && queue[next].started) { next += 1; }
    if (next < queue.length) { draw(queue[next], false); later(idle); }
  }
  later(idle);
})();
"""


def _anchor(text: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
    anchor, n = base, 1
    while anchor in used:
        n += 1
        anchor = f"{base}-{n}"
    used.add(anchor)
    return anchor


def _blocks(item: object, ctx: Context, compact: bool) -> list[Block]:
    renderers = renderers_for(item, compact)
    if not renderers:
        names = ", ".join(kind.__name__ for kind in registered_types())
        raise TypeError(f"no report sections for {type(item).__name__}; reported types: {names}")
    return [block for renderer in renderers if (block := renderer(item, ctx)) is not None]


def _currency(item: object) -> str:
    return str(getattr(item, "currency", "") or "")


def _kind(item: object) -> str:
    """What the item is, in words: its ``name`` if it has one (a WhatIfTable), else by its type."""
    name = getattr(item, "name", None)
    if isinstance(name, str) and name:
        return name
    names = {"Result": "Single-period allocation", "TransitionResult": "Transition", "StressReport": "Stress test",
             "BacktestResult": "Backtest"}
    return names.get(type(item).__name__, type(item).__name__)


#: The page's size limit in bytes (plotly.js's cartesian bundle is about 1.5 MB, the full one 4.8 MB), and the
#: budgets tried in turn to meet it: (table rows, chart marks). Every row or mark left out is said on the page.
MAX_BYTES = 5_000_000
BUDGETS = ((200, 400), (60, 150), (20, 50))


def render(items: Sequence[object], title: str | None = None) -> str:
    """The whole page for ``items`` (a Result, a TransitionResult, a WhatIfTable...), each with its sections: with
    the largest budget whose page fits in MAX_BYTES (the smallest budget's page otherwise)."""
    for rows, marks in BUDGETS:
        page = _page(items, title, Context(rows=rows, marks=marks))
        if len(page.encode("utf-8")) < MAX_BYTES:
            break
    return page


def _page(items: Sequence[object], title: str | None, ctx: Context) -> str:
    used: set[str] = set()
    parts, links = [], []
    for item in items:
        ctx.currency = _currency(item) or ctx.currency
        for block in _blocks(item, ctx, compact=False):
            heading = block.title if len(items) == 1 else f"{_kind(item)}: {block.title}"
            anchor = _anchor(heading, used)
            links.append(f'<a href="#{anchor}">{escape(heading)}</a>')
            about = f'<p class="about">{escape(block.about)}</p>' if block.about else ""
            parts.append(f'<section id="{anchor}"><h2>{escape(heading)}</h2>{about}{block.body}</section>')
    title = title or "allocator report: " + ", ".join(dict.fromkeys(_kind(i).lower() for i in items))
    currency = ", ".join(dict.fromkeys(c for c in map(_currency, items) if c))
    # plotly.js after the content: the text and tables show while the browser compiles it, then LOADER draws the
    # charts queued above it.
    bundle = plotly_bundle() if ctx.charts else None
    script = f'<script type="text/javascript">{bundle.script}\n{LOADER}</script>' if bundle else ""
    note = f"<!-- {escape(bundle.note)} -->" if bundle else ""

    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title>{note}<style>{STYLE}</style></head>"
            f'<body data-charts="{ctx.charts}"><header><h1>{escape(title)}</h1>'
            f"<p>{escape(' · '.join(filter(None, [', '.join(_kind(i) for i in items), currency])))}</p>"
            f"<nav>{''.join(links)}</nav></header><main>{''.join(parts)}</main>"
            f"<footer><p>{escape(SIGN_CONVENTION)}</p><p>Written by allocator {escape(version('allocator'))}; opens "
            "offline (no network request).</p></footer>"
            f"{script}</body></html>\n")


def render_compact(item: object) -> str:
    """The compact form (notebooks): the compact sections' tables and figures, no charts, no script."""
    ctx = Context(currency=_currency(item), compact=True)
    parts = [f"<h4>{escape(block.title)}</h4>{block.body}" for block in _blocks(item, ctx, compact=True)]
    style = ("<style>.allocator-report table{border-collapse:collapse}.allocator-report td,.allocator-report th"
             "{padding:2px 8px}.allocator-report td.num{text-align:right}.allocator-report dl.facts{display:grid;"
             "grid-template-columns:max-content 1fr;gap:2px 12px}.allocator-report dl.facts div{display:contents}"
             ".allocator-report dd{margin:0}.allocator-report dt{font-weight:600}</style>")
    return f'<div class="allocator-report">{style}{"".join(parts)}</div>'
