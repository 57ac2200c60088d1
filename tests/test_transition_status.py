"""Statuses that say what happened (issue 11, item 4): "optimal" only for an exact optimum; a MILP stopped at a
limit is "feasible (<limit>)" with HiGHS's gap and exit code 6; the solver that chose the moves is named; move
limits without a method get the heuristic (said in a note); ``integer`` without move limits says it has nothing
to enforce; MILP progress is read from HiGHS's log."""

from __future__ import annotations

import json
import logging
import time

import pytest
from click.testing import CliRunner
from transition_helpers import TINY, tiny

import allocator
from allocator.cli import EXIT_FEASIBLE, main
from allocator.transition import plan_transition, validate_transition
from allocator.transition._data import TransitionData
from allocator.transition._limits import with_move_limits
from allocator.transition._milp_log import LOGGER, MilpWatch, parse_row, stop_reason
from allocator.transition._outcome import outcome
from allocator.transition._periods import Periods
from allocator.transition._program import build
from allocator.transition._report import transition_summary
from allocator.transition._solve import solve, verified

#: Two moves per period: the tiny desk must sell and ship in alternate periods (a MILP HiGHS needs ~130 nodes for).
LIMITED = {"periods": 6, "max_moves_per_period": 2}


def _with_milp_options(problem: allocator.Problem, **milp_options: object):
    """plan_transition's MILP path with extra HiGHS options (a node limit): the relaxation as api.py builds it."""
    periods = Periods.from_problem(problem)
    data = TransitionData.from_problem(problem, periods)
    program = build(periods, data, coverage_margin=2e-6, limit_margin=1e-6)
    record = solve(program, "CLARABEL")
    replay = verified(program, record)
    relaxation = outcome(problem, replay, record, mode="convex", total_seconds=0.0)
    return with_move_limits(problem, program, replay, relaxation, "CLARABEL", integer=True, time_limit=None,
                            started=time.perf_counter(), notes=[], milp_options=milp_options)


def test_a_milp_stopped_at_its_node_limit_is_feasible_never_optimal():
    """One node of branch and bound: HiGHS stops with an incumbent and a gap (52.6% on this machine); should it
    ever prove optimality at the root, the status must say optimal instead."""
    problem = tiny(schedule=LIMITED)
    result = _with_milp_options(problem, mip_max_nodes=1)
    assert validate_transition(problem, result) == []
    d = result.diagnostics
    assert (d.mode, d.solver, d.schedule_solver) == ("milp", "HIGHS", "CLARABEL")
    if d.status == "optimal":
        assert result.status == "optimal" and (d.milp_gap or 0.0) <= 1e-4
    else:
        assert result.status == "feasible"
        assert d.status in ("feasible (node or solution limit)", "feasible (heuristic schedule)")
        assert d.milp_gap is not None and d.milp_gap > 0
        line = transition_summary(result).splitlines()[0]
        assert line.startswith(f"status: {d.status}, MILP gap {d.milp_gap:.2%} (milp, moves by HIGHS, schedule by "
                               "CLARABEL")


def test_a_milp_stopped_without_a_schedule_returns_the_heuristics_and_says_so():
    """No node at all: HiGHS stops before any incumbent (its values are then not a schedule; before, they were read
    as one). The heuristic's schedule is returned, status "feasible (heuristic schedule)", with a note."""
    problem = tiny(schedule={"periods": 6, "min_move_value": 1_000_000.0})
    result = _with_milp_options(problem, mip_max_nodes=0)
    assert validate_transition(problem, result) == []
    d = result.diagnostics
    if d.status == "feasible (heuristic schedule)" and not any("did not improve" in n for n in d.notes):
        assert any(n.startswith("the MILP gave no schedule (stopped without a schedule") for n in d.notes)
    else:  # HiGHS found an incumbent at the root anyway
        assert d.status.startswith("feasible (") or d.status == "optimal"


def test_a_milp_solved_to_its_gap_is_optimal():
    problem = tiny(schedule=LIMITED)
    result = plan_transition(problem, integer=True, time_limit=60)
    d = result.diagnostics
    assert result.status == "optimal" and d.status == "optimal"
    assert d.milp_gap is not None and d.milp_gap <= 1e-4
    assert (d.solver, d.schedule_solver) == ("HIGHS", "CLARABEL")


def test_the_heuristic_is_feasible_not_optimal_and_exits_6(tmp_path):
    path = tmp_path / "limited.json"
    path.write_text(json.dumps({**TINY, "schedule": {**TINY["schedule"], "min_move_value": 1_000_000.0}}))
    result = plan_transition(allocator.load_problem(path), heuristic=True)
    assert result.status == "feasible" and result.diagnostics.status == "feasible (heuristic)"
    run = CliRunner().invoke(main, ["transition", str(path), "-o", str(tmp_path / "out.json"), "--heuristic"])
    assert run.exit_code == EXIT_FEASIBLE == 6, run.output
    assert run.output.startswith("status: feasible (heuristic: moves by HIGHS, schedule by CLARABEL")
    assert "not proven optimal" in run.output


def test_move_limits_without_a_method_get_the_heuristic_and_say_so(tmp_path):
    problem = tiny(schedule={"max_moves": 8, "min_move_value": 500_000.0})
    result = plan_transition(problem)
    assert result.diagnostics.mode == "heuristic" and result.diagnostics.gap is not None
    assert any("met by the heuristic (the default)" in note for note in result.diagnostics.notes)
    assert validate_transition(problem, result) == []


def test_integer_without_move_limits_has_nothing_to_enforce(tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY))
    result = plan_transition(allocator.load_problem(path), integer=True)
    assert result.status == "optimal" and result.diagnostics.mode == "convex"
    assert any("integer=True has nothing to enforce" in note for note in result.diagnostics.notes)
    run = CliRunner().invoke(main, ["transition", str(path), "-o", str(tmp_path / "out.json"), "--integer"])
    assert run.exit_code == 0, run.output
    assert "nothing to enforce" in run.output


HIGHS_LOG = """\
        Nodes      |    B&B Tree     |            Objective Bounds              |  Dynamic Constraints |       Work
rc  Proc. InQueue |  Leaves   Expl. | BestBound       BestSol              Gap |   Cuts   InLp Confl. | LpIters     Time

        0       0         0   0.00%   -2216.443145    inf                  inf        0      0      0         0     0.0s
L       0       0         0   0.00%   0.1650012448    0.3486198765      52.67%      139     12     64        71     0.1s
        1       1         1   0.00%   0.1650012448    0.3482066522      52.61%      139     10     64       909     0.2s

Solving report
  Status            Solution limit reached
  Primal bound      0.34820665219
"""


def test_highs_log_rows_and_stop_reason_are_read():
    rows = [row for row in map(parse_row, HIGHS_LOG.splitlines()) if row is not None]
    assert len(rows) == 3
    assert rows[0].incumbent is None and rows[0].gap == "inf"
    last = rows[-1]
    assert (last.seconds, last.bound, last.incumbent, last.gap) == (0.2, 0.1650012448, 0.3482066522, "52.61%")
    assert stop_reason(HIGHS_LOG) == "Solution limit reached"
    watch = MilpWatch(to_currency=1000.0)
    assert watch.describe(last) == "MILP 0 s: incumbent 348.21, bound 165.00, gap 52.61%"
    assert watch.describe(rows[0], 12.3) == "MILP 12 s: incumbent none yet, bound -2,216,443.15, gap inf"


def test_progress_is_logged_from_a_real_milp_without_crashing(caplog):
    """A real MILP watched every 10 ms: whatever the timing, the watch ends with HiGHS's stop reason and last row,
    and any progress line logged reads as one."""
    problem = tiny(schedule=LIMITED)
    periods = Periods.from_problem(problem)
    data = TransitionData.from_problem(problem, periods)
    program = build(periods, data, coverage_margin=2e-6, limit_margin=1e-6, pwl=True, max_moves_per_period=2)
    with caplog.at_level(logging.INFO, logger=LOGGER.name), MilpWatch(data.money * data.rate, every=0.01) as watch:
        record = solve(program, "HIGHS", 60.0, mip_rel_gap=1e-4, **watch.options)
    assert record.status == "optimal"
    assert watch.stop_reason == "Optimal"
    assert watch.last is not None and watch.last.incumbent == pytest.approx(program.problem.value, rel=1e-6)
    assert all(r.getMessage().startswith("MILP ") for r in caplog.records if r.name == LOGGER.name)
    assert not watch.path.exists()  # the temporary log is removed
