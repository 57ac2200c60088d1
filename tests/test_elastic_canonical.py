"""The elastic program's diagnosis is canonical (solve/_fast.py ``_Elastic``, docs/formulation.md "Infeasibility:
the elastic program"): the least weighted shortfall, then the tie-break over its optimal face, on the cost
program's useful columns (each stage proved for the whole program by its completed duals) or on the whole
elastic program, gives the same shortfall per account and excess per limit, to the cent, on books whose least
total can be split between accounts in many ways (accounts competing for the same assets).

Every test forces the path it tests: ``reduce_min_columns`` 0 and ``reduce_elastic`` True (the useful columns
first), or ``reduce_elastic`` False (always the whole elastic program).
"""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest
from benchmarks._cases import competing, scaled
from helpers import HighsRuns
from test_fast_lp_paths import _credit_bounds, _limited, _planted_infeasible

import allocator
from allocator.io.generate import generate_problem
from allocator.program._layout import Layout
from allocator.program._numbers import Numbers
from allocator.solve import _fast as fast_module
from allocator.solve._fast import FastProgram
from allocator.solve._highs import HighsLP
from allocator.solve._solvers import profile
from allocator.solve._status import Status


def _alike(book: allocator.Problem, factor: float) -> allocator.Problem:
    """``book`` with every account taking every asset at the same haircut (0.1), no concentration limits, and every
    requirement ``factor`` times the same amount: any split of the least shortfall between the accounts is
    optimal."""
    data = copy.deepcopy(book.model_dump(by_alias=True))
    assets = [a["id"] for a in data["assets"]]
    for account in data["accounts"]:
        account["haircuts"] = dict.fromkeys(assets, 0.1)
        account["concentration"] = {}
        account["buffer"] = 0.0
        account["requirement"] = 1.0
    problem = allocator.Problem.model_validate(data)
    together, _ = _credit_bounds(problem)
    for account in data["accounts"]:
        account["requirement"] = factor * together / len(data["accounts"])
    return allocator.Problem.model_validate(data)


def _cases() -> dict[str, tuple[allocator.Problem, allocator.Problem]]:
    """Infeasible what-ifs of hub-and-spoke books, each with its book: one requirement beyond the joint bound, two
    accounts competing for the same assets, prices x 0.7 and requirements x 1.2 (many accounts short), one account
    short only through its concentration limits, and every account alike (any split optimal) at 1.3 and 3 times
    2.7 times what all the holdings can credit."""
    book, total = _planted_infeasible()
    _, own = _credit_bounds(book)
    wide = generate_problem(60, 2, 10, seed=5, topology="hub")
    alike = _alike(generate_problem(30, 2, 6, seed=7, topology="hub"), 0.5)
    return {"total": (book, total), "competing": (book, competing(book, own, 0.9)),
            "scaled": (wide, scaled(wide, 0.7, 1.2)),
            "limits": (_limited(book.model_dump(by_alias=True), "acct-02", 0.99),
                       _limited(book.model_dump(by_alias=True), "acct-02", 0.05)),
            "alike": (alike, _alike(alike, 1.3)), "alike_far": (alike, _alike(alike, 2.7))}


def _engine(problem: allocator.Problem, useful: bool) -> allocator.Allocator:
    engine = allocator.Allocator(problem, backend="highs")
    engine.fast.reduce_min_columns = 0
    engine.fast.reduce_elastic = useful
    return engine


def _diagnosis(engine: allocator.Allocator, problem: allocator.Problem, resolve: bool) -> allocator.InfeasibleError:
    with pytest.raises(allocator.InfeasibleError) as caught:
        engine.solve(problem) if resolve else engine.solve()
    return caught.value


def _amounts(error: allocator.InfeasibleError) -> dict[tuple[str, str], float]:
    """Every shortfall and limit excess of the diagnosis, by (account, constraint)."""
    return {(s.account, s.constraint): s.amount for s in error.diagnosis.shortfalls}


@pytest.mark.parametrize("screen", [False, True])
@pytest.mark.parametrize("resolve", [False, True])
@pytest.mark.parametrize("name", ["total", "competing", "scaled", "limits", "alike", "alike_far"])
def test_the_useful_columns_and_the_whole_elastic_program_give_the_same_diagnosis(monkeypatch, name, resolve,
                                                                                 screen):
    """The same shortfalls account by account and excesses limit by limit (to 1e-9 relative), the same least
    total, whichever path solved the elastic program, cold and as a what-if, screened or after the smaller cost
    program; the useful path never runs the whole elastic program, the whole path never the smaller one."""
    book, infeasible = _cases()[name]
    if not screen:
        monkeypatch.setattr(FastProgram, "_surely_short", lambda self: False)
    found = {}
    for useful in (False, True):
        engine = _engine(book if resolve else infeasible, useful)
        if resolve:
            engine.solve()
        runs = HighsRuns(monkeypatch)
        error = _diagnosis(engine, infeasible, resolve)
        elastic = engine.fast._elastic
        columns = [n for n, _ in runs.seen]
        assert elastic.on_useful is useful
        whole = elastic.structure.blocks.columns
        if useful:
            smaller = len(elastic.reduced[1].kept)
            assert smaller < whole and whole not in columns and columns.count(smaller) == 2  # two stages, once
            left_out = ~elastic.reduced[1].keep
            assert not elastic.solution.col_value[left_out].any()
        else:
            assert columns.count(whole) == 2
        found[useful] = (_amounts(error), error.diagnosis.total, elastic.least)
    (whole_amounts, whole_total, whole_least), (amounts, total, least) = found[False], found[True]
    # an account covered exactly is short by float noise in the recomputation (cents on a total of millions),
    # reported or not: the amounts agree to 1e-9 of the total, as the ones reported do each to 1e-9 of its own
    keys = amounts.keys() | whole_amounts.keys()
    assert whole_amounts and {k: amounts.get(k, 0.0) for k in keys} == pytest.approx(
        {k: whole_amounts.get(k, 0.0) for k in keys}, rel=1e-9, abs=1e-9 * whole_total)
    noise = {k for k in keys if min(amounts.get(k, 0.0), whole_amounts.get(k, 0.0)) <= 1e-9 * whole_total}
    assert {k: amounts[k] for k in keys - noise} == pytest.approx({k: whole_amounts[k] for k in keys - noise},
                                                                  rel=1e-9)
    assert total == pytest.approx(whole_total, rel=1e-9)
    assert least == pytest.approx(whole_least, rel=1e-9)


@pytest.mark.parametrize("factor", [1.3, 2.7])
@pytest.mark.parametrize("useful", [False, True])
def test_alike_accounts_are_covered_in_the_problems_order(factor, useful):
    """Every account takes every asset at the same haircut and needs the same amount: any split of the least
    shortfall is optimal, and the tie-break covers the accounts in the problem's order, the shortfall left on the
    latest ones (each short by what is left beyond the accounts after it, at most its whole requirement)."""
    book = _alike(generate_problem(30, 2, 6, seed=7, topology="hub"), 0.5)
    infeasible = _alike(book, factor)
    error = _diagnosis(_engine(infeasible, useful), infeasible, False)
    by_account = error.diagnosis.by_account()
    required = [infeasible.terms[a.id].required for a in infeasible.accounts]
    together, _ = _credit_bounds(infeasible)
    short = sum(required) - together
    assert error.diagnosis.total == pytest.approx(short, rel=1e-8)  # by hand: without the profile's margins
    expected, later = {}, 0.0
    for account, need in reversed(list(zip([a.id for a in infeasible.accounts], required, strict=True))):
        expected[account] = min(max(short - later, 0.0), need)
        later += need
    assert {k: by_account.get(k, 0.0) for k in expected} == pytest.approx(expected, rel=1e-8, abs=1e-8 * short)


_TIE_BREAK = FastProgram._tie_break


def _limited_tie_break(self, elastic, *args):
    """Stage two within one simplex iteration: it stops at the limit."""
    elastic.lp.highs.setOptionValue("simplex_iteration_limit", 1)
    return _TIE_BREAK(self, elastic, *args)


def test_a_failed_proof_of_either_stage_falls_back_to_the_whole_elastic_program(monkeypatch):
    """Stage one's or stage two's optimum on the useful columns not proved (its completed duals not
    complementary), or a run on them ending on a status other than optimal or a limit: the whole elastic program
    decides, with the same diagnosis. A limit on the useful columns is an honest stop: not optimal, no answer, the
    whole elastic program not run, and not short (the usual path decides)."""
    book, infeasible = _cases()["scaled"]
    expected = _amounts(_diagnosis(_engine(infeasible, False), infeasible, False))
    real_complete, real_solve = fast_module.complete, HighsLP.solve
    calls = []

    def no_proof(stage):
        def patched(layout, m, keep, col_value, row_dual, fixed=None):
            elastic = m.blocks.shortfall < m.blocks.columns
            if elastic:
                calls.append(fixed is not None)
            if elastic and (fixed is not None) == (stage == 2):
                return None
            return real_complete(layout, m, keep, col_value, row_dual, fixed)
        return patched

    def failing(lp, *args, **kwargs):
        record, elastic = real_solve(lp, *args, **kwargs), engine.fast._elastic
        smaller = elastic is not None and lp is elastic.lp and lp.highs.getNumCol() < elastic.structure.blocks.columns
        return replace(record, status=Status.SOLVER_ERROR) if smaller else record

    for target, name, patch, proofs in ((fast_module, "complete", no_proof(1), [False]),
                                        (fast_module, "complete", no_proof(2), [False, True]),
                                        (HighsLP, "solve", failing, [])):
        calls.clear()
        engine = _engine(infeasible, True)
        monkeypatch.setattr(target, name, patch)
        runs = HighsRuns(monkeypatch)
        error = _diagnosis(engine, infeasible, False)
        monkeypatch.undo()
        elastic = engine.fast._elastic
        columns = [n for n, _ in runs.seen]
        assert not elastic.on_useful and columns.count(elastic.structure.blocks.columns) == 2
        assert len(elastic.reduced[1].kept) in columns
        assert _amounts(error) == pytest.approx(expected, rel=1e-9)
        assert calls == proofs  # the elastic proofs tried (stage two's with its face's fixed columns)
    layout = Layout.from_problem(infeasible)
    for limit in ("first", "second"):  # an iteration limit in stage one, then in stage two only
        fast = FastProgram(layout, dict(profile("HIGHS").options))
        fast.reduce_min_columns = 0
        fast.assign(Numbers.from_problem(infeasible, layout), profile("HIGHS"))
        if limit == "first":
            fast.options = {**fast.options, "simplex_iteration_limit": 1}
        else:
            monkeypatch.setattr(FastProgram, "_tie_break", _limited_tie_break)
        fast.forced_method = "simplex"
        runs = HighsRuns(monkeypatch)
        record = fast.run_elastic(None)
        monkeypatch.undo()
        assert record.status is Status.USER_LIMIT and fast._elastic.solution is None and fast.answer("elastic") is None
        assert all(n == len(fast._elastic.reduced[1].kept) for n, _ in runs.seen)
        assert not fast._short(None)


@pytest.mark.parametrize("useful", [False, True])
def test_a_failed_tie_break_keeps_the_least_total_and_says_its_split_is_not_canonical(monkeypatch, useful):
    """Stage two ending on a status other than optimal or a limit (here every tie-break, on the useful columns and
    on the whole program, reports a solver error): the diagnosis is stage one's least total, verified as usual,
    and the result's notes say its split is not the canonical one; a problem is not left without a diagnosis."""
    book, infeasible = _cases()["alike"]
    expected = _diagnosis(_engine(infeasible, False), infeasible, False)
    assert not expected.result.diagnostics.notes

    def failing(self, elastic, *args):
        record, fixed = _TIE_BREAK(self, elastic, *args)
        return replace(record, status=Status.SOLVER_ERROR, raw_status="forced error"), fixed

    monkeypatch.setattr(FastProgram, "_tie_break", failing)
    engine = _engine(infeasible, useful)
    error = _diagnosis(engine, infeasible, False)
    assert error.diagnosis.total == pytest.approx(expected.diagnosis.total, rel=1e-9)
    (note,) = error.result.diagnostics.notes
    assert "tie-break ended 'forced error'" in note and "not by the canonical rule" in note
    assert not engine.fast._elastic.on_useful  # the useful columns' failed tie-break went to the whole program
