"""The one solve ladder (allocator/solve/_ladder.py), in both horizons, with each solver status forced for real.

A status is forced by giving the FIRST solves real solver options that end them that way on every machine (an
iteration limit of one, a step size no interior point can progress with, a reduced tolerance reached within three
iterations); each test checks that the forced solve did end with that status, so no assertion depends on which
floating-point path a solver happens to take. Later solves (the elastic diagnosis, the retries) run as usual.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
from helpers import PROBLEMS, assert_verified
from transition_helpers import TINY, tiny

import allocator
import allocator.solve._solvers as solvers
from allocator.solve._diagnose import Diagnosis
from allocator.solve._ladder import NO_MARGIN, WIDER_MARGINS, climb, failed_note, widened_note
from allocator.solve._status import Status
from allocator.transition import TransitionInfeasibleError, plan_transition, validate_transition

#: Options that end a solve a chosen way on any machine (every test checks the status it got): an iteration limit
#: of one; a step size no interior point progresses with ("InsufficientProgress"); five iterations with reduced
#: tolerances any iterate meets ("AlmostSolved" or "AlmostPrimalInfeasible", by the problem); no simplex iteration.
FORCE = {
    "limit": {"max_iter": 1},
    "stuck": {"max_step_fraction": 1e-9},
    "almost": {"max_iter": 5, "reduced_tol_feas": 1e30, "reduced_tol_gap_abs": 1e30, "reduced_tol_gap_rel": 1e30,
               "reduced_tol_ktratio": 1e30},
    "no_simplex": {"simplex_iteration_limit": 0, "presolve": "off"},
}


def force(monkeypatch: pytest.MonkeyPatch, how: str, count: int = 1) -> list[solvers.SolveRecord]:
    """Give the first ``count`` solves the options FORCE[how]; returns every record, in order."""
    real = solvers._run_once
    records: list[solvers.SolveRecord] = []

    def run_once(problem, name, settings):
        forced = len(records) < count
        record = real(problem, name, {**settings, **FORCE[how]} if forced else settings)
        records.append(record)
        return record

    monkeypatch.setattr(solvers, "_run_once", run_once)
    return records


#: (solver, how, solves forced, the status they end with). An inaccurate first solve is solved again looser
#: (solvers.run), so an inaccurate status reaches the ladder only when that retry is forced too.
INFEASIBLE_STOPS = [("CLARABEL", "limit", 1, Status.USER_LIMIT), ("CLARABEL", "stuck", 1, Status.SOLVER_ERROR),
                    ("CLARABEL", "almost", 1, Status.INFEASIBLE_INACCURATE),
                    ("HIGHS", "no_simplex", 1, Status.USER_LIMIT)]
#: A numerical failure ("stuck") on a covered problem is solved again without margins instead (next tests).
FEASIBLE_STOPS = [("CLARABEL", "limit", 1, Status.USER_LIMIT), ("CLARABEL", "almost", 2, Status.OPTIMAL_INACCURATE),
                  ("HIGHS", "no_simplex", 1, Status.USER_LIMIT)]


@pytest.mark.parametrize(("solver", "how", "count", "status"), INFEASIBLE_STOPS)
def test_engine_any_stop_on_an_infeasible_problem_is_diagnosed(monkeypatch, solver, how, count, status):
    problem = allocator.load_problem(PROBLEMS / "infeasible.toml")
    records = force(monkeypatch, how, count)
    with pytest.raises(allocator.InfeasibleError) as caught:
        allocator.optimize(problem, solver, backend="cvxpy")
    assert [r.status for r in records[:count]] == [status] * count
    assert caught.value.diagnosis.by_account() == pytest.approx({"lender": 1_250_000.0}, rel=1e-6)


@pytest.mark.parametrize(("solver", "how", "count", "status"), FEASIBLE_STOPS)
def test_engine_any_stop_on_a_feasible_problem_is_a_solver_error(monkeypatch, desk, solver, how, count, status):
    records = force(monkeypatch, how, count)
    with pytest.raises(allocator.SolverError) as caught:
        allocator.optimize(desk, solver, backend="cvxpy")
    assert [r.status for r in records[:count]] == [status] * count
    assert not isinstance(caught.value, allocator.VerificationError)
    assert caught.value.status == status.value and caught.value.solver == solver
    assert "elastic copy covers every account" in str(caught.value)


def test_engine_a_numerical_failure_on_a_covered_problem_is_solved_again_without_margins(monkeypatch, desk):
    """Clarabel forced to fail numerically with margins on the desk, which its elastic copy covers: solved again
    without margins, the optimum verified as always, and the note says what happened. Its moves phase (the least
    moving optimum) is then a face without margins, which Clarabel's interior point misses by its tolerance: with
    the plan, a typed SolverError (never an unverified answer)."""
    records = force(monkeypatch, "stuck")
    result = allocator.optimize(desk, "CLARABEL", backend="cvxpy", minimise_moves=False)
    assert records[0].status is Status.SOLVER_ERROR
    assert any(note.startswith("the solver failed on the program with margins") for note in result.diagnostics.notes)
    assert NO_MARGIN not in result.diagnostics.notes
    assert_verified(desk, result)
    records = force(monkeypatch, "stuck")
    with pytest.raises(allocator.SolverError):
        allocator.optimize(desk, "CLARABEL", backend="cvxpy")
    assert records[0].status is Status.SOLVER_ERROR
    monkeypatch.undo()
    margined = allocator.optimize(desk, "CLARABEL", backend="cvxpy").objective.total  # 1,521.29
    # without margins the optimum is cheaper by the margins' cost only (about 0.005 USD here)
    assert margined * (1 - 1e-5) <= result.objective.total <= margined * (1 + 1e-8)


def force_linear(monkeypatch: pytest.MonkeyPatch, count: int = 1) -> list[solvers.SolveRecord]:
    """The linear path's first ``count`` HiGHS runs get FORCE["no_simplex"] (restored after each)."""
    from allocator.solve._highs import HighsLP

    real = HighsLP.solve
    records: list[solvers.SolveRecord] = []

    def solve(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        forced = FORCE["no_simplex"] if len(records) < count else {}
        saved = {name: self.highs.getOptionValue(name) for name in forced}
        saved = {k: v[1] if isinstance(v, tuple) else v for k, v in saved.items()}  # (status, value) in 1.8+
        for name, value in forced.items():
            self.highs.setOptionValue(name, value)
        try:
            record = real(self, *args, **kwargs)
        finally:
            for name, value in saved.items():
                self.highs.setOptionValue(name, value)
        records.append(record)
        return record

    monkeypatch.setattr(HighsLP, "solve", solve)
    return records


def test_linear_path_a_stop_on_an_infeasible_problem_is_diagnosed(monkeypatch):
    problem = allocator.load_problem(PROBLEMS / "infeasible.toml")
    records = force_linear(monkeypatch)
    with pytest.raises(allocator.InfeasibleError) as caught:
        allocator.optimize(problem)
    assert records[0].status is Status.USER_LIMIT
    assert caught.value.diagnosis.by_account() == pytest.approx({"lender": 1_250_000.0}, rel=1e-6)


def test_linear_path_a_stop_on_a_feasible_problem_is_a_solver_error(monkeypatch, desk):
    records = force_linear(monkeypatch)
    with pytest.raises(allocator.SolverError) as caught:
        allocator.optimize(desk)
    assert records[0].status is Status.USER_LIMIT
    assert not isinstance(caught.value, allocator.VerificationError)
    assert caught.value.status == Status.USER_LIMIT.value and caught.value.solver == "HIGHS"
    assert "elastic copy covers every account" in str(caught.value)


def test_engine_a_failed_diagnosis_is_a_solver_error_naming_both(monkeypatch):
    problem = allocator.load_problem(PROBLEMS / "infeasible.toml")
    force(monkeypatch, "limit", count=10)  # the elastic solves stop too
    with pytest.raises(allocator.SolverError) as caught:
        allocator.optimize(problem, "CLARABEL")
    assert caught.value.status == Status.USER_LIMIT.value
    assert "elastic diagnosis" in str(caught.value) and "failed too" in str(caught.value)


def test_engine_optimal_inaccurate_is_solved_again_looser(monkeypatch, desk):
    """Replaces a regression test that relied on Clarabel stalling on one CPU: the first solve is forced to stop
    at 'optimal_inaccurate'; the profile's looser retry is exactly optimal, verified, and noted."""
    records = force(monkeypatch, "almost")
    result = allocator.optimize(desk, "CLARABEL")
    assert records[0].status is Status.OPTIMAL_INACCURATE and records[1].status is Status.OPTIMAL
    assert_verified(desk, result)
    assert any("stopped at 'optimal_inaccurate'; solved again with tol_feas=1e-08" in note
               for note in result.diagnostics.notes)


def test_settings_of_one_solve_do_not_leak_into_the_next(monkeypatch, desk):
    """cvxpy keeps a Clarabel solver object per problem and, with warm starts, updates only the settings it is
    given: a retry's looser tolerances (or a forced iteration limit) stayed in force for every later what-if
    re-solve of the compiled program. The profile turns that reuse off; a re-solve runs as a first solve does."""
    fresh = allocator.Allocator(desk, "CLARABEL")
    fresh.solve()
    expected = [r.iterations for r in fresh.records]
    engine = allocator.Allocator(desk, "CLARABEL")
    force(monkeypatch, "almost")
    engine.solve()  # the first solve stops inaccurate and is solved again looser
    engine.solve()
    assert [r.iterations for r in engine.records] == expected


# -- the transition: the same ladder, the same notes ------------------------------------------------------------------

@pytest.mark.parametrize(("how", "count", "status"), [("limit", 1, Status.USER_LIMIT),
                                                      ("stuck", 1, Status.SOLVER_ERROR),
                                                      ("almost", 2, Status.OPTIMAL_INACCURATE)])
def test_transition_any_stop_on_an_infeasible_problem_is_diagnosed(monkeypatch, how, count, status):
    """On this problem Clarabel's fifth iterate meets the reduced tolerances as 'AlmostSolved' (and a real
    stop at an inaccurate status on an infeasible transition is what the slow run found)."""
    records = force(monkeypatch, how, count)
    with pytest.raises(TransitionInfeasibleError) as caught:
        plan_transition(tiny(schedule={"periods": 4}))  # too little capacity (test_transition_infeasible.py)
    assert [r.status for r in records[:count]] == [status] * count
    assert isinstance(caught.value, allocator.InfeasibleError)
    assert caught.value.diagnosis.by_account() == pytest.approx({"exchange": 200_000.0}, rel=1e-5)
    assert caught.value.diagnosis.binding[0].name == "capacity[wallet->exchange]"


@pytest.mark.parametrize(("how", "count", "status"), [("limit", 1, Status.USER_LIMIT),
                                                      ("almost", 2, Status.OPTIMAL_INACCURATE)])
def test_transition_any_stop_on_a_feasible_problem_is_a_solver_error(monkeypatch, how, count, status):
    records = force(monkeypatch, how, count)
    with pytest.raises(allocator.SolverError) as caught:
        plan_transition(tiny(schedule={"periods": 8}))
    assert [r.status for r in records[:count]] == [status] * count
    assert caught.value.status == status.value
    assert "elastic copy covers every account" in str(caught.value)


def test_transition_a_numerical_failure_on_a_covered_problem_is_solved_again_without_margins(monkeypatch):
    problem = tiny(schedule={"periods": 8})
    records = force(monkeypatch, "stuck")
    result = plan_transition(problem)
    assert records[0].status is Status.SOLVER_ERROR
    assert validate_transition(problem, result) == []
    assert any(note.startswith("the solver failed on the program with margins") for note in result.diagnostics.notes)


def test_transition_optimal_inaccurate_is_solved_again_looser(monkeypatch):
    problem = tiny(schedule={"periods": 8})
    records = force(monkeypatch, "almost")
    result = plan_transition(problem)
    assert records[0].status is Status.OPTIMAL_INACCURATE and records[1].status is Status.OPTIMAL
    assert validate_transition(problem, result) == []
    assert any("stopped at 'optimal_inaccurate'; solved again with tol_feas=1e-07" in note
               for note in result.diagnostics.notes)


def _concentration_bound() -> dict:
    """BTC alone can cover the exchange (100 BTC at a 20% haircut is 8M of collateral for 5M), but at most half the
    collateral may be BTC and nothing else is eligible there."""
    data = copy.deepcopy(TINY)
    data["accounts"][0]["haircuts"] = {"BTC": 0.2}
    data["accounts"][0]["concentration"] = {"BTC": 0.5}
    data["schedule"]["periods"] = 8
    return data


def test_transition_infeasible_only_by_a_concentration_limit_names_it():
    """Before: Clarabel said infeasible, the elastic copy found no coverage shortfall, and the command exited 5
    (a SolverError). Now the excess over the limit is the diagnosis."""
    with pytest.raises(TransitionInfeasibleError) as caught:
        plan_transition(allocator.Problem.model_validate(_concentration_bound()))
    diagnosis = caught.value.diagnosis
    assert diagnosis.exceeded.get("concentration[exchange,BTC]", 0.0) > 0
    assert diagnosis.binding[0].family == "concentration"
    assert "concentration[exchange,BTC] exceeded by" in str(caught.value)


def test_the_command_exits_3_for_it(tmp_path):
    path = tmp_path / "concentration.json"
    path.write_text(json.dumps(_concentration_bound()), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "allocator.cli", "transition", str(path), "-o",
                          str(tmp_path / "out.json")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 3, run.stderr
    assert "concentration[exchange,BTC] exceeded by" in run.stderr and "Traceback" not in run.stderr


def test_transition_infeasible_only_by_a_floor_names_it():
    """The exchange holds 100 BTC (10M at a 50% haircut: 5M of collateral) and needs 6M. USDC (no haircut) can be
    bought only at the wallet, so BTC must leave first, which would take the exchange below its floor (today's 5M):
    the floor alone blocks the swap. With floors lifted, the round trip covers it."""
    data = copy.deepcopy(TINY)
    data["holdings"] = [{"asset": "BTC", "location": "exchange", "quantity": 100.0}]
    data["accounts"][0].update(requirement=6_000_000.0, haircuts={"BTC": 0.5, "USDC": 0.0})
    data["locations"] = [{"id": "wallet"}]  # nothing is held there now: a declared place
    data["routes"] = [{"from": "exchange", "to": "wallet", "cost_bps": 1.0},
                      {"from": "wallet", "to": "exchange", "cost_bps": 1.0}]
    data["schedule"].update(periods=8, participation=0.5)
    with pytest.raises(TransitionInfeasibleError) as caught:
        plan_transition(allocator.Problem.model_validate(data))
    diagnosis = caught.value.diagnosis
    assert diagnosis.by_account() == pytest.approx({"exchange": 1_000_000.0}, rel=1e-5)
    assert [b.family for b in diagnosis.binding][:1] == ["floor"]
    assert diagnosis.binding[0].name.startswith("floor")


# -- the policy itself, on scripted outcomes (each outcome above is also reached with a real solver) ---------------

class Scripted:
    """Rungs whose attempts return the given statuses in turn and whose checks fail on the given attempts."""

    solver = "SCRIPTED"

    def __init__(self, statuses: list[Status], failing: set[int], infeasible: bool = False) -> None:
        self.statuses, self.failing, self.infeasible = statuses, failing, infeasible
        self.margins: list[float] = []

    def attempt(self, margins: solvers.SolverProfile) -> solvers.SolveRecord:
        status = self.statuses[len(self.margins)]
        self.margins.append(margins.coverage_margin)
        return solvers.SolveRecord("SCRIPTED", status, status.value, 0.0, 0.0, 0.0, 0.0, False, None)

    def verify(self, record: solvers.SolveRecord, margins: solvers.SolverProfile) -> float:
        if len(self.margins) - 1 in self.failing:
            raise allocator.VerificationError([f"coverage[a] short (attempt {len(self.margins)})"], solver="SCRIPTED")
        return margins.coverage_margin

    def diagnose(self) -> allocator.InfeasibleError | None:
        return allocator.InfeasibleError(Diagnosis("USD", ())) if self.infeasible else None


PROFILE = solvers.SolverProfile({}, coverage_margin=1e-6, limit_margin=1e-6)


def test_a_missed_row_is_solved_again_with_wider_margins_once():
    rungs = Scripted([Status.OPTIMAL] * 2, failing={0})
    climbed = climb(rungs, PROFILE, widen=True)
    assert rungs.margins == [1e-6, 1e-6 * WIDER_MARGINS] and climbed.answer == 1e-6 * WIDER_MARGINS
    assert climbed.notes == [widened_note("coverage[a] short (attempt 1)")]


def test_a_retry_that_misses_too_reports_both_answers():
    with pytest.raises(allocator.VerificationError) as caught:
        climb(Scripted([Status.OPTIMAL] * 2, failing={0, 1}), PROFILE, widen=True)
    assert "attempt 1" in str(caught.value) and "attempt 2" in str(caught.value)


def test_an_exact_program_that_misses_is_refused_without_retry():
    rungs = Scripted([Status.OPTIMAL] * 2, failing={0})
    with pytest.raises(allocator.VerificationError):
        climb(rungs, PROFILE, widen=False)
    assert len(rungs.margins) == 1


def test_infeasible_but_covered_by_the_elastic_copy_is_solved_without_margins():
    rungs = Scripted([Status.INFEASIBLE, Status.OPTIMAL], failing=set())
    climbed = climb(rungs, PROFILE, widen=True)
    assert rungs.margins == [1e-6, 0.0] and climbed.notes == [NO_MARGIN]


def test_a_numerical_failure_covered_by_the_elastic_copy_is_solved_without_margins():
    rungs = Scripted([Status.SOLVER_ERROR, Status.OPTIMAL], failing=set())
    climbed = climb(rungs, PROFILE, widen=True)
    assert rungs.margins == [1e-6, 0.0] and climbed.notes == [failed_note("solver_error")]


def test_a_limit_covered_by_the_elastic_copy_is_a_solver_error():
    rungs = Scripted([Status.USER_LIMIT], failing=set())
    with pytest.raises(allocator.SolverError, match="elastic copy covers every account"):
        climb(rungs, PROFILE, widen=True)
    assert rungs.margins == [1e-6]


def test_infeasible_and_short_raises_the_diagnosis():
    with pytest.raises(allocator.InfeasibleError):
        climb(Scripted([Status.USER_LIMIT], failing=set(), infeasible=True), PROFILE, widen=True)
