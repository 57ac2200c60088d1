"""Every exit code of every command, as the table in docs/cli.md states it: the table is read from the page, every
cell has a case here that ends with that code (real files, real solvers, in process), and no case is missing from
the table. The solves are small (the desk, a two-asset transition) so the whole file runs in seconds."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from backtest_cases import problem as backtest_problem
from click.testing import CliRunner
from helpers import PROBLEMS, ROOT
from transition_helpers import TINY

from allocator.cli import main

DESK = str(PROBLEMS / "desk.toml")
STRESS = str(ROOT / "fixtures" / "scenarios" / "desk-stress.toml")
Case = Callable[[Path], tuple[list[str], dict[str, str]]]


def _documented() -> set[tuple[str, int]]:
    """(command, code) for every non-empty cell of the exit-code table in docs/cli.md."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    table = text.split("## Exit codes", 1)[1]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    header = next(line for line in table.splitlines() if line.startswith("| command"))
    codes = [int(c) for c in re.findall(r"\|\s*(\d+)\s*(?=\|)", header)]
    cells = set()
    for row in rows:
        parts = [p.strip() for p in row.strip().strip("|").split("|")]
        command = parts[0].strip("`")
        cells |= {(command, code) for code, cell in zip(codes, parts[1:], strict=True) if cell}
    return cells


def _file(tmp: Path, name: str, data: dict | str) -> str:
    path = tmp / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


def _tiny(tmp: Path, **schedule: object) -> str:
    data = copy.deepcopy(TINY)
    data["schedule"].update(schedule)
    return _file(tmp, "tiny.json", data)


def _short(tmp: Path) -> str:
    data = copy.deepcopy(TINY)
    data["accounts"][0]["requirement"] = 50_000_000.0  # 100 BTC are 10M: nothing covers it
    return _file(tmp, "short.json", data)


def _bad_rulebooks(tmp: Path) -> dict[str, str]:
    folder = tmp / "rulebooks"
    folder.mkdir()
    (folder / "broken.toml").write_text('name = "broken"\nkind = "aave-v3"\n', encoding="utf-8")
    return {"ALLOCATOR_RULEBOOKS": str(folder)}


def _result(tmp: Path) -> str:
    path = tmp / "desk.result.json"
    run = CliRunner().invoke(main, ["optimize", DESK, "-o", str(path), "--quiet"])
    assert run.exit_code == 0, run.output
    return str(path)


def _batch_dir(tmp: Path) -> str:
    folder = tmp / "problems"
    folder.mkdir()
    (folder / "desk.toml").write_text(Path(DESK).read_text(encoding="utf-8"), encoding="utf-8")
    return str(folder)


def _no_safe_order(tmp: Path) -> str:
    """isolated pools the venue's collateral in USDC, but the only BTC to sell for it is at the venue: the account
    dips below today's collateral before the USDC arrives (tests/test_rebalance.py)."""
    case = backtest_problem(holdings=[{"asset": "USDC", "location": "wallet", "quantity": 0.0},
                                      {"asset": "BTC", "location": "venue", "quantity": 11.0}])
    return _file(tmp, "case.json", case.model_dump_json(by_alias=True))


CASES: dict[tuple[str, int], Case] = {
    ("optimize", 0): lambda t: (["optimize", DESK, "-o", str(t / "r.json")], {}),
    ("optimize", 2): lambda t: (["optimize", _file(t, "bad.json", {"assets": []}), "-o", str(t / "r.json")], {}),
    ("optimize", 3): lambda t: (["optimize", str(PROBLEMS / "infeasible.toml"), "-o", str(t / "r.json")], {}),
    ("optimize", 4): lambda t: (["optimize", str(PROBLEMS / "swap.toml"), "-o", str(t / "r.json")], {}),
    # a problem with risk cones given to an LP-only solver: the solver cannot return an optimum
    ("optimize", 5): lambda t: (["optimize", str(PROBLEMS / "perps-risk.toml"), "--solver", "HIGHS", "-o",
                                 str(t / "r.json")], {}),
    ("transition", 0): lambda t: (["transition", _tiny(t), "-o", str(t / "t.json")], {}),
    ("transition", 2): lambda t: (["transition", DESK, "-o", str(t / "t.json")], {}),  # no [schedule]
    ("transition", 3): lambda t: (["transition", _short(t), "-o", str(t / "t.json")], {}),
    # two moves per period: dropping moves one by one never gets there (tests/test_transition_limits.py)
    ("transition", 5): lambda t: (["transition", _tiny(t, max_moves_per_period=2), "--heuristic", "-o",
                                   str(t / "t.json")], {}),
    ("transition", 6): lambda t: (["transition", _tiny(t, min_move_value=1_000_000.0), "--heuristic", "-o",
                                   str(t / "t.json")], {}),
    ("whatif", 0): lambda t: (["whatif", DESK, STRESS, "-o", str(t / "w.csv")], {}),
    ("whatif", 2): lambda t: (["whatif", DESK, STRESS, "-o", str(t / "w.xlsx")], {}),
    ("batch", 0): lambda t: (["batch", _batch_dir(t), "-o", str(t / "out"), "--workers", "1"], {}),
    ("batch", 2): lambda t: (["batch", _batch_dir(t), "-o", "-"], {}),
    ("validate", 0): lambda t: (["validate", DESK], {}),
    ("validate", 2): lambda t: (["validate", _file(t, "bad.json", {"assets": []})], {}),
    ("schema", 0): lambda t: (["schema", "batch"], {}),
    ("schema", 2): lambda t: (["schema", "portfolio"], {}),
    ("rulebooks", 0): lambda t: (["rulebooks"], {}),
    ("rulebooks", 2): lambda t: (["rulebooks"], _bad_rulebooks(t)),
    ("example", 0): lambda t: (["example", "desk", "-o", str(t / "desk.toml")], {}),
    ("example", 2): lambda t: (["example", "nope"], {}),
    ("report", 0): lambda t: (["report", _result(t), "-o", str(t / "report.html")], {}),
    ("report", 2): lambda t: (["report", str(t / "no-such-result.json")], {}),
    ("stress", 0): lambda t: (["stress", DESK, "--episode", "2022-11-ftx", "--quiet"], {}),
    ("stress", 2): lambda t: (["stress", DESK, "--current", "--result", _result(t)], {}),
    ("modes", 0): lambda t: (["modes", DESK, "-o", str(t / "m.csv")], {}),
    ("modes", 2): lambda t: (["modes", _file(t, "bad.json", {"assets": []})], {}),
    ("modes", 5): lambda t: (["modes", str(PROBLEMS / "perps-risk.toml"), "--solver", "HIGHS"], {}),
    ("hedges", 0): lambda t: (["hedges", str(PROBLEMS / "hedge.toml"), "-o", str(t / "h.json")], {}),
    ("hedges", 2): lambda t: (["hedges", _file(t, "bad.json", {"assets": []})], {}),
    ("hedges", 3): lambda t: (["hedges", str(PROBLEMS / "infeasible.toml")], {}),
    ("hedges", 5): lambda t: (["hedges", str(PROBLEMS / "perps-risk.toml"), "--solver", "HIGHS"], {}),
    ("backtest", 0): lambda t: (["backtest", DESK, "--start", "2024-01-01", "--end", "2024-01-05", "--policy",
                                 "waterfall", "-o", str(t / "bt"), "--quiet"], {}),
    ("backtest", 2): lambda t: (["backtest", DESK, "--start", "2024-01-01", "--end", "2030-01-01"], {}),
    ("rebalance", 0): lambda t: (["rebalance", DESK, "--band", "0.9:1.6", "--quiet"], {}),
    ("rebalance", 2): lambda t: (["rebalance", DESK, "--policy", "nope"], {}),
    # no move covers the book: exchange stays 525,000 below its requirement (tests/test_rebalance.py)
    ("rebalance", 3): lambda t: (["rebalance", str(PROBLEMS / "infeasible.toml"), "-o", str(t / "p.json")], {}),
    ("rebalance", 4): lambda t: (["rebalance", _no_safe_order(t), "--policy", "isolated", "-o", str(t / "p.json")],
                                 {}),
    ("rebalance", 10): lambda t: (["rebalance", DESK, "-o", str(t / "p.json"), "--quiet"], {}),
}


def test_the_table_in_the_docs_and_the_cases_here_are_the_same():
    assert set(CASES) == _documented()


@pytest.mark.parametrize(("command", "code"), sorted(CASES), ids=[f"{c}-{n}" for c, n in sorted(CASES)])
def test_exit_code(tmp_path, command, code):
    args, env = CASES[(command, code)](tmp_path)
    run = CliRunner().invoke(main, args, env=env)
    assert run.exit_code == code, (args, run.output)
    assert run.exception is None or isinstance(run.exception, SystemExit), run.exception
    assert "Traceback" not in run.output
    if code == 2:
        assert "error" in run.stderr.lower(), run.stderr  # a usage or input error says so on standard error
