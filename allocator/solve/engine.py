"""``Allocator``: compile a problem's program once, then solve, verify and plan (again and again).

One solve is three steps on the same compiled program: minimise capital cost; on the optimal face of that
program, minimise the value moved (so an already-covered desk gets an empty plan), accepted only if the cost did
not rise by more than ``10 * COST_TOLERANCE`` of the cost scale; verify the result in numpy and order its
transfers safely. An infeasible problem is diagnosed with the elastic
program and raised as :class:`~allocator.errors.InfeasibleError`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from allocator.errors import InfeasibleError, SolverError, VerificationError
from allocator.inputs.problem import Problem
from allocator.inputs.scenario import Scenario
from allocator.plan.ledger import Ledger
from allocator.plan.order import OrderedPlan, UnbalancedTransfers, order
from allocator.plan.transfers import transfers_from_moves
from allocator.plan.validate import FUNDABLE, validate_plan
from allocator.program.allocation import ROUNDING, Allocation
from allocator.program.layout import Layout
from allocator.program.model import COST_TOLERANCE, Program, SlotsFull
from allocator.program.numbers import Numbers
from allocator.program.scaling import Scale
from allocator.program.scenarios import is_static, most_violated, stressed_collateral
from allocator.results.result import (
    AccountCoverage,
    Diagnostics,
    Objective,
    PortfolioCoverage,
    Result,
    Shortfall,
    Target,
)
from allocator.solve.diagnose import Diagnosis
from allocator.solve.hedge_report import delta_rows, hedge_positions, hedge_trades
from allocator.solve.ladder import climb
from allocator.solve.liquidation import liquidation_moves
from allocator.solve.sensitivity import Sensitivity
from allocator.solve.solvers import SolveRecord, SolverProfile, normalise, profile, run, values
from allocator.solve.status import Status
from allocator.solve.verify import check


class Allocator:
    """A problem's compiled program. ``solve()`` solves it; ``solve(other)`` re-solves a problem of the
    same structure (same assets, locations, accounts, eligibility, limits and routes) by setting parameters."""

    def __init__(self, problem: Problem, solver: str | None = None, *, time_limit: float | None = None,
                 minimise_moves: bool = True, solver_options: dict[str, Any] | None = None,
                 fallback: str | None = None) -> None:
        self.problem = problem
        self.layout = Layout.from_problem(problem)
        self.solver = normalise(solver, self.layout.has_cones)
        self.primary = self.solver
        self.fallback = normalise(fallback, self.layout.has_cones) if fallback else None
        self.time_limit = time_limit
        self.minimise_moves = minimise_moves
        self.solver_options = dict(solver_options or {})
        self.program = Program(self.layout)
        self.compilations = 0
        self.records: list[SolveRecord] = []
        self.retried: list[str] = []  # notes of re-solves after an inaccurate status, for the result

    def _run(self, problem: Any) -> SolveRecord:
        record = run(problem, self.solver, self.time_limit, **self.solver_options)
        if record.note and record.status is Status.OPTIMAL:
            self.retried.append(record.note)
        self.compilations += record.compiled
        self.records.append(record)
        return record

    def solve(self, changes: Problem | Scenario | dict[str, Any] | None = None, *, plan: bool = True) -> Result:
        """Solve the compiled problem, or a changed one: a Problem of the same structure, or a Scenario (or its
        dict). Only parameter values change; nothing is recompiled. ``plan=False`` skips the moves phase and the
        transition plan (what-if rows need neither); the optimum and its verification are the same."""
        started = time.perf_counter()
        self.records = []
        self.retried = []
        problem = self.changed(changes)
        self.solver = self.primary
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
                working = full.working
                slots = max(2 * self.program.stress_slots, max(len(w) for w in working))
                self.program = Program(self.layout, stress_slots=min(slots, len(self.layout.stress)))

    def _optimum_with(self, problem: Problem, moves: bool, working: list[list[int]] | None) -> Optimum:
        layout, program = self.layout, self.program
        numbers = Numbers.from_problem(problem, layout)
        rungs = _CostRungs(self, problem, numbers, working)
        climbed = climb(rungs, profile(self.solver), widen=layout.has_cones)
        allocation, scale, notes = climbed.answer, rungs.scale, climbed.notes
        optimum = Optimum(problem, numbers, scale, allocation, Sensitivity.read(program, numbers, scale),
                          ["cost"], notes)
        if moves and np.any(allocation.moved > 0):
            program.restrict_to_optimum()
            record = self._run_scenarios("moves", numbers, scale)
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
        (program/scenarios.py), add the most violated scenarios and re-solve until none is violated."""
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

    def _values(self, record: SolveRecord) -> tuple[np.ndarray, np.ndarray]:
        if record.status is not Status.OPTIMAL:
            raise SolverError(f"solver {record.solver} returned {record.raw_status!r}; only 'optimal' is accepted",
                              solver=record.solver, status=record.status.value)
        holding, move = values(self.program.variables.holding), values(self.program.variables.move)
        if holding is None or move is None:
            raise SolverError(f"solver {record.solver} said optimal but returned missing or non-finite values",
                              solver=record.solver, status="missing_values")
        return holding, move

    def _hedge(self, scale: Scale) -> np.ndarray:
        """(H,) the hedges' signed notional (currency) of the last solve; empty without hedges."""
        v = self.program.variables
        if v.hedge is None:
            return np.zeros(0)
        x = values(v.hedge)
        if x is None:
            raise SolverError(f"solver {self.solver} said optimal but returned missing or non-finite hedges",
                              solver=self.solver, status="missing_values")
        h = self.layout.n_hedges
        return (x[:h] - x[h:]) * scale.money * scale.accounts[self.layout.hedge_account]  # program/hedges.py units

    def _fewer_moves(self, record: SolveRecord, layout: Layout, numbers: Numbers, scale: Scale,
                     cost: tuple[float, float]) -> tuple[Allocation | None, str]:
        """The least-moving optimum, or None and why not. A linear program's face is exact, so a failed check
        there is a solver fault (VerificationError); a conic program's moves phase runs against a cost bound
        that leaves the solver little room, so its failed check only means the cost optimum is kept."""
        if record.status is not Status.OPTIMAL:
            return None, record.raw_status
        holding, move = self._values(record)
        allocation, violations = check(layout, numbers, scale, holding, move, tolerance=profile(self.solver).tolerance,
                                       hedge=self._hedge(scale))
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
        layout = self.layout
        record = self._run_scenarios("elastic", numbers, scale)
        holding, move = self._values(record)
        allocation, violations = check(layout, numbers, scale, holding, move, elastic=True,
                                       tolerance=profile(self.solver).tolerance, hedge=self._hedge(scale))
        if violations:
            raise VerificationError(violations, solver=self.solver)
        floor = ROUNDING * scale.money  # short by more than float rounding: truly infeasible
        hedged = numbers.hedged(layout, allocation.hedge)
        rows = [Shortfall(account=k, amount=float(short)) for k, short in
                zip(layout.accounts, _shortfall(layout, hedged, allocation), strict=True) if short > floor]
        if len(layout.delta_owner):  # delta bands no hedge within its size can meet (docs/hedging.md)
            beyond = np.abs(allocation.deltas(layout, hedged)) - hedged.delta_limit
            rows += [Shortfall(account=layout.accounts[owner] if owner >= 0 else "treasury", amount=float(beyond[d]),
                               constraint=layout.delta_label(d))
                     for d in map(int, np.flatnonzero(beyond > floor)) for owner in [int(layout.delta_owner[d])]]
        portfolio = float(self.program.elastic.portfolio_shortfall.value or 0.0) * scale.money
        if portfolio > floor:
            rows.append(Shortfall(account="portfolio", amount=portfolio, constraint="portfolio"))
        rows += [Shortfall(account=layout.accounts[layout.pair_account[layout.limit_pair[i]]], amount=float(over),
                           constraint=layout.limit_label(i))
                 for i, over in enumerate(allocation.limit_excess(layout, numbers)) if over > floor]
        if not rows:
            return None
        result = Result(status="infeasible", currency=problem.currency, shortfalls=list(rows),
                        diagnostics=self._diagnostics("infeasible", ["cost", "elastic"], [], scale, 0.0))
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
        carry, transfer = _cost(allocation, layout, numbers)
        hedging = allocation.hedge_cost(numbers)
        cell_price = numbers.cell_price(layout)
        quantity = allocation.quantity
        targets = [Target(asset=layout.assets[c // layout.n_locations],
                          location=layout.locations[c % layout.n_locations], quantity=float(quantity[c]),
                          value=float(quantity[c] * cell_price[c]), initial_quantity=float(numbers.quantity[c]))
                   for c in np.flatnonzero((quantity > 0) | (numbers.quantity > 0))]
        before = Allocation(numbers.quantity, np.zeros(0)).collateral(layout, numbers)
        after = allocation.collateral(layout, numbers)
        shadow = optimum.sensitivity.shadow_price
        sigma, stressed = allocation.risk(layout, numbers)
        cvar = allocation.cvar(layout, numbers)
        held = {(layout.assets[c // layout.n_locations], layout.locations[c % layout.n_locations]): float(quantity[c])
                for c in np.flatnonzero(quantity > 0)}
        problem = optimum.problem
        margin = numbers.venue_requirement - numbers.requirement  # the hedges' (docs/hedging.md)
        hedges = hedge_positions(problem, allocation)
        distance = liquidation_moves(problem, held, hedges, dict(zip(layout.accounts, margin, strict=True))) \
            if problem.positions or hedges else {}
        accounts = [AccountCoverage(id=k, requirement=float(numbers.venue_requirement[i]),
                                    pnl=float(numbers.pnl[i]),
                                    required=float(numbers.required[i]), collateral=float(after[i]),
                                    initial_collateral=float(before[i]),
                                    excess=float(after[i] - numbers.required[i]), shadow_price=float(shadow[i]),
                                    margin_mode=problem.terms[k].mode, parent=problem.accounts[i].parent,
                                    hedge_margin=float(margin[i]),
                                    **_risk_fields(layout, numbers, i, after[i], sigma, stressed, cvar),
                                    **distance.get(k, {}))
                    for i, k in enumerate(layout.accounts)]
        return Result(status="optimal", currency=problem.currency,
                      objective=Objective(total=carry + transfer + hedging, carry=carry, transfer=transfer,
                                          hedging=hedging),
                      hedges=hedge_trades(problem, layout, numbers, allocation),
                      deltas=delta_rows(problem, layout, unhedged, allocation),
                      targets=targets, accounts=accounts, portfolio=_portfolio(layout, numbers, allocation, after),
                      plan=ordered.steps, plan_safe=ordered.safe,
                      funding=ordered.funding, planned=plan,
                      marginal_values=optimum.sensitivity.marginal_rows(layout),
                      binding=optimum.sensitivity.binding,
                      diagnostics=self._diagnostics("optimal", optimum.phases, notes, optimum.scale, started))


@dataclass
class _CostRungs:
    """The engine's rungs for the solve ladder (solve/ladder.py): the cost phase of the compiled program."""

    engine: Allocator
    problem: Problem
    numbers: Numbers
    working: list[list[int]] | None  # the stress working set kept across a rebuild (first attempt only)
    scale: Scale = field(init=False)

    @property
    def solver(self) -> str:
        return self.engine.solver

    def attempt(self, margins: SolverProfile) -> SolveRecord:
        program = self.engine.program
        self.scale = program.assign(self.numbers, margins, program.working if self.working is None else self.working)
        self.working = None
        return self.engine._run_scenarios("cost", self.numbers, self.scale)

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
class Optimum:
    """A verified cost optimum (and, after the moves phase, the least-moving one) with its sensitivities."""

    problem: Problem
    numbers: Numbers
    scale: Scale
    allocation: Allocation
    sensitivity: Sensitivity
    phases: list[str]
    notes: list[str]


def _shortfall(layout: Layout, numbers: Numbers, allocation: Allocation) -> np.ndarray:
    """(K,) collateral each account lacks: for coverage, and for its parametric and stress limits if it has them
    (every one net of the positions' P&L since their last mark, as the program's rows are)."""
    collateral = allocation.collateral(layout, numbers)
    short = numbers.required - collateral
    sigma, stressed = allocation.risk(layout, numbers)
    requirement = numbers.net_requirement
    risky = ~np.isnan(sigma)
    short[risky] = np.maximum(short[risky], requirement[risky] + numbers.risk_z[risky] * sigma[risky]
                              - collateral[risky])
    if len(layout.stress):
        worst = np.nanmin(np.where(np.isnan(stressed), np.inf, stressed), axis=0)
        short = np.maximum(short, np.where(np.isfinite(worst), requirement - worst, -np.inf))
    cvar = allocation.cvar(layout, numbers)
    tail = ~np.isnan(cvar)
    short[tail] = np.maximum(short[tail], requirement[tail] + cvar[tail] - collateral[tail])
    return short


def _portfolio(layout: Layout, numbers: Numbers, allocation: Allocation,
               collateral: np.ndarray) -> PortfolioCoverage | None:
    if not layout.portfolio:
        return None
    sigma, stressed = allocation.portfolio(layout, numbers)
    requirement, total = float(numbers.net_requirement.sum()), float(collateral.sum())
    worst = int(np.argmin(stressed)) if layout.portfolio_stress else None
    return PortfolioCoverage(requirement=float(numbers.venue_requirement.sum()), pnl=float(numbers.pnl.sum()),
                             collateral=total, sigma=sigma,
                             risk_excess=total - numbers.portfolio_z * sigma - requirement,
                             worst_scenario=layout.stress[worst] if worst is not None else None,
                             worst_scenario_excess=float(stressed[worst] - requirement) if worst is not None else None)


def _risk_fields(layout: Layout, numbers: Numbers, account: int, collateral: float, sigma: np.ndarray,
                 stressed: np.ndarray, cvar: np.ndarray) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    requirement = float(numbers.net_requirement[account])
    if account in layout.cvar_accounts:
        fields["cvar"] = float(cvar[account])
    if not np.isnan(sigma[account]):
        fields.update(sigma=float(sigma[account]),
                      risk_excess=float(collateral - numbers.risk_z[account] * sigma[account] - requirement))
    if len(layout.stress) and not np.isnan(stressed[0, account]):
        worst = int(np.argmin(stressed[:, account]))
        fields.update(worst_scenario=layout.stress[worst],
                      worst_scenario_excess=float(stressed[worst, account] - requirement))
    return fields


def _cost(allocation: Allocation, layout: Layout, numbers: Numbers) -> tuple[float, float]:
    return allocation.carry_cost(layout, numbers), allocation.transfer_cost(layout, numbers)


def optimize(problem: Problem, solver: str | None = None, **options: Any) -> Result:
    """Solve ``problem``: optimal targets, account coverage and a safe transition plan.

    Raises InputError (never, for a validated Problem), InfeasibleError with the shortfall per account, or
    SolverError when the solver does not return a verified optimum. ``options`` go to :class:`Allocator`.
    """
    return Allocator(problem, solver, **options).solve()
