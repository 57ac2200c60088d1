"""No policy sees a price after its day: change every price after a day (closes, lows, highs, by random factors)
and every decision up to that day, and everything recorded up to it, stays the same, for every policy, the
predictive one with GARCH(1,1) included (its forecasts are computed once over the whole history and served one day
at a time: this is what makes that safe)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import allocator
from allocator.analysis.backtest import MarketHistory, backtest

POLICIES = ["isolated", "all_stable", "waterfall", "pro_rata", "optimized",
            {"policy": "optimized_predictive", "haircuts": "ewma"},
            {"policy": "optimized", "haircuts": "trailing", "label": "reactive"}]
GARCH = [{"policy": "optimized_predictive", "haircuts": "garch"}]
CUT = "2020-03-08"


def _perturbed(history: MarketHistory, after: str, seed: int) -> MarketHistory:
    t = int(history.dates.get_loc(pd.Timestamp(after)))
    factor = np.ones_like(history.close)
    factor[t + 1:] = np.exp(np.random.default_rng(seed).normal(0.0, 0.2, size=factor[t + 1:].shape))
    low = factor.copy()
    low[t + 1:] *= 0.9
    return MarketHistory(history.dates, history.assets, history.close * factor, history.low * low,
                         history.high * factor, history.start, history.segments)


@pytest.mark.parametrize("policies", [POLICIES, pytest.param(GARCH, marks=pytest.mark.slow, id="garch")])
def test_decisions_up_to_a_day_do_not_depend_on_later_prices(desk: allocator.Problem,
                                                             policies: list[object]) -> None:
    """Every policy (GARCH's forecasts take about 10 s to fit: outside CI; the fast run covers the same serving
    of forecasts with EWMA and the trailing volatility)."""
    history = MarketHistory.from_market(desk, "2020-02-25", "2020-03-20")
    base = backtest(desk, policies=policies, history=history)
    other = backtest(desk, policies=policies, history=_perturbed(history, CUT, 1))
    for frame in ("daily", "treasury"):
        before = getattr(base, frame)
        after = getattr(other, frame)
        pd.testing.assert_frame_equal(before[before["date"] <= CUT].reset_index(drop=True),
                                      after[after["date"] <= CUT].reset_index(drop=True))
        assert not getattr(base, frame)[before["date"] > CUT].reset_index(drop=True).equals(
            after[after["date"] > CUT].reset_index(drop=True))  # the future did change
    assert base.treasury[base.treasury["date"] <= CUT]["moves"].sum() > 0  # decisions were made before the cut


def test_the_state_holds_no_price_after_its_day(desk: allocator.Problem) -> None:
    """What a policy is handed: its history ends on its day."""
    seen = []

    class Spy:
        name = "spy"

        def decide(self, state):  # type: ignore[no-untyped-def]
            seen.append((state.date, state.history.dates[-1].date().isoformat(), len(state.history.close)))
            from allocator.analysis.backtest import Moves
            return Moves()

    backtest(desk, "2024-01-01", "2024-01-05", [Spy()])
    assert [day for day, last, _ in seen] == [last for _, last, _ in seen]
    assert all(rows == seen[0][2] + i for i, (_, _, rows) in enumerate(seen))
