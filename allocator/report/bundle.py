"""Which plotly.js the page embeds: the cartesian partial bundle shipped with allocator, or plotly's full one.

plotly's Python package ships the full plotly.js (about 4.8 MB: maps, 3D, WebGL, finance traces...), and headless
Chromium spends 2.2-2.6 s parsing it before a chart can be drawn. The report draws only bars, lines (scatter),
boxes and heatmaps, so the page embeds plotly.js's official cartesian partial bundle instead (npm package
``plotly.js-cartesian-dist-min``, MIT, about 1.5 MB), vendored at the *same* plotly.js version as the plotly
package's (``vendor/``; docs/dependencies.md): the figures plotly.py writes are those the bundle reads.

The full bundle is embedded instead, and the page's head says so in a comment, when the vendored file is missing or
its version is not the plotly package's (an upgraded plotly writes figures for a newer plotly.js); the tests pin
the shipped pair (tests/test_report_bundle.py), so a release never takes that path. Every chart must use a trace
type of ``CARTESIAN_TRACES`` (the same tests render every report case and check each ``Plotly.newPlot`` call).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

#: The vendored bundle, and its package name and version as published on npm (vendor/README.md).
VENDORED = "plotly-cartesian.min.js"
PACKAGE = "plotly.js-cartesian-dist-min"

#: The trace types the cartesian bundle draws (its package README: "Contains trace modules ..."). Not there:
#: waterfall, funnel, candlestick, ohlc, the gl, 3D, map, polar and ternary-only traces but scatterternary.
CARTESIAN_TRACES = frozenset({"bar", "box", "contour", "heatmap", "histogram", "histogram2d", "histogram2dcontour",
                              "image", "pie", "scatter", "scatterternary", "violin"})

#: The bundle's first comment names it: "plotly.js (cartesian - minified) v4.1.1".
_BANNER = re.compile(r"plotly\.js \(cartesian - minified\) v(\d+\.\d+\.\d+\S*)")


@dataclass(frozen=True)
class Bundle:
    """plotly.js as the page embeds it: the script, its version, and the note the page's head carries."""

    script: str
    version: str
    cartesian: bool
    note: str


def vendored_version(script: str) -> str | None:
    """The plotly.js version a cartesian bundle names in its banner (None: not a cartesian bundle)."""
    found = _BANNER.search(script[:500])
    return found.group(1) if found else None


def choose(vendored: str | None, plotly_version: str) -> Bundle:
    """The cartesian bundle ``vendored`` (its text, None when missing) if its version is ``plotly_version`` (the
    plotly package's plotly.js), else the plotly package's full bundle, with a note saying why."""
    version = vendored_version(vendored) if vendored is not None else None
    if vendored is not None and version == plotly_version:
        return Bundle(vendored, version, True, f"Charts drawn by plotly.js {version}, its cartesian partial bundle "
                      f"({PACKAGE}, MIT license), embedded once below.")
    from plotly.offline import get_plotlyjs

    why = ("the cartesian bundle shipped with allocator is missing" if vendored is None else
           f"the cartesian bundle shipped with allocator is plotly.js {version or 'of no known version'}, not the "
           f"plotly package's {plotly_version}")
    return Bundle(str(get_plotlyjs()), plotly_version, False, f"Charts drawn by plotly.js {plotly_version}, the full "
                  f"bundle of the plotly package (about 4.8 MB, slower to open): {why}.")


@cache
def plotly_bundle() -> Bundle:
    """The bundle the page embeds (read once per process)."""
    from plotly.offline import get_plotlyjs_version

    resource = files("allocator.report").joinpath("vendor", VENDORED)
    vendored = resource.read_text(encoding="utf-8") if resource.is_file() else None
    return choose(vendored, str(get_plotlyjs_version()))
