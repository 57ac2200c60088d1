"""The result object: JSON round trip, DataFrame views, determinism across fresh processes."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from helpers import PROBLEMS

import allocator


@pytest.fixture(scope="module")
def result(desk):
    return allocator.optimize(desk)


def test_json_round_trip(result):
    text = result.to_json()
    again = allocator.Result.from_json(text)
    assert again == result
    data = json.loads(text)
    assert data["status"] == "optimal"
    assert set(data["objective"]) == {"total", "carry", "transfer", "hedging"}
    assert {"step", "kind", "asset", "from", "to", "quantity", "value", "cost"} <= set(data["plan"][0])
    assert {"id", "requirement", "pnl", "required", "collateral", "excess", "shadow_price"} <= set(data["accounts"][0])
    assert {"asset", "location", "quantity", "value"} <= set(data["targets"][0])
    assert {"solver", "status", "setup_seconds", "solve_seconds"} <= set(data["diagnostics"])


def test_frames(result, desk):
    accounts = result.accounts_frame
    assert list(accounts.index) == [a.id for a in desk.accounts]
    assert (accounts["collateral"] >= accounts["required"]).all()
    plan = result.plan_frame
    assert list(plan.index) == list(range(1, len(result.plan) + 1))
    assert {"from", "to", "asset", "quantity"} <= set(plan.columns)
    targets = result.targets_frame
    assert isinstance(targets, pd.DataFrame)
    assert targets["value"].sum() == pytest.approx(sum(h.quantity * next(a.price for a in desk.assets
                                                                          if a.id == h.asset)
                                                       for h in desk.holdings), rel=1e-9)
    assert (plan["cost"].sum()) == pytest.approx(result.objective.transfer, rel=1e-9)


def test_pnl_sits_beside_the_requirement_and_older_json_reads_as_zero(result):
    """The positions' P&L since their last mark (docs/what-if.md): 0 without a what-if, and a result written
    before the column existed reads with 0 (nothing was re-marked then)."""
    accounts = result.accounts_frame
    assert list(accounts.columns[:3]) == ["requirement", "pnl", "required"]
    assert (accounts["pnl"] == 0.0).all()
    data = json.loads(result.to_json())
    for row in data["accounts"]:
        del row["pnl"]
    assert allocator.Result.from_json(json.dumps(data)) == result


def test_infeasible_result_round_trips():
    with pytest.raises(allocator.InfeasibleError) as caught:
        allocator.optimize(allocator.load_problem(PROBLEMS / "infeasible.toml"))
    result = caught.value.result
    assert allocator.Result.from_json(result.to_json()) == result
    assert result.shortfalls_frame.to_dict("records") == [{"account": "lender", "amount": pytest.approx(1.25e6),
                                                           "constraint": "coverage"}]


def test_same_input_gives_byte_identical_json_across_processes():
    script = ("import allocator,sys; p=allocator.load_problem(sys.argv[1]); "
              "sys.stdout.write(allocator.optimize(p).to_json(timings=False))")
    outputs = {subprocess.run([sys.executable, "-c", script, str(PROBLEMS / "desk.toml")], check=True,
                              capture_output=True, text=True).stdout for _ in range(2)}
    assert len(outputs) == 1
    assert "seconds" not in outputs.pop()
