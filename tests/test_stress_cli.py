"""``allocator stress``: the report on stdout and in JSON, CSV or Parquet; a result's targets; usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner
from helpers import PROBLEMS

import allocator
from allocator.analysis.stress import StressReport, stress
from allocator.cli import main

DESK = str(PROBLEMS / "stress-desk.toml")


def invoke(*args: str) -> tuple[int, str, str]:
    run = CliRunner().invoke(main, ["stress", *args])
    return run.exit_code, run.stdout, run.stderr


def test_episodes_to_json_with_the_summary_printed(tmp_path: Path) -> None:
    out = tmp_path / "stress.json"
    code, stdout, stderr = invoke(DESK, "--episode", "2022-11-ftx", "--episode", "2022-05-luna", "-o", str(out))
    assert code == 0, stderr
    assert "liquidated (round) per account" in stdout and "round 2" in stdout
    assert stdout.strip().endswith(f"2 episodes, 5 liquidations; written to {out}")
    report = StressReport.from_json(out.read_text(encoding="utf-8"))
    expected = stress(allocator.load_problem(DESK), episodes=["2022-11-ftx", "2022-05-luna"])
    assert report == expected
    assert json.loads(out.read_text(encoding="utf-8"))["summary"][0]["cascade_accounts"] == ["prime-broker"]


def test_csv_and_parquet_hold_the_account_rows_and_the_draws_beside_them(tmp_path: Path) -> None:
    code, stdout, stderr = invoke(DESK, "--episode", "2020-03-covid", "--draws", "30", "--seed", "4", "-o",
                                  str(tmp_path / "s.csv"), "--quiet")
    assert code == 0, stderr
    assert stdout.strip() == (f"1 episodes, 2 liquidations; 30 draws, P(any liquidation) 0.0000; written to "
                              f"{tmp_path / 's.csv'}, {tmp_path / 's.draws.csv'}")
    rows = pd.read_csv(tmp_path / "s.csv")
    assert list(rows["account"]) == ["hyperliquid", "aave", "binance", "prime-broker"]
    assert len(pd.read_csv(tmp_path / "s.draws.csv")) == 30
    code, _, stderr = invoke(DESK, "--episode", "2022-11-ftx", "-o", str(tmp_path / "s.parquet"), "--quiet")
    assert code == 0, stderr
    frame = pd.read_parquet(tmp_path / "s.parquet")
    assert frame.set_index("account").loc["prime-broker", "round"] == 2


def test_a_results_targets_are_stressed(tmp_path: Path) -> None:
    problem = allocator.load_problem(DESK)
    result = allocator.optimize(problem)
    path = tmp_path / "desk.result.json"
    path.write_text(result.to_json(), encoding="utf-8")
    out = tmp_path / "r.json"
    code, _, stderr = invoke(DESK, "--result", str(path), "--episode", "2022-06-3ac", "--no-cascade", "-o", str(out),
                             "--quiet")
    assert code == 0, stderr
    report = StressReport.from_json(out.read_text(encoding="utf-8"))
    assert report.holdings == "result" and report.cascade is False
    assert report == stress(problem, result, episodes=["2022-06-3ac"], cascade=False)


def test_usage_and_input_errors_exit_2_without_a_traceback(tmp_path: Path) -> None:
    code, _, stderr = invoke(DESK, "--episode", "nope", "--proxy", "SOL=NOPE")
    assert code == 2 and "Traceback" not in stderr
    assert stderr.splitlines() == [  # every issue at once
        "error: episodes[0]: unknown episode 'nope' (known: 2020-03-covid, 2021-05-crash, 2022-05-luna, "
        "2022-06-3ac, 2022-11-ftx, 2023-03-usdc)",
        "error: stress.proxies.SOL: 'NOPE' has no market file (give a ticker of fixtures/market/ or 'constant')"]
    assert invoke(DESK, "--current", "--result", "x.json")[0] == 2
    assert invoke(DESK, "-o", str(tmp_path / "x.txt"))[0] == 2
    assert invoke(DESK, "--proxy", "SOL")[0] == 2
    (tmp_path / "bad.json").write_text("{}", encoding="utf-8")
    code, _, stderr = invoke(DESK, "--result", str(tmp_path / "bad.json"))
    assert code == 2 and "is not an optimize result" in stderr


def test_notes_name_assets_held_at_todays_price() -> None:
    code, _, stderr = invoke(DESK, "--episode", "2020-03-covid", "--proxy", "SOL=constant", "--quiet")
    assert code == 0 and stderr == ""  # a constant on purpose is not a note
    problem = allocator.load_problem(DESK)
    data = problem.model_dump(by_alias=True)
    data["stress"] = None
    report = stress(allocator.Problem.model_validate(data), episodes=["2020-03-covid"])
    assert report.notes == ["2020-03-covid: SOL no data and no proxy: held at today's price"]
