"""Cold solves on the useful columns first (program/_lp/paths.py, solve/_fast.py ``REDUCE_MIN_COLUMNS``): the same
optimum as the whole program, duals that satisfy the whole program's KKT conditions, a proof that rejects a
wrong set of columns, and the whole program wherever the smaller one is not enough.

Every test forces the path it tests: ``engine.fast.reduce_min_columns`` set to 0 (always first on the useful
columns) or beyond any size (always the whole program).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from benchmarks._cases import (  # the benchmarks' what-if copies (tests/benchmarks/_cases.py)
    competing,
    credit_bounds,
    holdings_changed,
    scaled,
)
from helpers import PROBLEMS, HighsRuns, assert_verified, objective_gap, relative_gap
from reference_lp import solve_reference
from test_fast_lp import _kkt

import allocator
from allocator.io.generate import generate_problem
from allocator.program._layout import Layout
from allocator.program._lp.matrices import Restriction
from allocator.program._lp.paths import complete, useful_columns
from allocator.program._numbers import Numbers
from allocator.solve import _fast as fast_module
from allocator.solve import _highs as highs_module
from allocator.solve._fast import FastProgram
from allocator.solve._highs import CHOOSE, DEVEX, HighsLP, _value
from allocator.solve._solvers import profile
from allocator.solve._status import Status

NEVER = 10**12


def _engine(problem: allocator.Problem, reduce: bool, **options) -> allocator.Allocator:
    engine = allocator.Allocator(problem, backend="highs", **options)
    engine.fast.reduce_min_columns = 0 if reduce else NEVER
    return engine


def _infeasible(problem: allocator.Problem, reduce: bool, resolve_from: allocator.Problem | None = None):
    """The InfeasibleError's diagnosis and the engine (the smaller program's path when ``reduce``; as a what-if
    re-solve of ``resolve_from`` when given)."""
    engine = _engine(resolve_from or problem, reduce)
    if resolve_from is not None:
        engine.solve()
    with pytest.raises(allocator.InfeasibleError) as caught:
        engine.solve(problem) if resolve_from is not None else engine.solve()
    return caught.value.diagnosis, engine


def _diagnosed(problem: allocator.Problem, reduce: bool, resolve_from: allocator.Problem | None = None):
    """The InfeasibleError's shortfalls by account and the engine (``_infeasible``)."""
    diagnosis, engine = _infeasible(problem, reduce, resolve_from)
    return diagnosis.by_account(), engine


def _gross(result: allocator.Result) -> float:
    return abs(result.objective.carry) + abs(result.objective.transfer)


CASES = [  # (assets, wallets, accounts, seed, topology, route density, posted share, limits)
    (30, 2, 6, 0, "hub", 1.0, 0.3, True),
    (40, 3, 8, 1, "hub", 0.5, 0.5, True),  # some wallets reach only some accounts: value goes through others
    (25, 2, 5, 2, "complete", 1.0, 0.3, False),  # every location to every other: shortest paths of two hops
    (35, 1, 7, 3, "hub", 1.0, 0.0, True),  # everything in the wallet today
    (20, 2, 4, 4, "complete", 1.0, 0.9, True),  # most holdings already at accounts
    (50, 2, 10, 5, "hub", 0.3, 0.3, False),
]


@pytest.mark.parametrize(("assets", "wallets", "accounts", "seed", "topology", "density", "posted", "limits"), CASES)
def test_the_useful_columns_give_the_whole_programs_optimum(assets, wallets, accounts, seed, topology, density,
                                                           posted, limits):
    problem = generate_problem(assets, wallets, accounts, seed=seed, topology=topology, route_density=density,
                               posted_share=posted, limits=limits)
    reduced_engine, whole_engine = _engine(problem, True), _engine(problem, False)
    reduced, whole = reduced_engine.solve(), whole_engine.solve()
    start = reduced_engine.fast.reduction
    assert start.whole is None, start.whole  # the proof held: no second, whole solve
    assert start.reduced_columns < start.columns
    assert whole_engine.fast.reduction.whole == "below REDUCE_MIN_COLUMNS"
    assert relative_gap(reduced.objective.total, whole.objective.total, _gross(whole)) <= 1e-9
    moved = [sum(step.value for step in r.plan) for r in (reduced, whole)]
    assert moved[0] == pytest.approx(moved[1], rel=1e-9, abs=1e-6)  # the same least value moved
    assert _kkt(reduced_engine) <= 1e-9  # the whole program's KKT conditions, from HiGHS's final solution
    assert_verified(problem, reduced)
    assert objective_gap(reduced, solve_reference(problem).objective) < 1e-9


def test_the_shadow_prices_are_the_whole_programs():
    """Coverage duals are unique where the optimum is not degenerate: the same on both paths."""
    problem = generate_problem(40, 2, 6, seed=7, topology="hub")
    reduced, whole = _engine(problem, True).solve(), _engine(problem, False).solve()
    assert [a.shadow_price for a in reduced.accounts] == \
        pytest.approx([a.shadow_price for a in whole.accounts], rel=1e-7, abs=1e-12)


def _smaller(problem: allocator.Problem) -> tuple[Layout, FastProgram, np.ndarray]:
    layout = Layout.from_problem(problem)
    fast = FastProgram(layout, dict(profile("HIGHS").options))
    fast.assign(Numbers.from_problem(problem, layout), profile("HIGHS"))
    keep = useful_columns(layout, fast.matrices)
    assert keep is not None
    return layout, fast, keep


def _solve_columns(fast: FastProgram, keep: np.ndarray):
    lp = HighsLP(dict(profile("HIGHS").options))
    lp.load_arrays(*Restriction.of(fast.matrices, keep).arrays(fast.matrices))
    assert lp.solve().status is Status.OPTIMAL
    return lp.solution()


def test_the_proof_rejects_columns_that_miss_the_optimum():
    """Leave out the moves that carry value at the optimum: the smaller program still has an optimum (a dearer
    one, going round), and its completed duals show a move of negative reduced cost, so it is not taken for the
    whole program's."""
    problem = generate_problem(30, 2, 6, seed=0, topology="complete", limits=False)
    layout, fast, keep = _smaller(problem)
    solution = _solve_columns(fast, keep)
    proof = complete(layout, fast.matrices, keep, solution.col_value, solution.row_dual)
    assert proof is not None
    # its row activities (computed when read) are the smaller program's: the rows are the same, and every column
    # left out is at zero
    np.testing.assert_allclose(proof.row_value, solution.row_value, rtol=0, atol=1e-9)
    value = np.zeros(len(keep))
    value[keep] = solution.col_value
    moves = np.arange(fast.structure.blocks.move, fast.structure.blocks.move + layout.n_moves)
    carried = moves[value[moves] > 1e-9]
    assert len(carried) > 0
    narrower = keep.copy()
    narrower[carried] = False
    worse = _solve_columns(fast, narrower)
    assert complete(layout, fast.matrices, narrower, worse.col_value, worse.row_dual) is None


def test_a_failed_proof_solves_the_whole_program(monkeypatch):
    """The column choice replaced by one that misses a third of the useful moves: the engine notices (no proof,
    or no optimum of the smaller program) and solves the whole program, with the whole program's optimum."""
    problem = generate_problem(30, 2, 6, seed=0, topology="complete", limits=False)
    engine = _engine(problem, True)
    layout, fast, keep = _smaller(problem)
    moving = slice(fast.structure.blocks.move, fast.structure.blocks.move + layout.n_moves)
    keep[moving] &= np.arange(layout.n_moves) % 3 != 0
    monkeypatch.setattr("allocator.solve._fast.useful_columns", lambda layout, m: keep)
    result = engine.solve()
    why = engine.fast.reduction.whole
    assert why == "the completed duals prove nothing" or why.startswith("the smaller program"), why
    whole = _engine(problem, False).solve()
    assert relative_gap(result.objective.total, whole.objective.total, _gross(whole)) <= 1e-9
    assert_verified(problem, result)


def test_a_virtual_hub_is_solved_whole():
    """Without a routes table every move goes through a virtual hub row: not the network the proof is about."""
    problem = generate_problem(30, 2, 6, seed=1, topology="none")
    engine = _engine(problem, True)
    engine.solve()
    assert engine.fast.reduction.whole == "not a network without capacities"


def test_an_infeasible_problem_gets_the_same_diagnosis():
    planted = generate_problem(30, 2, 6, seed=3, topology="hub").model_dump(by_alias=True)
    planted["accounts"][1]["requirement"] *= 40
    problem = allocator.Problem.model_validate(planted)
    assert _diagnosed(problem, True)[0] == pytest.approx(_diagnosed(problem, False)[0], rel=1e-9)


def test_an_iteration_limit_on_the_smaller_program_is_an_honest_stop():
    problem = generate_problem(40, 2, 8, seed=2, topology="hub")
    engine = _engine(problem, True, solver_options={"simplex_iteration_limit": 1})
    with pytest.raises(allocator.SolverError) as caught:
        engine.solve()
    assert caught.value.status == Status.USER_LIMIT.value
    assert engine.fast.reduction.whole is None  # stopped, not sent on to the whole program


def test_a_time_limit_on_the_smaller_program_is_an_honest_stop():
    problem = generate_problem(40, 2, 8, seed=2, topology="hub")
    engine = _engine(problem, True, time_limit=1e-4)
    with pytest.raises(allocator.SolverError) as caught:
        engine.solve()
    assert caught.value.status == Status.USER_LIMIT.value


def test_resolves_start_the_smaller_program_from_its_home_basis():
    """A what-if with the engine's problem's useful columns starts the smaller program from that problem's optimal
    basis, then proves and crosses over as a cold start does: the answer of a fresh engine and of the cvxpy
    program, whatever was solved before."""
    problem = generate_problem(40, 2, 6, seed=4, topology="hub")
    first, second = scaled(problem, 1.02, 1.05), scaled(problem, 0.97, 0.9)
    engine = _engine(problem, True)
    engine.solve()
    assert engine.fast.reduction.whole is None and not engine.fast.reduction.warm
    home_columns = engine.fast._useful_memo[1]
    engine.solve(second)
    again = engine.solve(first)
    assert engine.fast.reduction.warm and engine.fast.reduction.whole is None
    assert engine.fast._useful_memo[1] is home_columns  # prices and requirements: the same columns, not recomputed
    fresh = _engine(problem, True).solve(first)
    assert again.targets == fresh.targets and again.plan == fresh.plan
    cold = allocator.Allocator(first, backend="cvxpy").solve()
    assert relative_gap(again.objective.total, cold.objective.total, _gross(cold)) <= 1e-9
    assert_verified(first, again)


@pytest.mark.parametrize("change", ["new holdings", "emptied holdings"])
def test_a_resolve_with_other_useful_columns_carries_the_home_basis_over(monkeypatch, change):
    """New holdings make new sources, emptied ones leave sources out, so other useful columns: the smaller program
    starts from its home basis carried over to them (new columns nonbasic; home-basic columns left out make the
    basis "alien", which HiGHS completes). The cvxpy program's optimum, verified, with and without the plan."""
    problem = generate_problem(40, 2, 6, seed=4, topology="hub")
    changed = holdings_changed(problem, 1, 0) if change == "new holdings" else holdings_changed(problem, 0, 10)
    carried = []
    carry = fast_module._carried
    monkeypatch.setattr(fast_module, "_carried", lambda *args: carried.append(carry(*args)) or carried[-1])
    engine = _engine(problem, True)
    engine.solve()
    home = int(engine.fast.small_home[0].sum())
    for count, plan in enumerate((False, True), start=1):
        result = engine.solve(changed, plan=plan)
        reduction = engine.fast.reduction
        assert reduction.warm and reduction.whole is None and reduction.reduced_columns != home
        assert len(carried) == count and carried[-1].alien is (change == "emptied holdings")
        cold = allocator.Allocator(changed, backend="cvxpy").solve(plan=plan)
        assert relative_gap(result.objective.total, cold.objective.total, _gross(cold)) <= 1e-9
        assert_verified(changed, result)


@pytest.mark.parametrize(("assets", "wallets", "accounts", "seed", "topology", "density", "posted", "limits"), CASES)
def test_a_resolve_without_the_plan_is_the_smaller_optimum_proved_by_its_completed_duals(
        assets, wallets, accounts, seed, topology, density, posted, limits):
    """A warm re-solve does not cross over: the smaller program's optimum and its completed duals are the answer
    (and with no moves phase after it, the whole program is not even loaded). Checked here from the whole
    program's own matrices (the KKT conditions: a certificate of optimality), against the reference LP, and
    against the same re-solve with the plan, whose shadow prices and marginal values it must equal."""
    problem = generate_problem(assets, wallets, accounts, seed=seed, topology=topology, route_density=density,
                               posted_share=posted, limits=limits)
    changed = scaled(problem, 1.02, 1.05)
    engine = _engine(problem, True)
    engine.solve()
    result = engine.solve(changed, plan=False)
    start = engine.fast.reduction
    assert start.whole is None, start.whole
    assert not start.crossed and start.crossover_seconds == 0.0 and engine.fast.cost_solution is engine.fast.proved
    assert _kkt(engine) <= 1e-9
    assert objective_gap(result, solve_reference(changed).objective) < 1e-9
    assert_verified(changed, result)
    planned = engine.solve(changed)  # the whole program loaded at the home basis for the moves phase: no crossover
    assert engine.fast.reduction.whole is None and not engine.fast.reduction.crossed
    assert_verified(changed, planned)
    assert relative_gap(result.objective.total, planned.objective.total, _gross(planned)) <= 1e-9
    assert [a.shadow_price for a in result.accounts] == [a.shadow_price for a in planned.accounts]
    assert result.marginal_values == planned.marginal_values and result.binding == planned.binding


@pytest.mark.parametrize(("assets", "wallets", "accounts", "seed", "topology", "density", "posted", "limits"), CASES)
def test_the_moves_phase_on_the_useful_columns_moves_as_little_as_on_the_whole_program(
        assets, wallets, accounts, seed, topology, density, posted, limits):
    """A re-solve's moves phase runs on the smaller program: every least-moving optimum lies on the useful columns,
    so it moves exactly as much value as the moves phase on the whole program (the independent formulation here),
    at the same cost. The engine's own problem, which crosses over, moves on the whole program."""
    problem = generate_problem(assets, wallets, accounts, seed=seed, topology=topology, route_density=density,
                               posted_share=posted, limits=limits)
    changed = scaled(problem, 1.02, 1.05)
    reduced_engine, whole_engine = _engine(problem, True), _engine(problem, False)
    for case in (problem, changed):
        reduced, whole = reduced_engine.solve(case), whole_engine.solve(case)
        assert reduced_engine.fast.reduction.whole is None
        # the engine's own problem crosses over (its basis becomes the home basis) and moves on the whole program
        assert reduced_engine.fast.moves_on_smaller == (case is changed) != reduced_engine.fast.reduction.crossed
        assert not whole_engine.fast.moves_on_smaller
        assert "moves" in reduced.diagnostics.phases and "moves" in whole.diagnostics.phases
        assert relative_gap(reduced.objective.total, whole.objective.total, _gross(whole)) <= 1e-9
        moved, least = sum(s.value for s in reduced.plan), sum(s.value for s in whole.plan)
        assert moved == pytest.approx(least, rel=1e-9, abs=1e-9 * _gross(whole))
        assert_verified(case, reduced)


@pytest.mark.parametrize("name", ["desk", "swap"])
def test_fixtures_take_the_same_optimum_on_the_useful_columns(name):
    problem = allocator.load_problem(PROBLEMS / f"{name}.toml")
    engine = _engine(problem, True)
    result = engine.solve()
    whole = _engine(problem, False).solve()
    assert relative_gap(result.objective.total, whole.objective.total, _gross(whole)) <= 1e-9
    assert_verified(problem, result)


@pytest.mark.parametrize("seed", range(24))
def test_random_problems_take_the_whole_programs_optimum(seed):
    """Many small books of every topology, wallet count, density and share of holdings already posted: the proof
    holds wherever the argument applies, and the optimum is the whole program's."""
    rng = np.random.default_rng(seed)
    topology = ("hub", "complete", "hub")[seed % 3]
    problem = generate_problem(int(rng.integers(5, 40)), int(rng.integers(1, 4)), int(rng.integers(2, 9)), seed=seed,
                               topology=topology, route_density=float(rng.uniform(0.2, 1.0)),
                               posted_share=float(rng.uniform(0.0, 1.0)), limits=bool(seed % 2),
                               tightness=float(rng.uniform(0.3, 0.95)), eligible_share=float(rng.uniform(0.2, 0.8)))
    reduced_engine = _engine(problem, True)
    reduced, whole = reduced_engine.solve(), _engine(problem, False).solve()
    assert reduced_engine.fast.reduction.whole in (None, "no columns to leave out")
    assert relative_gap(reduced.objective.total, whole.objective.total, _gross(whole)) <= 1e-9
    assert _kkt(reduced_engine) <= 1e-9
    assert_verified(problem, reduced)


@pytest.mark.parametrize("seed", range(16))
def test_random_resolves_take_the_whole_programs_optimum_and_least_moves(seed):
    """Random books of every topology re-solved with new prices and requirements: the certified smaller optimum
    (no crossover) has the whole program's cost and KKT conditions, and its moves phase on the smaller program
    moves as little value as the whole program's, with the plan or without."""
    rng = np.random.default_rng(100 + seed)
    topology = ("hub", "complete", "hub")[seed % 3]
    problem = generate_problem(int(rng.integers(8, 40)), int(rng.integers(1, 4)), int(rng.integers(2, 9)),
                               seed=100 + seed, topology=topology, route_density=float(rng.uniform(0.2, 1.0)),
                               posted_share=float(rng.uniform(0.0, 1.0)), limits=bool(seed % 2),
                               tightness=float(rng.uniform(0.3, 0.9)), eligible_share=float(rng.uniform(0.2, 0.8)))
    changed = scaled(problem, float(rng.uniform(0.9, 1.1)), float(rng.uniform(0.9, 1.1)))
    reduced_engine, whole_engine = _engine(problem, True), _engine(problem, False)
    reduced_engine.solve()
    whole_engine.solve()
    for plan in (False, True):
        try:
            whole = whole_engine.solve(changed, plan=plan)
        except allocator.InfeasibleError:
            with pytest.raises(allocator.InfeasibleError):
                reduced_engine.solve(changed, plan=plan)
            return
        reduced = reduced_engine.solve(changed, plan=plan)
        assert reduced_engine.fast.reduction.whole in (None, "no columns to leave out")
        assert relative_gap(reduced.objective.total, whole.objective.total, _gross(whole)) <= 1e-9
        if reduced_engine.fast.reduction.whole is None:
            assert not reduced_engine.fast.reduction.crossed
            if not plan:
                assert _kkt(reduced_engine) <= 1e-9
        moved, least = sum(s.value for s in reduced.plan), sum(s.value for s in whole.plan)
        assert moved == pytest.approx(least, rel=1e-9, abs=1e-9 * _gross(whole))
        assert_verified(changed, reduced)


@pytest.mark.parametrize("seed", range(4))
def test_cost_to_go_is_the_bellman_fixpoint(seed):
    """The dual completion's cost to go (value iteration on moves grouped once per layout, and the Dijkstra it
    falls back to) against a plain Bellman-Ford: ``y_u = min(terminal_u, min over moves u -> v of cost + y_v)``,
    with zero-cost moves, negative terminal costs and, for odd seeds, a second route beside an existing one
    (parallel moves)."""
    from allocator.program._lp.paths import Network, _cost_to_go

    problem = generate_problem(12, 2, 4, seed=seed, topology="complete")
    if seed % 2:
        route = problem.routes[0]
        problem = problem.model_copy(update={"routes": [*problem.routes, route.model_copy(
            update={"cost_bps": route.cost_bps + 3.0})]})
    layout = Layout.from_problem(problem)
    fast = FastProgram(layout, {})
    fast.assign(Numbers.from_problem(problem, layout), profile("HIGHS"))
    network = Network.of(layout, fast.matrices)
    rng = np.random.default_rng(seed)
    cost = np.where(rng.random(layout.n_moves) < 0.3, 0.0, rng.random(layout.n_moves))
    network = Network(tail=network.tail, head=network.head, cost=cost, inert=network.inert,
                      carry=network.carry, supply=network.supply)
    arcs = len(np.unique(network.tail * layout.n_cells + network.head))
    assert (arcs < layout.n_moves) == bool(seed % 2)
    terminal = rng.normal(size=layout.n_cells)
    expected = terminal.copy()
    for _ in range(layout.n_cells + 1):
        np.minimum.at(expected, network.tail, cost + expected[network.head])
    for rounds in (8, 8, 1):  # value iteration (the second call reads the cached structure), then Dijkstra
        assert np.allclose(_cost_to_go(layout, network, terminal, rounds), expected, rtol=0, atol=1e-12)


def _planted_infeasible() -> tuple[allocator.Problem, allocator.Problem]:
    """A hub-and-spoke book and the same book with one requirement 40 times larger: infeasible."""
    book = generate_problem(30, 2, 6, seed=3, topology="hub")
    planted = book.model_dump(by_alias=True)
    planted["accounts"][1]["requirement"] *= 40
    return book, allocator.Problem.model_validate(planted)


@pytest.mark.parametrize("short", ["default", "never"])
@pytest.mark.parametrize("resolve", [False, True])
def test_an_infeasible_smaller_program_is_decided_by_the_elastic_program(monkeypatch, short, resolve):
    """The smaller program infeasible: the elastic program, short by far more than SHORT, decides at once and the
    diagnosis reads its run (one elastic run, the whole program never run); with SHORT beyond any shortfall the
    whole program decides as before. The same shortfalls either way, cold and as a what-if re-solve."""
    book, infeasible = _planted_infeasible()
    expected, _ = _diagnosed(infeasible, False)  # the whole program's own diagnosis
    monkeypatch.setattr(FastProgram, "_surely_short", lambda self: False)  # the smaller program runs first here
    if short == "never":
        monkeypatch.setattr(fast_module, "SHORT", np.inf)
    engine = _engine(book if resolve else infeasible, True)
    if resolve:
        engine.solve()
    runs = HighsRuns(monkeypatch)
    with pytest.raises(allocator.InfeasibleError) as caught:
        engine.solve(infeasible) if resolve else engine.solve()
    assert caught.value.diagnosis.by_account() == pytest.approx(expected, rel=1e-9)
    whole, columns = engine.fast.structure.blocks.columns, [n for n, _ in runs.seen]
    assert len(_elastic_runs(engine, runs)) == 2  # the elastic program solved once: its two stages
    assert (whole in columns) is (short == "never")


def _elastic_runs(engine: allocator.Allocator, runs: HighsRuns) -> list[int]:
    """The column counts of the elastic program's HiGHS runs (the whole program's, or on the useful columns): two
    per elastic solve, the least shortfall and the tie-break on its optimal face."""
    elastic = engine.fast._elastic
    sizes = {elastic.structure.blocks.columns} | ({len(elastic.reduced[1].kept)} if elastic.reduced else set())
    return [n for n, _ in runs.seen if n in sizes]


def _credit_bounds(problem: allocator.Problem) -> tuple[float, dict[str, float]]:
    """The screen's bounds by hand, in currency: every holding's value at its asset's best 1 - haircut anywhere
    (all accounts together), and per account every asset it takes at that asset's whole value today."""
    worth, best, own = credit_bounds(problem)
    return sum(value * best[a] for a, value in worth.items()), own


def _screened_at_once(monkeypatch, infeasible: allocator.Problem, book: allocator.Problem | None) -> None:
    """``infeasible`` (a what-if of ``book`` when given) is screened: the elastic program runs once and alone (no
    smaller or whole program), and its diagnosis is the whole program's."""
    expected, _ = _diagnosed(infeasible, False)  # the whole program's own diagnosis
    runs = HighsRuns(monkeypatch)
    found, engine = _diagnosed(infeasible, True, book)
    assert engine.fast.reduction.screened
    assert found == pytest.approx(expected, rel=1e-9)
    elastic = _elastic_runs(engine, runs)
    assert len(elastic) == 2 and [n for n, _ in runs.seen][-2:] == elastic  # its two stages, last and alone
    monkeypatch.undo()


def _limited(data: dict, account: str, share: float) -> allocator.Problem:
    """The problem ``data`` with every eligible asset of ``account`` capped at ``share`` of its collateral."""
    data = copy.deepcopy(data)
    for row in data["accounts"]:
        if row["id"] == account:
            row["concentration"] = {asset: share for asset in row["haircuts"]}
    return allocator.Problem.model_validate(data)


@pytest.mark.parametrize("resolve", [False, True])
def test_requirements_beyond_any_credit_go_to_the_elastic_program_at_once(monkeypatch, resolve):
    """Requirements beyond what the holdings can be credited, all accounts together (every asset's value today at
    its best 1 - haircut) or one account alone (every asset it takes at its whole value): the elastic program runs
    at once (no smaller or whole program), and its diagnosis is the whole program's, cold and as a what-if
    re-solve. So do two accounts each within its own bound and the total within the joint one, short because both
    need the same assets (the group bound, fifteenth session). A feasible book, or one short only because of its
    concentration limits, is not screened."""
    book, total = _planted_infeasible()  # one account's requirement 40 times: beyond the joint bound
    data = book.model_dump(by_alias=True)
    data["accounts"][0]["requirement"] *= 5.5  # beyond the 4.8 times its own assets can give it, within the joint
    alone = allocator.Problem.model_validate(data)
    together, own = _credit_bounds(book)
    assert sum(t.required for t in book.terms.values()) < together
    assert all(t.required < own[k] for k, t in book.terms.items())
    assert sum(t.required for t in total.terms.values()) > together
    assert sum(t.required for t in alone.terms.values()) < together
    assert alone.terms["acct-00"].required > own["acct-00"]
    # two accounts at 0.9 of their own bounds, the others at zero: each within its own bound and the total within
    # the joint one, short because both need the same assets
    shared = competing(book, own, 0.9)
    assert all(shared.terms[k].required < own[k] for k in ("acct-00", "acct-01"))
    assert sum(t.required for t in shared.terms.values()) < together
    for infeasible in (total, alone, shared):
        _screened_at_once(monkeypatch, infeasible, book if resolve else None)
    # an account whose concentration limits add up to less than one share: only its limits make it short (a
    # what-if of the same book with every limit of that account at 0.99)
    data["accounts"][0]["requirement"] = book.accounts[0].requirement
    limited, limits_book = (_limited(data, "acct-02", share) for share in (0.05, 0.99))
    rows = []
    for reduce in (False, True):  # the whole program's diagnosis, then the smaller program's path
        engine = _engine(limits_book if resolve and reduce else limited, reduce)
        if resolve and reduce:
            engine.solve()
        with pytest.raises(allocator.InfeasibleError) as caught:
            engine.solve(limited) if resolve and reduce else engine.solve()
        rows.append({(s.account, s.constraint): s.amount for s in caught.value.diagnosis.shortfalls})
    assert rows[0] and all(account == "acct-02" for account, _ in rows[0])
    assert not engine.fast.reduction.screened and engine.fast.reduction.reduced_columns is not None
    assert rows[1] == pytest.approx(rows[0], rel=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_the_screens_bounds_never_exceed_the_elastic_optimum(seed):
    """Every bound of the screen (all accounts, each alone, the most pressed groups: ``_grouped_short``) is a lower
    bound of the elastic program's optimum, on random what-ifs of requirements and prices, feasible or not."""
    rng = np.random.default_rng(seed)
    book = generate_problem(30, 2, 6, seed=seed, topology="hub" if seed % 2 else "complete")
    layout = Layout.from_problem(book)
    fast = FastProgram(layout, dict(profile("HIGHS").options))
    fired = 0
    for _ in range(6):
        data = book.model_dump(by_alias=True)
        for account in data["accounts"]:
            account["requirement"] *= float(rng.choice([0.0, 1.0, rng.uniform(0.5, 12.0)]))
        for asset in data["assets"]:
            asset["price"] *= float(rng.uniform(0.5, 1.2))
        fast.assign(Numbers.from_problem(allocator.Problem.model_validate(data), layout), profile("HIGHS"))
        v = fast.values
        worth = v.holdings.reshape(layout.n_assets, layout.n_locations).sum(axis=1)
        credit = v.weight * v.account_scale[layout.pair_account]
        needed = v.account_scale * v.required
        own = np.bincount(layout.pair_account, weights=credit * worth[layout.pair_asset], minlength=len(needed))
        bound = fast_module._grouped_short(layout, worth, credit, needed, own)
        assert fast.run_elastic(None).status is Status.OPTIMAL
        optimum = fast._elastic.lp.objective()
        assert bound <= optimum + 1e-9 * max(1.0, optimum)
        if fast._surely_short():
            fired += 1
            assert optimum > fast_module.SHORT * fast._elastic_weights()
    assert fired  # some what-ifs are screened


def test_a_screened_problem_the_elastic_run_does_not_decide_takes_the_usual_path(monkeypatch):
    """The screen fires but the elastic run does not say short (here forced: as when it stops at a time limit):
    the smaller program runs as before, within what is left of the time limit, and the diagnosis is the whole
    program's."""
    _, infeasible = _planted_infeasible()
    expected, _ = _diagnosed(infeasible, False)
    decided = []
    real_short = FastProgram._short

    def short_once(self, time_limit):
        decided.append(time_limit)
        return False if len(decided) == 1 else real_short(self, time_limit)

    monkeypatch.setattr(FastProgram, "_short", short_once)
    seen_limits = []
    real_solve = HighsLP.solve

    def solve(self, time_limit=None, *args, **kwargs):
        seen_limits.append(time_limit)
        return real_solve(self, time_limit, *args, **kwargs)

    monkeypatch.setattr(HighsLP, "solve", solve)
    engine = _engine(infeasible, True, time_limit=60.0)
    with pytest.raises(allocator.InfeasibleError) as caught:
        engine.solve()
    assert not engine.fast.reduction.screened and engine.fast.reduction.reduced_columns is not None
    assert caught.value.diagnosis.by_account() == pytest.approx(expected, rel=1e-9)
    assert len(decided) == 2 and decided[0] <= 60.0
    assert all(limit is not None and limit < 60.0 for limit in seen_limits[1:])  # after the screen's elastic run


def test_a_devex_run_goes_on_with_steepest_edge_after_its_iterations(monkeypatch):
    """A re-solve from the home basis prices by Devex for DEVEX_ITERATIONS at most, then goes on with HiGHS's own
    choice from where it stopped: forced after one iteration, the same optimum as a fresh engine's."""
    problem = generate_problem(40, 2, 6, seed=4, topology="hub")
    changed = scaled(problem, 0.97, 1.05)
    monkeypatch.setattr(highs_module, "DEVEX_ITERATIONS", 1)
    engine = _engine(problem, True)
    engine.solve()
    runs = HighsRuns(monkeypatch)
    result = engine.solve(changed, plan=False)
    assert engine.fast.reduction.warm
    assert runs.seen[:2] == [(engine.fast.reduction.reduced_columns, DEVEX),
                             (engine.fast.reduction.reduced_columns, CHOOSE)]
    fresh = _engine(changed, True).solve(plan=False)
    assert relative_gap(result.objective.total, fresh.objective.total) < 1e-9


@pytest.mark.parametrize("limit", [1, 3])
@pytest.mark.parametrize("restart", [None, 2])
def test_a_devex_run_keeps_the_options_iteration_limit(limit, restart):
    """Devex then steepest edge, and a restart from scratch, make no more iterations together than the options'
    limit: an honest stop. A restart at or beyond the limit never happens."""
    problem = generate_problem(40, 2, 6, seed=4, topology="hub")
    engine = _engine(problem, False)
    engine.solve()
    fast = engine.fast
    basis = fast.lp.basis()
    numbers = Numbers.from_problem(scaled(problem, 0.8, 1.5), engine.layout)
    fast.assign(numbers, profile("HIGHS"))
    lp = HighsLP({**profile("HIGHS").options, "simplex_iteration_limit": limit})
    lp.load(fast.matrices, basis)
    record = lp.solve(None, devex=True, restart=restart)
    assert record.status is Status.USER_LIMIT and record.iterations <= limit
    assert lp.restarted is (restart is not None and restart < limit)
    assert _value(lp.highs.getOptionValue("simplex_iteration_limit")) == limit


@pytest.mark.parametrize("plan", [False, True])
def test_a_hard_resolve_starts_again_from_scratch(monkeypatch, plan):
    """A re-solve from the home basis that makes WARM_SHARE of the home solve's iterations without ending starts
    the smaller program again from scratch (presolved): forced after one iteration, a feasible what-if takes a
    fresh engine's optimum and an infeasible one gets the whole program's diagnosis."""
    monkeypatch.setattr(fast_module, "WARM_SHARE", 1e-9)  # restart after one iteration
    problem = generate_problem(40, 2, 6, seed=4, topology="hub")
    changed = scaled(problem, 0.97, 1.05)
    engine = _engine(problem, True)
    engine.solve()
    runs = HighsRuns(monkeypatch)
    result = engine.solve(changed, plan=plan)
    reduction = engine.fast.reduction
    assert reduction.warm and reduction.restarted and reduction.whole is None
    assert runs.seen[:2] == [(reduction.reduced_columns, DEVEX), (reduction.reduced_columns, CHOOSE)]
    fresh = _engine(changed, True).solve(plan=plan)
    assert relative_gap(result.objective.total, fresh.objective.total) < 1e-9
    assert_verified(changed, result)

    book, infeasible = _planted_infeasible()
    expected, _ = _diagnosed(infeasible, False)
    monkeypatch.setattr(FastProgram, "_surely_short", lambda self: False)  # the planted book would be screened
    engine = _engine(book, True)
    engine.solve()
    with pytest.raises(allocator.InfeasibleError) as caught:
        engine.solve(infeasible, plan=plan)
    assert engine.fast.reduction.restarted
    assert caught.value.diagnosis.by_account() == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("resolve", [False, True])
def test_the_elastic_program_by_ipx_leaves_the_same_least_shortfall(monkeypatch, resolve):
    """The elastic program from ELASTIC_IPM_MIN_COLUMNS columns on is solved by IPX with crossover: the same least
    shortfall, account by account here (one account is short), as by the dual simplex."""
    book, infeasible = _planted_infeasible()
    found = {}
    for method, threshold in (("ipx", 0), ("simplex", NEVER)):
        monkeypatch.setattr(fast_module, "ELASTIC_IPM_MIN_COLUMNS", threshold)
        found[method], engine = _infeasible(infeasible, True, book if resolve else None)
        assert engine.fast._elastic.method == method  # stage one's (stage two runs the simplex method)
    assert found["ipx"].total == pytest.approx(found["simplex"].total, rel=1e-9)
    assert found["ipx"].by_account() == pytest.approx(found["simplex"].by_account(), rel=1e-9)


@pytest.mark.parametrize("resolve", [False, True])
def test_the_elastic_programs_ipx_runs_leave_out_dual_fixing_with_the_same_answer(monkeypatch, resolve):
    """The elastic program's IPX runs skip HiGHS's dual-fixing presolve rule (ELASTIC_PRESOLVE_RULE_OFF), its
    simplex runs do not, and a ``presolve_rule_off`` of the caller's wins. Without the rule IPX leaves the same
    elastic optimum, the same shortfalls account by account and limit by limit, and the same allocation, on
    infeasible books with one account short, two competing for the same assets, many short, and one short only
    through its concentration limits."""
    book, total = _planted_infeasible()
    _, own = _credit_bounds(book)
    shared = competing(book, own, 0.9)
    wide = generate_problem(60, 2, 10, seed=5, topology="hub")
    limits = _limited(book.model_dump(by_alias=True), "acct-02", 0.05)
    cases = [(book, total), (book, shared), (wide, scaled(wide, 0.7, 1.2)),
             (_limited(book.model_dump(by_alias=True), "acct-02", 0.99), limits)]
    monkeypatch.setattr(fast_module, "ELASTIC_IPM_MIN_COLUMNS", 0)
    for home, infeasible in cases:
        found = []
        for rule_off in (fast_module.ELASTIC_PRESOLVE_RULE_OFF, 0):
            monkeypatch.setattr(fast_module, "ELASTIC_PRESOLVE_RULE_OFF", rule_off)
            diagnosis, engine = _infeasible(infeasible, True, home if resolve else None)
            lp = engine.fast._elastic.lp
            assert engine.fast._elastic.method == "ipx"  # stage one's (stage two runs the simplex method)
            assert _value(lp.highs.getOptionValue("presolve_rule_off")) == rule_off
            found.append(({(s.account, s.constraint): s.amount for s in diagnosis.shortfalls},
                          lp.objective(), lp.solution().col_value))
        assert found[0][0] and found[0][0] == pytest.approx(found[1][0], rel=1e-9)
        assert found[0][1] == pytest.approx(found[1][1], rel=1e-12)
        assert np.allclose(found[0][2], found[1][2], rtol=1e-9, atol=1e-12)
    monkeypatch.setattr(fast_module, "ELASTIC_IPM_MIN_COLUMNS", NEVER)  # the dual simplex: HiGHS's own presolve
    engine = _engine(total, True)
    with pytest.raises(allocator.InfeasibleError):
        engine.solve()
    assert _value(engine.fast._elastic.lp.highs.getOptionValue("presolve_rule_off")) == 0
    monkeypatch.setattr(fast_module, "ELASTIC_IPM_MIN_COLUMNS", 0)
    engine = _engine(total, True, solver_options={"presolve_rule_off": 8})
    with pytest.raises(allocator.InfeasibleError):
        engine.solve()
    assert _value(engine.fast._elastic.lp.highs.getOptionValue("presolve_rule_off")) == 8
