"""What the backtest and the live rebalance refuse, each with one located issue: margin modes, hedges and delta
limits (not modelled: refused rather than ignored, docs/backtest.md section 10), and dates that are not dates."""

from __future__ import annotations

import pytest
from helpers import PROBLEMS

import allocator
from allocator.errors import InputError


def _locations(error: pytest.ExceptionInfo[InputError]) -> list[str]:
    return [issue.location for issue in error.value.issues]


def test_a_margin_mode_is_refused_naming_the_field() -> None:
    data = allocator.load_problem(PROBLEMS / "stress-desk.toml").model_dump(by_alias=True)
    ids = [a["id"] for a in data["accounts"]]
    data["accounts"][ids.index("hyperliquid")]["margin_mode"] = "isolated"  # expanded into sub-accounts
    data["accounts"][ids.index("binance")]["margin_mode"] = "cross"
    problem = allocator.Problem.model_validate(data)
    for run in (lambda: allocator.backtest(problem, "2024-01-01", "2024-01-05", ["waterfall"]),
                lambda: allocator.rebalance(problem, "waterfall")):
        with pytest.raises(InputError) as error:
            run()
        assert _locations(error) == [f"accounts[{ids.index('hyperliquid')}].margin_mode",
                                     f"accounts[{ids.index('binance')}].margin_mode"]
        assert "rulebook's own mode" in str(error.value)


def test_hedges_are_refused_naming_the_field() -> None:
    problem = allocator.load_problem(PROBLEMS / "hedge.toml")
    with pytest.raises(InputError) as error:
        allocator.backtest(problem, "2024-01-01", "2024-01-05", ["waterfall"])
    assert "hedges" in _locations(error)
    assert "no backtest policy trades hedges" in str(error.value)


def test_dates_that_are_not_dates_are_input_errors(desk) -> None:
    with pytest.raises(InputError) as error:
        allocator.backtest(desk, "2024-13-01", "soon", ["waterfall"])
    assert _locations(error) == ["start", "end"]
    assert "'2024-13-01' is not a date" in str(error.value)
