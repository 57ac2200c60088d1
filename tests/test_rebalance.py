"""``allocator rebalance`` and ``allocator backtest`` on the command line: "no action" and exit 0 inside the band,
the plan and exit 10 outside it (4 when it needs funding), exit 2 on bad input; the backtest's files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from backtest_cases import problem
from click.testing import CliRunner
from helpers import PROBLEMS

import allocator
from allocator.analysis.backtest.rebalance import RebalancePlan, rebalance
from allocator.cli import main

DESK = str(PROBLEMS / "desk.toml")


def invoke(*args: str) -> tuple[int, str, str]:
    run = CliRunner().invoke(main, list(args))
    return run.exit_code, run.stdout, run.stderr


def test_no_action_inside_the_band() -> None:
    code, stdout, _ = invoke("rebalance", DESK, "--band", "0.9:1.6", "--quiet")
    assert code == 0
    assert stdout.strip() == "no action: every account is inside its band (optimized)"


def test_outside_the_band_the_safe_plan_is_written(tmp_path: Path) -> None:
    """desk.toml's cex-perps is at 0.951 of its requirement: the optimized policy re-solves and writes a safe plan
    that brings every account to the target, exit 10."""
    out = tmp_path / "plan.json"
    code, stdout, stderr = invoke("rebalance", DESK, "-o", str(out))
    assert code == 10, stderr
    assert stdout.strip().endswith(f"plan written to {out}") and "action needed (cex-perps at 0.951)" in stdout
    plan = RebalancePlan.from_json(out.read_text(encoding="utf-8"))
    assert plan.action and plan.safe and plan.steps and not plan.funding
    after = plan.accounts_frame.set_index("account")["coverage_after"]
    assert after.min() >= 1.3 - 1e-6
    # what the command decided is what the library decides
    assert plan == rebalance(allocator.load_problem(DESK), "optimized")


@pytest.mark.parametrize("policy", ["waterfall", "pro_rata", "all_stable", "optimized_predictive"])
def test_every_policy_decides_today_as_in_a_backtest(policy: str) -> None:
    params = {"haircuts": "ewma"} if policy == "optimized_predictive" else {}  # GARCH's fits: the slow tests
    plan = rebalance(allocator.load_problem(DESK), policy, **params)
    assert plan.action and plan.policy == policy
    frame = plan.accounts_frame.set_index("account")
    assert frame.loc["cex-perps", "coverage_after"] >= 1.3 - 1e-6


def test_a_plan_without_a_safe_order_exits_4(tmp_path: Path) -> None:
    """isolated pools the venue's collateral in USDC, but the only BTC to sell for it is the venue's own: it must
    come home before it is sold, so the account dips below what it holds today (its floor): needs funding. 11 BTC
    (1.1M) cover the 1M requirement once pooled; with 9 the book could not be covered at all (exit 3, below)."""
    case = problem(holdings=[{"asset": "USDC", "location": "wallet", "quantity": 0.0},
                             {"asset": "BTC", "location": "venue", "quantity": 11.0}])
    path = tmp_path / "case.json"
    path.write_text(case.model_dump_json(by_alias=True), encoding="utf-8")
    code, stdout, stderr = invoke("rebalance", str(path), "--policy", "isolated", "-o", str(tmp_path / "p.json"))
    assert code == 4, stdout + stderr
    assert "needs_funding" in stderr
    # the plan says how much, and where: each funded step's account below its floor after it, replayed by hand
    plan = RebalancePlan.from_json((tmp_path / "p.json").read_text(encoding="utf-8"))
    short = [step for step in plan.steps if getattr(step, "needs_funding", False)]
    assert short and [f.step for f in plan.funding] == [step.step for step in short]
    terms = case.terms["venue"]
    price = {a.id: a.price for a in case.assets}
    held = {(h.asset, h.location): h.quantity for h in case.holdings}
    floor = min(sum((1.0 - h) * price[a] * held.get((a, "venue"), 0.0) for a, h in terms.eligible.items()),
                terms.required)
    for funding, step in zip(plan.funding, short, strict=True):
        assert funding.account == step.from_ == "venue"
        replayed = {**held}
        for earlier in plan.steps[:step.step]:
            if hasattr(earlier, "from_"):
                replayed[(earlier.asset, earlier.from_)] = replayed.get((earlier.asset, earlier.from_), 0.0) \
                    - earlier.quantity
                replayed[(earlier.asset, earlier.to)] = replayed.get((earlier.asset, earlier.to), 0.0) \
                    + earlier.quantity
            else:
                replayed[(earlier.sell, earlier.location)] -= earlier.quantity
                replayed[(earlier.buy, earlier.location)] = replayed.get((earlier.buy, earlier.location), 0.0) \
                    + (earlier.value - earlier.cost) / price[earlier.buy]
        collateral = sum((1.0 - h) * price[a] * replayed.get((a, "venue"), 0.0) for a, h in terms.eligible.items())
        assert funding.amount == pytest.approx(floor - collateral, rel=1e-9) and funding.amount > 0


def test_bad_input_exits_2() -> None:
    code, _, stderr = invoke("rebalance", DESK, "--policy", "nope")
    assert code == 2 and "unknown policy 'nope'" in stderr
    code, _, stderr = invoke("rebalance", DESK, "--band", "1.5")
    assert code == 2 and "LOW:HIGH" in stderr


def test_the_backtest_command_writes_its_files(tmp_path: Path) -> None:
    out = tmp_path / "bt"
    code, stdout, stderr = invoke("backtest", DESK, "--start", "2024-01-01", "--end", "2024-01-20", "--policy",
                                  "waterfall", "--policy", "optimized", "--band", "1.2:1.6", "-o", str(out))
    assert code == 0, stderr
    assert stdout.strip().endswith(f"20 days x 2 policies; written to {out}")
    assert "note: USTB: held at its price" in stderr
    daily = pd.read_parquet(out / "daily.parquet")
    summary = pd.read_csv(out / "summary.csv")
    assert summary["policy"].tolist() == ["waterfall", "optimized"]
    assert len(daily) == 20 * 2 * 4 and set(daily.columns) >= {"date", "policy", "account", "collateral",
                                                                 "requirement", "coverage", "equity", "pnl",
                                                                 "liquidated", "moves", "transfer_cost"}
    code, _, stderr = invoke("backtest", DESK, "--start", "2024-01-01", "--end", "2030-01-01", "-o", str(out))
    assert code == 2 and "after the last day of the market files" in stderr


def test_a_plan_that_leaves_an_account_short_says_so_and_exits_3(tmp_path: Path) -> None:
    """infeasible.toml: no move covers both accounts, so the optimized policy acts as the waterfall, which sends
    everything it can buy to the lender. The exchange keeps its 5 BTC: 5 x 100,000 x (1 - 0.05) = 475,000 against
    a requirement of 1,000,000, short by 525,000 after the plan. The plan says so; the command warns and exits 3,
    not 10 ("the plan is written and its order is safe")."""
    out = tmp_path / "plan.json"
    code, _, stderr = invoke("rebalance", str(PROBLEMS / "infeasible.toml"), "-o", str(out), "--quiet")
    assert code == 3, stderr
    assert "warning: exchange is 525,000.00 below its requirement after the plan" in stderr
    plan = RebalancePlan.from_json(out.read_text(encoding="utf-8"))
    assert plan.action and not plan.covered
    assert [(s.account, s.amount) for s in plan.shortfalls] == [("exchange", pytest.approx(525_000.0, abs=1e-6))]
    lines = plan.accounts_frame.set_index("account")
    assert lines.loc["lender", "collateral_after"] >= lines.loc["lender", "requirement"]  # the lender is covered
    # a covered book has no shortfalls
    assert rebalance(allocator.load_problem(DESK), "optimized").covered
