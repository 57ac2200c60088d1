"""``Allocator``: compile a problem's program once, then solve, verify and plan (again and again).

One solve is three steps on the same compiled program: minimise capital cost; on the optimal face of that
program, minimise the value moved (so an already-covered desk gets an empty plan), accepted only if the cost did
not rise by more than ``10 * COST_TOLERANCE`` of the cost scale; verify the result in numpy and order its
transfers safely. An infeasible problem is diagnosed with the elastic
program and raised as :class:`~allocator.errors.InfeasibleError`.

Two backends solve the same program (``backend``): the cvxpy program (program/_model.py: every feature, compiled
once with DPP) and the compile-free linear path (program/_lp/, solve/_fast.py: the LP's matrices built from index
arrays and passed to HiGHS directly). Both feed the same verification, ladder, sensitivities and plan.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from allocator.errors import InfeasibleError, SolverError, VerificationError
from allocator.inputs.problem import Problem
from allocator.inputs.scenario import Scenario
from allocator.plan.ledger import Ledger
from allocator.plan.order import OrderedPlan, UnbalancedTransfers, order
from allocator.plan.transfers import transfers_from_moves
from allocator.plan.validate import FUNDABLE, validate_plan
from allocator.program._allocation import ROUNDING, Allocation
from allocator.program._layout import Layout
from allocator.program._numbers import Numbers
from allocator.program._scaling import Scale
from allocator.program._scenarios import is_static, most_violated, stressed_collateral
from allocator.program._shared import COST_TOLERANCE, SlotsFull
from allocator.results.result import Diagnostics, Result, Shortfall
from allocator.solve._blas import one_blas_thread
from allocator.solve._diagnose import Diagnosis
from allocator.solve._fast import FastProgram
from allocator.solve._figures import cost as _cost
from allocator.solve._figures import result_of, shortfalls
from allocator.solve._highs import foreign_options
from allocator.solve._ladder import climb
from allocator.solve._sensitivity import Sensitivity
from allocator.solve._solvers import (
    Backend,
    SolveRecord,
    SolverProfile,
    choose_backend,
    normalise,
    profile,
    run,
    values,
)
from allocator.solve._status import Status
from allocator.solve._verify import check

if TYPE_CHECKING:  # the cvxpy program, imported when first built: the linear path runs without cvxpy
    from allocator.program._model import Program


class Allocator:
    """A problem's compiled program. ``solve()`` solves it; ``solve(other)`` re-solves a problem of the
    same structure (same assets, locations, accounts, eligibility, limits and routes) by setting parameters.

    ``backend``: "cvxpy" (the general program), "highs" (the compile-free linear path; an error for a problem
    with a feature it does not have, another solver or a solver option HiGHS does not know) or "auto" (the linear
    path for every problem of supported features solved with HiGHS, solvers.choose_backend)."""

    def __init__(self, problem: Problem, solver: str | None = None, *, time_limit: float | None = None,
                 minimise_moves: bool = True, solver_options: dict[str, Any] | None = None,
                 fallback: str | None = None, backend: Backend = "auto") -> None:
        self.problem = problem
        self.layout = Layout.from_problem(problem)
        self.solver = normalise(solver, self.layout.has_cones)
        self.primary = self.solver
        self.fallback = normalise(fallback, self.layout.has_cones) if fallback else None
        self.time_limit = time_limit
        self.minimise_moves = minimise_moves
        self.solver_options = dict(solver_options or {})
        if "time_limit" in self.solver_options:
            raise ValueError("solver_options['time_limit']: pass time_limit= to the Allocator (or optimize) instead; "
                             "it bounds every solve on either path")
        foreign = foreign_options(self.solver_options) if self.solver_options and backend != "cvxpy" \
            and self.solver == "HIGHS" else []
        self.backend = choose_backend(backend, self.layout, self.solver, foreign)
        self._program: Program | None = None  # the cvxpy program, built on first need
        self.fast = FastProgram(self.layout, {**profile("HIGHS").options, **self.solver_options},
                                warm_starts=self.solver_options.get("warm_start", True)) \
            if self.backend == "highs" else None
        self.compilations = 0
        self.records: list[SolveRecord] = []
        self.retried: list[str] = []  # notes of re-solves after an inaccurate status, for the result

    @property
    def program(self) -> Program:
        """The cvxpy program (built on first use: the linear path never needs it)."""
        if self._program is None:
            from allocator.program._model import Program

            self._program = Program(self.layout)
        return self._program

    @property
    def _fast(self) -> FastProgram | None:
        """The linear path when it serves the current solver (a fallback solver goes through cvxpy)."""
        return self.fast if self.solver == "HIGHS" else None

    def _record(self, record: SolveRecord) -> SolveRecord:
        self.compilations += record.compiled
        self.records.append(record)
        return record

    def _run(self, problem: Any) -> SolveRecord:
        record = run(problem, self.solver, self.time_limit, **self.solver_options)
        if record.note and record.status is Status.OPTIMAL:
            self.retried.append(record.note)
        return self._record(record)

    def solve(self, changes: Problem | Scenario | dict[str, Any] | None = None, *, plan: bool = True) -> Result:
        """Solve the compiled problem, or a changed one: a Problem of the same structure, or a Scenario (or its
        dict). Only parameter values change; nothing is recompiled. ``plan=False`` skips the moves phase and the
        transition plan (what-if rows need neither); the optimum and its verification are the same."""
        started = time.perf_counter()
        self.records = []
        self.retried = []
        problem = self.changed(changes)
        self.solver = self.primary
        with one_blas_thread():  # BLAS's spinning threads would take the cores HiGHS needs (solve/_blas.py)
            try:
                return self._solve(problem, plan, started, fallback_note=None)
            except SolverError as error:  # includes VerificationError; never InfeasibleError or InputError
                if self.fallback is None or self.fallback == self.primary:
                    raise
                note = (f"fallback: {self.primary} failed ({error.status}: {str(error)[:200]}); solved with "
                        f"{self.fallback}")
                self.solver = self.fallback
                try:
                    return self._solve(problem, plan, started, fallback_note=note)
                finally:
                    self.solver = self.primary

    def _solve(self, problem: Problem, plan: bool, started: float, fallback_note: str | None) -> Result:
        if (self._fast is not None and self._fast.warm_starts and problem is not self.problem
                and not self._fast.home_tried):
            self._home_basis()
        optimum = self._optimum(problem, moves=plan and self.minimise_moves)
        optimum.notes.extend(dict.fromkeys(self.retried))  # each distinct re-solve note once
        if fallback_note:
            optimum.notes.insert(0, fallback_note)
        result = self._result(optimum, plan, started)
        if fallback_note:
            result = result.model_copy(update={"diagnostics": result.diagnostics.model_copy(
                update={"fallback_from": self.primary})})
        if plan:
            hedged = (self.layout, optimum.numbers.hedged(self.layout, optimum.allocation.hedge)) \
                if self.layout.n_hedges else None  # the same hedged numbers validate_plan would rebuild
            replay = [x for x in validate_plan(problem, result, arrays=hedged) if not (x.kind in FUNDABLE and
                      result.plan[x.step - 1].needs_funding)]
            if replay:
                raise VerificationError([str(x) for x in replay], solver=self.solver)
        return result

    def changed(self, changes: Problem | Scenario | dict[str, Any] | None) -> Problem:
        """The problem a solve is about: the compiled one, a same-structure Problem, or the compiled one changed
        by a scenario. Raises InputError for a bad scenario and ValueError for a different structure."""
        if changes is None:
            return self.problem
        problem = changes if isinstance(changes, Problem) else Scenario.parse(changes).apply(self.problem)
        if problem is not self.problem and Layout.from_problem(problem).signature() != self.layout.signature():
            raise ValueError("the problem's structure differs from the compiled one; build a new Allocator")
        return problem

    def _optimum(self, problem: Problem, moves: bool) -> Optimum:
        working: list[list[int]] | None = None
        while True:
            try:
                return self._optimum_with(problem, moves, working)
            except SlotsFull as full:  # rebuild with more stress slots per account; keep the working set
                from allocator.program._model import Program

                working = full.working
                slots = max(2 * self.program.stress_slots, max(len(w) for w in working))
                self._program = Program(self.layout, stress_slots=min(slots, len(self.layout.stress)))

    def _home_basis(self) -> None:
        """Solve the engine's own problem once on the linear path, so that its optimal basis starts every
        re-solve (a failed solve leaves re-solves starting from scratch)."""
        fast = self._fast
        assert fast is not None
        fast.home_tried = True
        fast.assign(Numbers.from_problem(self.problem, self.layout), profile(self.solver))
        record = self._record(fast.run_cost(self.time_limit, warm=False, for_home=True))
        if record.status is Status.OPTIMAL:
            fast.keep_home_basis()

    def _optimum_with(self, problem: Problem, moves: bool, working: list[list[int]] | None) -> Optimum:
        layout, fast = self.layout, self._fast
        numbers = Numbers.from_problem(problem, layout)
        rungs: _Rungs = _CostRungs(self, problem, numbers, working) if fast is None else \
            _FastRungs(self, problem, numbers)
        climbed = climb(rungs, profile(self.solver), widen=layout.has_cones)
        allocation, scale, notes = climbed.answer, rungs.scale, climbed.notes
        sensitivity = Sensitivity.read(self.program, numbers, scale) if fast is None else \
            fast.sensitivity(numbers, scale)
        optimum = Optimum(problem, numbers, scale, allocation, sensitivity, ["cost"], notes)
        if moves and np.any(allocation.moved > 0):
            if fast is None:
                self.program.restrict_to_optimum()
                record = self._run_scenarios("moves", numbers, scale)
            else:
                fast.restrict_to_optimum()
                record = self._record(fast.run_moves(self.time_limit))
            cost = _cost(allocation, layout, numbers)
            better, why = self._fewer_moves(record, layout, numbers, scale,
                                            (cost[0] + allocation.hedge_cost(numbers), cost[1]))
            if better is None:
                notes.append(f"moves phase not used ({why}); the cost optimum is returned as found")
            else:
                optimum.allocation = better
                optimum.phases.append("moves")
        return optimum

    def _run_scenarios(self, phase: str, numbers: Numbers, scale: Scale) -> SolveRecord:
        """Solve one phase ("cost", "moves" or "elastic"); with a working set of stress scenarios
        (program/_scenarios.py), add the most violated scenarios and re-solve until none is violated."""
        program = self.program
        while True:
            record = self._run(program.problem if phase == "cost" else program.moves if phase == "moves"
                               else program.elastic.problem)
            if is_static(self.layout, self.program.stress_slots) or record.status is not Status.OPTIMAL:
                return record
            holding, _ = self._values(record)
            hedged = numbers.hedged(self.layout, self._hedge(scale))  # their margin and P&L (docs/hedging.md)
            floor = program.stress_floor(hedged, scale)
            if phase == "elastic":
                floor = floor - np.asarray(program.elastic.shortfall.value) * scale.money * scale.accounts
            stressed = stressed_collateral(self.layout, hedged, holding * scale.money)
            additions = most_violated(stressed, floor, program.working, self.layout.risk_accounts)
            if not additions:
                return record
            program.add_scenarios(additions)  # SlotsFull when they do not fit: _optimum rebuilds

    def _values(self, record: SolveRecord, phase: str = "cost") -> tuple[np.ndarray, np.ndarray]:
        if record.status is not Status.OPTIMAL:
            raise SolverError(f"solver {record.solver} returned {record.raw_status!r}; only 'optimal' is accepted",
                              solver=record.solver, status=record.status.value)
        if self._fast is not None:
            answer = self._fast.answer(phase)
            holding, move = answer if answer is not None else (None, None)
        else:
            holding, move = values(self.program.variables.holding), values(self.program.variables.move)
        if holding is None or move is None:
            raise SolverError(f"solver {record.solver} said optimal but returned missing or non-finite values",
                              solver=record.solver, status="missing_values")
        return holding, move

    def _hedge(self, scale: Scale, phase: str = "cost") -> np.ndarray:
        """(H,) the hedges' signed notional (currency) of the last solve (of ``phase`` on the linear path: "cost",
        "moves" or "elastic"); empty without hedges."""
        if not self.layout.n_hedges:
            return np.zeros(0)
        if self._fast is not None:
            x = self._fast.hedge(phase)
        else:
            v = self.program.variables
            x = values(v.hedge) if v.hedge is not None else None
        if x is None:
            raise SolverError(f"solver {self.solver} said optimal but returned missing or non-finite hedges",
                              solver=self.solver, status="missing_values")
        h = self.layout.n_hedges
        return (x[:h] - x[h:]) * scale.money * scale.accounts[self.layout.hedge_account]  # program/_hedges.py units

    def _fewer_moves(self, record: SolveRecord, layout: Layout, numbers: Numbers, scale: Scale,
                     cost: tuple[float, float]) -> tuple[Allocation | None, str]:
        """The least-moving optimum, or None and why not. A linear program's face is exact, so a failed check
        there is a solver fault (VerificationError); a conic program's moves phase runs against a cost bound
        that leaves the solver little room, so its failed check only means the cost optimum is kept."""
        if record.status is not Status.OPTIMAL:
            return None, record.raw_status
        holding, move = self._values(record, "moves")
        allocation, violations = check(layout, numbers, scale, holding, move, tolerance=profile(self.solver).tolerance,
                                       hedge=self._hedge(scale, "moves"))
        if violations and not layout.has_cones:
            raise VerificationError(violations, solver=self.solver)
        if violations:
            return None, f"its answer failed verification: {violations[0]}"
        if sum(_cost(allocation, layout, numbers)) + allocation.hedge_cost(numbers) \
                > sum(cost) + 10 * COST_TOLERANCE * scale.cost:
            return None, "it raised the cost"
        return allocation, ""

    def _diagnose(self, problem: Problem, numbers: Numbers, scale: Scale) -> InfeasibleError | None:
        """The error to raise for an infeasible problem, or None if no account is short by more than the
        verification tolerance (the problem is feasible, but only without the coverage margin)."""
        layout, fast = self.layout, self._fast
        record = self._run_scenarios("elastic", numbers, scale) if fast is None else \
            self._record(fast.run_elastic(self.time_limit))
        holding, move = self._values(record, "elastic")
        allocation, violations = check(layout, numbers, scale, holding, move, elastic=True,
                                       tolerance=profile(self.solver).tolerance, hedge=self._hedge(scale, "elastic"))
        if violations:
            raise VerificationError(violations, solver=self.solver)
        floor = ROUNDING * scale.money  # short by more than float rounding: truly infeasible
        rows = shortfalls(layout, numbers.hedged(layout, allocation.hedge), allocation, floor)
        portfolio = 0.0 if fast is not None else \
            float(self.program.elastic.portfolio_shortfall.value or 0.0) * scale.money
        if portfolio > floor:
            rows.append(Shortfall(account="portfolio", amount=portfolio, constraint="portfolio"))
        rows += [Shortfall(account=layout.accounts[layout.pair_account[layout.limit_pair[i]]], amount=float(over),
                           constraint=layout.limit_label(i))
                 for i, over in enumerate(allocation.limit_excess(layout, numbers)) if over > floor]
        if not rows:
            return None
        notes = [note] if fast is not None and (note := fast.elastic_note()) else []
        result = Result(status="infeasible", currency=problem.currency, shortfalls=list(rows),
                        diagnostics=self._diagnostics("infeasible", ["cost", "elastic"], notes, scale, 0.0))
        return InfeasibleError(Diagnosis(problem.currency, tuple(rows), self.solver), result)

    def _diagnostics(self, status: str, phases: list[str], notes: list[str], scale: Scale,
                     started: float) -> Diagnostics:
        return Diagnostics(
            solver=self.solver, status=status, phases=phases, notes=notes,
            compile_seconds=sum(r.compile_seconds for r in self.records),
            setup_seconds=sum(r.setup_seconds for r in self.records),
            solve_seconds=sum(r.solve_seconds for r in self.records),
            total_seconds=time.perf_counter() - started if started else 0.0,
            money_scale=scale.money, rate_scale=scale.rate)

    def _result(self, optimum: Optimum, plan: bool, started: float) -> Result:
        layout, unhedged, allocation = self.layout, optimum.numbers, optimum.allocation
        numbers = unhedged.hedged(layout, allocation.hedge)  # every figure below sees the hedges (hedging.md)
        notes = optimum.notes
        if plan:
            try:
                ordered = order(Ledger(optimum.problem, (layout, numbers)),
                                     transfers_from_moves(layout, allocation.moved))
            except UnbalancedTransfers as error:
                raise VerificationError([str(error)], solver=self.solver) from None
            if not ordered.safe:
                notes.append("no safe order exists for every transfer: the steps flagged needs_funding take an "
                             "account below its floor unless it is funded temporarily by the amounts in `funding`")
        else:
            ordered = OrderedPlan()
            notes.append("plan not computed (plan=False)")
        return result_of(layout, optimum.problem, (unhedged, numbers), allocation, optimum.sensitivity, ordered, plan,
                         self._diagnostics("optimal", optimum.phases, notes, optimum.scale, started))


@dataclass
class _Rungs:
    """The engine's rungs for the solve ladder (solve/_ladder.py): the cost phase, verified and diagnosed alike on
    both backends; ``attempt`` is the backend's."""

    engine: Allocator
    problem: Problem
    numbers: Numbers
    scale: Scale = field(init=False)

    @property
    def solver(self) -> str:
        return self.engine.solver

    def attempt(self, margins: SolverProfile) -> SolveRecord:
        raise NotImplementedError

    def verify(self, record: SolveRecord, margins: SolverProfile) -> Allocation:
        holding, move = self.engine._values(record)
        allocation, violations = check(self.engine.layout, self.numbers, self.scale, holding, move,
                                       tolerance=profile(self.solver).tolerance, hedge=self.engine._hedge(self.scale))
        if violations:
            raise VerificationError(violations, solver=self.solver)
        return allocation

    def diagnose(self) -> InfeasibleError | None:
        return self.engine._diagnose(self.problem, self.numbers, self.scale)


@dataclass
class _CostRungs(_Rungs):
    """The cvxpy program's cost phase, with the stress working set kept across a rebuild (first attempt only)."""

    working: list[list[int]] | None = None

    def attempt(self, margins: SolverProfile) -> SolveRecord:
        program = self.engine.program
        self.scale = program.assign(self.numbers, margins, program.working if self.working is None else self.working)
        self.working = None
        return self.engine._run_scenarios("cost", self.numbers, self.scale)


@dataclass
class _FastRungs(_Rungs):
    """The linear path's cost phase (solve/_fast.py): from the home basis once there is one."""

    def attempt(self, margins: SolverProfile) -> SolveRecord:
        engine, fast = self.engine, self.engine.fast
        assert fast is not None
        self.scale = fast.assign(self.numbers, margins)
        home = self.problem is engine.problem and margins == profile(self.solver) and fast.home_basis is None
        record = engine._record(fast.run_cost(engine.time_limit, warm=fast.warm_starts and fast.home_basis is not None,
                                              for_home=home))
        if home and record.status is Status.OPTIMAL:
            fast.keep_home_basis()
        return record


@dataclass
class Optimum:
    """A verified cost optimum (and, after the moves phase, the least-moving one) with its sensitivities."""

    problem: Problem
    numbers: Numbers
    scale: Scale
    allocation: Allocation
    sensitivity: Sensitivity
    phases: list[str]
    notes: list[str]


def optimize(problem: Problem, solver: str | None = None, **options: Any) -> Result:
    """Solve ``problem``: optimal targets, account coverage and a safe transition plan.

    Raises InputError (never, for a validated Problem), InfeasibleError with the shortfall per account, or
    SolverError when the solver does not return a verified optimum. ``options`` go to :class:`Allocator`.
    """
    return Allocator(problem, solver, **options).solve()
