"""A guess of the moves the linear path's optimum uses: the same transition on a coarse clock.

Most of the linear program's columns are moves (a route and an asset, per period): 41,376 of 70,474 at 100 assets
x 10 accounts x 48 periods, of which an optimum uses about a hundred moves in some period. HiGHS's dual simplex
spends most of its first solve on them. The transition on ``COARSE_PERIODS`` periods of ``k`` times the length
(capacities and withdrawal limits per period times ``k``; participation is per day, pro rata to a period's hours,
already) is a small program (a quarter of a second) whose optimum uses nearly the same moves. The fine program
is then solved first with only those moves open in every period (_pricing.py), and every other move is priced
against its duals and opened where it could lower the cost, until none could: the guess decides only how fast,
never what the answer is.

The coarse program is solved on a thread of its own (``coarse_guess``): HiGHS runs without Python's lock, so its
solve (0.15-0.25 s at 100 x 10 x 48) overlaps the fine program's build and matrices (_direct.py, 0.05 s; cvxpy's
compile took 0.3-0.5 s), which wait for the guess only to load. The coarse guess is started first for that. It
is still the longer of the two by about 0.1 s, so it prices by Devex: 185-205 ms against steepest edge's 228-235
ms at 100 x 10 x 48 (3,544 iterations against 3,761), the same moves used.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from allocator.inputs.problem import Problem
from allocator.solve._highs import DEVEX, EDGE_WEIGHTS, HighsLP
from allocator.solve._solvers import profile
from allocator.solve._status import Status
from allocator.transition._data import TransitionData
from allocator.transition._periods import Periods
from allocator.transition._program import build
from allocator.transition._pwl import OPTIONS, loaded

#: Periods of the coarse clock.
COARSE_PERIODS = 6
#: Below this many periods (or moves) the whole program is solved at once: the guess would save little.
MIN_PERIODS = 12
MIN_MOVES = 50
#: A move that carries more than this (scaled value) in some coarse period is guessed useful.
USED = 1e-9


def coarse_moves(problem: Problem, periods: Periods, data: TransitionData, *, coverage_margin: float,
                 limit_margin: float, pieces: int, time_limit: float | None = None) -> np.ndarray | None:
    """(moves,) True for every move the coarse transition's optimum uses; None when the transition is too small
    for a guess to pay, or the coarse program has no optimum (the fine one is then solved whole)."""
    guess = coarse_guess(problem, periods, data, coverage_margin=coverage_margin, limit_margin=limit_margin,
                         pieces=pieces, time_limit=time_limit)
    return None if guess is None else guess()


def coarse_guess(problem: Problem, periods: Periods, data: TransitionData, *, coverage_margin: float,
                 limit_margin: float, pieces: int, time_limit: float | None = None
                 ) -> Callable[[], np.ndarray | None] | None:
    """``coarse_moves`` with the coarse program built and loaded here and solved on a thread: the function that
    waits for the solve and returns the guess (None, as there, when the coarse program has no optimum); None at
    once when the transition is too small for a guess to pay."""
    T, schedule = periods.periods, problem.schedule
    if schedule is None or T < MIN_PERIODS or periods.n_moves < MIN_MOVES:
        return None
    k = T // COARSE_PERIODS
    clock = schedule.model_copy(update={"periods": -(-T // k), "period_hours": schedule.period_hours * k})
    coarse_problem = problem.model_copy(update={"schedule": clock})
    coarse = Periods.from_problem(coarse_problem)
    if coarse.n_moves != periods.n_moves or not np.array_equal(coarse.base.move_edge, periods.base.move_edge):
        return None
    coarse_data = TransitionData.from_problem(coarse_problem, coarse)
    coarse_data = dataclasses.replace(coarse_data, capacity=coarse_data.capacity * k,
                                      withdrawal=coarse_data.withdrawal * k)
    program = build(coarse, coarse_data, coverage_margin=coverage_margin, limit_margin=limit_margin, pwl=True,
                    pieces=pieces)
    lp = HighsLP({**profile("HIGHS").options, **OPTIONS, EDGE_WEIGHTS: DEVEX})
    _, offsets, _ = loaded(program, lp, dpp=False)
    move = program.variables.move
    columns = offsets[move.id] + np.arange(move.size)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coarse-guess")
    solving = pool.submit(lp.solve, time_limit, method="simplex")
    pool.shutdown(wait=False)  # the thread ends with the solve

    def moves() -> np.ndarray | None:
        if solving.result().status is not Status.OPTIMAL:
            return None
        flows = lp.solution().col_value[columns].reshape(move.shape, order="F")
        return np.asarray((flows[:periods.n_moves] > USED).any(axis=1))
    return moves
