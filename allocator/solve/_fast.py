"""The compile-free linear path: the cost, moves and elastic phases of a linear problem straight on HiGHS.

The program is the cvxpy one's (program/_lp/matrices.py builds it from the layout's index arrays, in the same
scaled units), so everything downstream is shared: the engine verifies each answer with ``solve/_verify.check``,
climbs the same ladder (solve/_ladder.py), reads the same sensitivities from the duals and builds the same plan.

Re-solves of the same structure (what-ifs, batches) start from the optimal basis of the engine's own problem
(its *home basis*, found once, on the first solve of that problem or before the first re-solve of another): a
warm start that skips nothing of the verification, and that keeps each answer a function of the engine's problem
and the problem solved only, never of which problems were solved before. The moves phase changes costs and
bounds in place on the HiGHS instance that found the cost optimum (the smaller program's on a re-solve of a large
book: ``_reduced``) and starts from that optimum's basis.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import highspy
import numpy as np

from allocator.program._layout import Layout
from allocator.program._lp.matrices import Blocks, Matrices, Restriction, Structure
from allocator.program._lp.paths import Completed, Network, complete, useful_columns
from allocator.program._lp.values import LinearValues
from allocator.program._numbers import Numbers
from allocator.program._scaling import Scale
from allocator.program._shared import Margins, cap
from allocator.solve._highs import HighsLP, Solution
from allocator.solve._sensitivity import Sensitivity, Units, priced
from allocator.solve._solvers import SolveRecord
from allocator.solve._status import MAYBE_INFEASIBLE, Status

#: From this many columns a cold cost solve uses HiGHS's interior-point method IPX with crossover to a vertex
#: (the same exact basic optimum, found faster on the largest books: docs/performance.md); re-solves from a basis
#: and the moves phase use the simplex method. The ``solver`` option of ``solver_options`` overrides it.
IPM_MIN_COLUMNS = 250_000
#: From this many columns the elastic program (the diagnosis of an infeasible problem) is solved by IPX with
#: crossover (measured on generated books: the dual simplex took 8,031 iterations and 6.0 s at 500 x 40, IPX 1.6 s;
#: 1.7 against 0.7 s at 300 x 30, 0.41 against 0.23 s at 200 x 20; docs/performance.md). Its flows cost nothing,
#: so the least shortfall can often be split between accounts in several ways: a second stage, the tie-break
#: (``_Elastic``), makes the split reported canonical.
ELASTIC_IPM_MIN_COLUMNS = 20_000
#: HiGHS's presolve rules left out of the elastic program's IPX runs (``presolve_rule_off`` bits; the option in
#: ``solver_options`` wins): dual fixing (bit 17), a fifth of HiGHS's presolve there (0.46 against 0.64 s at
#: 500 x 40), whose reductions the other rules make anyway on the generated books: the same presolved program, so
#: the same IPX run and the same answer to the bit, 0.1-0.2 s sooner at 500 x 40 (docs/performance.md). It never
#: changes the optimum; where it would have reduced more, IPX solves a larger program.
ELASTIC_PRESOLVE_RULE_OFF = 1 << 17
#: HiGHS's ``simplex_strategy`` of the elastic program's second stage (the tie-break, ``_Elastic``): the primal
#: simplex method (4), from stage one's optimal basis, which stays primal feasible on the optimal face where only
#: the costs changed. At 500 x 40 the whole program's tie-break took 37 primal iterations (0.03 s) against 13,151
#: by HiGHS's choice, the dual simplex method (0.45 s).
TIE_BREAK_STRATEGY = 4
#: From this many columns a cost solve first solves only the columns a cost optimum can use (shortest paths,
#: program/_lp/paths.py) and proves that optimum optimal for the whole program by completing its duals; a cold
#: solve then has HiGHS cross over from it to a basis of the whole program and confirm it (``_reduced``). A fifth of
#: the columns on hub-and-spoke books.
REDUCE_MIN_COLUMNS = 10_000
#: An infeasible smaller program is decided by the elastic program (``_short``): short by more than this share of
#: its weights (a thousand times the HiGHS profile's margins, which alone can make it short) the problem is
#: infeasible and the whole program is not solved; less, the whole program decides as before.
SHORT = 1e-4
#: A re-solve of the smaller program from its home basis starts again from scratch once it has made this share of
#: the iterations the home basis took to find cold by the simplex method (``HighsLP.solve``'s ``restart``). A run
#: from a basis skips HiGHS's presolve: its iterations cost 3-4 times a cold run's (1000 x 60: 2.5 against 0.6 ms),
#: so it stops at about the time a cold solve of the home problem took, and a hard what-if (thousands of
#: iterations: one that proves the program infeasible) then costs about a cold solve more than a cold solve alone
#: (docs/performance.md).
WARM_SHARE = 0.25


@dataclass(frozen=True)
class Reduction:
    """How the last cost solve went (benchmarks, docs/performance.md): the columns solved first, from the smaller
    program's home basis or cold, and where the time went; ``whole`` says why the whole program was solved
    instead, if it was."""

    columns: int
    reduced_columns: int | None = None
    warm: bool = False
    reduce_seconds: float = 0.0
    reduced_seconds: float = 0.0
    restarted: bool = False  # the smaller program's run from its home basis went on from scratch (WARM_SHARE)
    complete_seconds: float = 0.0
    crossover_seconds: float = 0.0
    crossed: bool = False  # the whole program crossed over to its optimal basis (else the smaller optimum, proved)
    whole: str | None = None
    screened: bool = False  # the requirements alone proved it short (``_surely_short``): no smaller program was run


def _method(columns: int) -> str:
    return "ipx" if columns >= IPM_MIN_COLUMNS else "simplex"


def _elastic_method(columns: int, forced: Any) -> str:
    return str(forced or ("ipx" if columns >= ELASTIC_IPM_MIN_COLUMNS else "simplex"))


#: HiGHS's basis statuses as small integers (``_carried`` works on arrays of them), and back.
LOWER, BASIC, UPPER, ZERO = (int(getattr(highspy.HighsBasisStatus, name)) for name in ("kLower", "kBasic", "kUpper",
                                                                                    "kZero"))
STATUS_OF = {int(status): status for status in highspy.HighsBasisStatus.__members__.values()}


def _carried(basis: highspy.HighsBasis, home_keep: np.ndarray, keep: np.ndarray, m: Matrices) -> highspy.HighsBasis:
    """The home basis of the smaller program carried over to other useful columns ``keep``: each column both keep
    has its home status, a new one is nonbasic at its lower bound (at zero if free, at its upper bound if it has
    no lower one). Where a column basic at home is left out, the basic columns and rows no longer number the
    rows (the home basis did, and new columns are nonbasic): the basis is then "alien", and HiGHS completes it."""
    kept = np.flatnonzero(keep)
    home_status = np.fromiter((int(x) for x in basis.col_status), dtype=np.int8, count=int(home_keep.sum()))
    position = np.cumsum(home_keep) - 1
    both = home_keep[kept]
    lower, upper = m.col_lower[kept], m.col_upper[kept]
    new = np.where(np.isfinite(lower), LOWER, np.where(np.isfinite(upper), UPPER, ZERO)).astype(np.int8)
    status = np.where(both, home_status[position[kept]], new)
    carried = highspy.HighsBasis()
    carried.col_status = [STATUS_OF[x] for x in status.tolist()]
    carried.row_status = basis.row_status
    carried.alien = bool((home_status[~keep[np.flatnonzero(home_keep)]] == BASIC).any())
    carried.valid = True
    return carried


def _left(time_limit: float | None, started: float) -> float | None:
    """What is left of ``time_limit`` (seconds since ``started`` spent); at least a millisecond, so that a solve
    that has run out stops at once with a time-limit status."""
    return None if time_limit is None else max(time_limit - (time.perf_counter() - started), 1e-3)


#: The group bound of the screen (``_grouped_short``) holds one value per account of the groups and asset: at most
#: this many (32 MB), the most pressed accounts first beyond it.
GROUP_CELLS = 4_000_000


def _grouped_short(layout: Layout, worth: np.ndarray, credit: np.ndarray, needed: np.ndarray,
                   own: np.ndarray) -> float:
    """The largest of the requirements of the ``j`` most pressed accounts (requirement over own bound, in
    ``FastProgram._surely_short``'s units) beyond what they can be credited together, every asset one of them takes
    at its whole value ``worth`` at its best ``credit`` among them, over ``j``: a lower bound of the elastic
    program's optimum for each ``j``. Two accounts each within its own bound but short together because both need
    the same assets are caught here (docs/performance.md, fifteenth session)."""
    accounts = len(needed)
    pressure = np.where(own > 0, needed / np.where(own > 0, own, 1.0), np.where(needed > 0, np.inf, -np.inf))
    order = np.argsort(-pressure, kind="stable")[:max(1, GROUP_CELLS // max(layout.n_assets, 1))]
    rank = np.full(accounts, len(order))  # accounts beyond the cap: no row
    rank[order] = np.arange(len(order))
    taken = rank[layout.pair_account] < len(order)
    table = np.zeros((len(order), layout.n_assets))  # each group member's 1 - haircut of each asset
    table[rank[layout.pair_account[taken]], layout.pair_asset[taken]] = credit[taken]
    credited = np.maximum.accumulate(table, axis=0, out=table) @ worth  # the first j + 1 accounts together
    return float(np.max(np.cumsum(needed[order]) - credited, initial=-np.inf))


@dataclass
class _Elastic:
    """The elastic program (the diagnosis of an infeasible problem) and its last run.

    Its flows cost nothing, so the least weighted shortfall can often be split between the accounts and limits
    in several ways (accounts competing for the same assets). The diagnosis is made canonical in two stages:
    stage one finds the least weighted shortfall; stage two, over stage one's optimal face, minimises the
    tie-break ``tie_break_costs``, which leaves any part of the least total that may fall on several accounts or
    limits on the latest in the problem's order. The split no longer depends on the vertex a method ends on, nor
    on which columns were solved (docs/formulation.md, "Infeasibility: the elastic program")."""

    structure: Structure
    lp: HighsLP
    solution: Solution | None = None  # stage two's optimum (of the whole program: completed on the useful columns)
    values: LinearValues | None = None  # the numbers of the last run, and its record
    record: SolveRecord | None = None
    least: float | None = None  # stage one's optimum: the least weighted shortfall (``_short`` reads it)
    method: str | None = None  # stage one's HiGHS method (stage two runs the simplex method from its basis)
    on_useful: bool = False  # the last optimum was found on the useful columns (and proved), not the whole program
    #: why the last diagnosis is not canonical: the whole program's tie-break failed (not at a limit), so its split
    #: is stage one's (the engine adds it to the result's notes); None when it is
    note: str | None = None
    #: the useful columns of the last run on them (``_elastic_reduced``) and the elastic program's restriction to
    #: them (the same sparsity pattern for all numbers: reused while ``_useful`` returns the same mask)
    reduced: tuple[np.ndarray, Restriction] | None = None


def _on_face(bound: np.ndarray, tight: np.ndarray | float, value: np.ndarray, dual: np.ndarray) -> np.ndarray:
    """A column's or row's bound on the cost optimum's face (the face rule ``cap``): ``tight`` where the optimum
    is at that bound (``value``: its distance from it) with a positive reduced cost or dual, else ``bound`` as it
    was. The cvxpy program caps a free one at ``FREE`` instead (its parameters are finite); here it stays as loaded,
    so HiGHS is told only what the face fixes (at 500 x 40, 11,000 of 22,400 columns and 37 rows, not all of them)."""
    return np.where(cap(value, dual) == 0.0, tight, bound)


def _face_rows(m: Matrices, row_value: np.ndarray, row_dual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows' (lower, upper) bounds on the optimum's face (``_on_face``): a coverage row held at its requirement
    and a concentration row at its limit where the optimum is there with a non-zero dual; every other bound as
    loaded in ``m``. The moves phase and the elastic tie-break both start from them."""
    b = m.blocks
    row_lower, row_upper = m.row_lower.copy(), m.row_upper.copy()
    coverage, limits = b.row_slice("coverage"), b.row_slice("concentration")
    required = m.row_lower[coverage]
    row_upper[coverage] = _on_face(row_upper[coverage], required, row_value[coverage] - required, row_dual[coverage])
    row_lower[limits] = _on_face(row_lower[limits], 0.0, -row_value[limits], -row_dual[limits])
    return row_lower, row_upper


def tie_break_costs(values: LinearValues, b: Blocks) -> np.ndarray:
    """The elastic program's stage-two costs (the tie-break, ``_Elastic``): on the shortfall and excess columns,
    each item's weight of stage one (its currency per scaled unit) times ``2 - r / n``, ``r`` its position among the
    ``n`` accounts then limits (accounts in the problem's order, then the concentration limits in the layout's
    order); nothing elsewhere. On stage one's optimal face the weighted total is fixed, so this prefers moving any
    shortfall that can go either way to the later item: the earlier accounts are covered first."""
    weight = np.concatenate([values.account_scale, values.limit_scale])
    n = len(weight)
    cost = np.zeros(b.columns)
    cost[b.shortfall:] = weight * (2.0 - np.arange(n) / max(n, 1))
    return cost


class FastProgram:
    """The compile-free LP of one layout on one HiGHS instance (and a second one for the elastic diagnosis)."""

    def __init__(self, layout: Layout, options: dict[str, Any], warm_starts: bool = True) -> None:
        started = time.perf_counter()
        self.layout = layout
        self.options = {name: value for name, value in options.items() if name != "solver"}
        self.structure = Structure(layout)
        self.forced_method = options.get("solver")
        self.method = str(self.forced_method or _method(self.structure.blocks.columns))
        self.reduce_min_columns = REDUCE_MIN_COLUMNS
        self.reduction: Reduction | None = None
        self.lp = HighsLP(self.options)
        self.build_seconds = time.perf_counter() - started  # reported with the first solve, as a compile
        self.scale: Scale | None = None
        self.values: LinearValues | None = None
        self.matrices: Matrices | None = None
        self.solution: Solution | None = None  # of the last phase run on ``lp``
        self.cost_solution: Solution | None = None  # of the last cost phase
        #: re-solves start from the home basis unless ``solver_options`` say ``warm_start=False``
        self.warm_starts = bool(warm_starts)
        self.home_basis: highspy.HighsBasis | None = None
        #: the useful columns of the engine's own problem, their optimal basis and the simplex iterations that found
        #: it cold (None by another method): a re-solve with the same useful columns starts the smaller program
        #: there (``WARM_SHARE``)
        self.small_home: tuple[np.ndarray, highspy.HighsBasis, int | None] | None = None
        self._last_small: tuple[np.ndarray, highspy.HighsBasis, int | None] | None = None
        self._useful_memo: tuple[tuple[np.ndarray, np.ndarray], np.ndarray | None] | None = None
        self._restriction: Restriction | None = None  # of the last useful columns (the structure's pattern)
        self.home_tried = False
        #: the last cost phase's smaller optimum with its completed duals, when that path answered (the answer,
        #: whether or not it also crossed over), and the smaller program's HiGHS instance at that optimum, where
        #: the moves phase runs
        self.proved: Solution | None = None
        self._small: tuple[np.ndarray, HighsLP, Solution] | None = None  # its columns, HiGHS instance, optimum
        self._moves_on: tuple[np.ndarray | None, HighsLP] | None = None
        self.moves_on_smaller = False  # where the last moves phase ran (tests, benchmarks)
        self._elastic: _Elastic | None = None
        #: the elastic program solves the useful columns first where the cost phase would (``_elastic_reduced``);
        #: False: always the whole elastic program (tests compare the two)
        self.reduce_elastic = True

    def assign(self, numbers: Numbers, margins: Margins) -> Scale:
        """Set the numbers (rescaled each time, as the cvxpy program's parameters); returns the scale used."""
        self.scale = scale = Scale.of(self.layout, numbers)
        self.values = LinearValues.of(self.layout, numbers, scale, margins.coverage_margin, margins.limit_margin)
        self.matrices = self.structure.assemble(self.values)
        return scale

    def _first(self) -> tuple[float, bool]:
        """The structure's build time and True the first time a record is made (a compile, counted once)."""
        seconds, self.build_seconds = self.build_seconds, 0.0
        return seconds, seconds > 0

    def run_cost(self, time_limit: float | None, warm: bool, for_home: bool = False) -> SolveRecord:
        """Solve the cost phase, from the home basis when ``warm`` and one exists, else from scratch; on the useful
        columns first where that applies (``_reduced``). ``for_home``: the optimum's basis of the whole program
        is to become the home basis (``keep_home_basis``), so the whole program must end loaded at it."""
        assert self.matrices is not None  # assign() comes first
        home = self.home_basis if warm else None
        self._last_small = self._small = None
        self.proved = None
        record = self._reduced(time_limit, home, for_home)
        if record.status.value != "optimal":
            self.solution = self.cost_solution = None
        else:
            self.solution = self.cost_solution = self.proved if self.proved is not None else self.lp.solution()
        return record

    def _whole(self, time_limit: float | None, why: str, home: highspy.HighsBasis | None,
               reduced: Reduction | None = None) -> SolveRecord:
        """The whole cost program, from the home basis if given, else from scratch."""
        assert self.matrices is not None
        setup = self.lp.load(self.matrices, home)
        compile_seconds, compiled = self._first()
        self.reduction = replace(reduced, whole=why) if reduced else Reduction(self.structure.blocks.columns,
                                                                               whole=why)
        return self.lp.solve(time_limit, setup, compile_seconds, compiled,
                             method="simplex" if home is not None else self.method)

    def _reduced(self, time_limit: float | None, home: highspy.HighsBasis | None, for_home: bool) -> SolveRecord:
        """The cost phase on the useful columns first where that applies (REDUCE_MIN_COLUMNS), else whole.

        The smaller program starts from its own home basis on a re-solve (carried over to other useful columns
        than the engine's problem's: ``_carried``; starting again from scratch after ``WARM_SHARE`` of the home
        solve's iterations), from scratch on a cold solve. Its optimum, which HiGHS said optimal, is the answer once
        its completed duals certify it for the whole program (paths.complete: every column's reduced cost at most
        HiGHS's own dual feasibility tolerance below zero, within it of zero on every column that carries value;
        the other rows' duals and activities are the smaller program's). A time or iteration limit on the way is
        the answer (an honest stop); any other status, or a proof that fails, solves the whole program instead,
        which then decides (and feeds the diagnosis of an infeasible problem). The engine verifies the allocation
        in numpy either way.

        Only a solve whose basis becomes the home basis (``for_home``: the engine's own problem, solved cold) also
        has HiGHS cross over from the completed pair to a basis of the whole program and confirm it (no iterations
        when the proof holds), to leave the whole program loaded at an optimal basis; its moves phase runs there.
        Re-solves never load the whole program (the crossover and HiGHS's confirmation were half of a re-solve's
        time), and their moves phase runs on the smaller program (``restrict_to_optimum``). Solver time is
        HiGHS's own (runs and crossover); the completion and the copies into HiGHS are set-up."""
        assert self.matrices is not None
        m, columns = self.matrices, self.structure.blocks.columns
        if columns < self.reduce_min_columns:
            return self._whole(time_limit, "below REDUCE_MIN_COLUMNS", home)
        started = time.perf_counter()
        if self._surely_short():
            if self._short(_left(time_limit, started)):
                # infeasible for certain, as after an infeasible smaller program below, without running it
                compile_seconds, compiled = self._first()
                self.reduction = Reduction(columns, screened=True)
                assert self._elastic is not None and self._elastic.record is not None
                return replace(self._elastic.record, status=Status.INFEASIBLE,
                               raw_status="infeasible (the requirements exceed what the holdings can credit, "
                                          "for all accounts, a group or one; the elastic program's run)",
                               compile_seconds=compile_seconds, compiled=compiled,
                               wall_seconds=time.perf_counter() - started)
            # the elastic run stopped (or was not short after all): the usual path, within what is left of the limit
            time_limit, started = _left(time_limit, started), time.perf_counter()
        keep = self._useful(m)
        if keep is None or keep.all():
            return self._whole(time_limit, "no columns to leave out" if keep is not None
                               else "not a network without capacities", home)
        small_home, restart = None, None
        if home is not None:
            if self.small_home is None:
                return self._whole(time_limit, "no home basis of the smaller program", home)
            home_keep, small_home, home_iterations = self.small_home
            if not np.array_equal(home_keep, keep):
                small_home = _carried(small_home, home_keep, keep, m)
            restart = None if home_iterations is None else max(int(WARM_SHARE * home_iterations), 1)
        # from the home basis the smaller program prices by Devex: steepest edge first computes exact weights for
        # every row, which cost more than the few dozen iterations of a what-if (HighsLP.solve; docs/performance.md)
        if self._restriction is None or self._restriction.keep is not keep:  # _useful's memo: the same mask
            self._restriction = Restriction.of(m, keep)
        kept, smaller_lp = len(self._restriction.kept), self._restriction.arrays(m)
        reduce_seconds = time.perf_counter() - started
        first = HighsLP(self.options)
        setup = first.load_arrays(*smaller_lp, basis=small_home)
        cold_method = str(self.forced_method or _method(kept))
        method = "simplex" if small_home is not None else cold_method
        if for_home:
            # the whole program goes into HiGHS (for the crossover) while the smaller one solves: HiGHS's run
            # releases Python's lock, its passModel holds it (10-30 ms at 500 x 40 to 1000 x 60)
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="load-whole") as pool:
                loading = pool.submit(self.lp.load, m)
                smaller = first.solve(time_limit, method=method, devex=small_home is not None)
                whole_setup = loading.result()
        else:
            smaller = first.solve(time_limit, method=method, devex=small_home is not None, restart=restart,
                                  restart_method=cold_method)
            whole_setup = 0.0
        info = Reduction(columns, kept, small_home is not None, reduce_seconds, smaller.solve_seconds, first.restarted)
        if smaller.status.value == "user_limit":
            compile_seconds, compiled = self._first()
            self.reduction = info
            return replace(smaller, setup_seconds=setup + reduce_seconds, compile_seconds=compile_seconds,
                           compiled=compiled)
        if smaller.status in MAYBE_INFEASIBLE and self._short(_left(time_limit, started)):
            # infeasible for certain: the whole program's elastic copy is short (the diagnosis reads this run
            # next); HiGHS proving the whole program infeasible took nine times as long at 500 x 40
            compile_seconds, compiled = self._first()
            self.reduction = info
            assert self._elastic is not None and self._elastic.record is not None
            return replace(smaller, setup_seconds=setup + reduce_seconds, compile_seconds=compile_seconds,
                           compiled=compiled, wall_seconds=time.perf_counter() - started,
                           solve_seconds=smaller.solve_seconds + self._elastic.record.solve_seconds)
        if smaller.status.value != "optimal":
            return self._whole(_left(time_limit, started), f"the smaller program: {smaller.raw_status}", home, info)
        solution, small_basis = first.solution(), first.basis()
        clock = time.perf_counter()
        proof = complete(self.layout, m, keep, solution.col_value, solution.row_dual)
        info = replace(info, complete_seconds=time.perf_counter() - clock)
        if proof is None:
            return self._whole(_left(time_limit, started), "the completed duals prove nothing", home, info)
        setup += info.complete_seconds + whole_setup
        proved = Solution.of(proof)
        if not for_home:
            compile_seconds, compiled = self._first()
            self.reduction, self._last_small, self.proved = info, (keep, small_basis, None), proved
            self._small = (keep, first, solution)
            return replace(smaller, setup_seconds=setup + reduce_seconds, compile_seconds=compile_seconds,
                           compiled=compiled, wall_seconds=time.perf_counter() - started)
        del first  # the moves phase runs on the whole program from the crossover's basis (none of its iterations)
        clock = time.perf_counter()
        crossed, crossing = self.lp.crossover(proof.col_value, proof.col_dual, proof.row_value, proof.row_dual,
                                              _left(time_limit, started))
        info = replace(info, crossover_seconds=crossing)
        setup += time.perf_counter() - clock - crossing  # the four arrays copied into HiGHS
        if not crossed:
            return self._whole(_left(time_limit, started), "no crossover", home, info)
        compile_seconds, compiled = self._first()
        final = self.lp.solve(_left(time_limit, started), method="simplex")
        if final.status.value not in ("optimal", "user_limit"):
            return self._whole(_left(time_limit, started), f"the whole program from the basis: {final.raw_status}",
                               home, info)
        home_iterations = smaller.iterations if method == "simplex" else None
        self.reduction, self._last_small = replace(info, crossed=True), (keep, small_basis, home_iterations)
        self.proved = proved
        return replace(final, setup_seconds=setup + reduce_seconds, compile_seconds=compile_seconds,
                       compiled=compiled, wall_seconds=time.perf_counter() - started,
                       solve_seconds=smaller.solve_seconds + info.crossover_seconds + final.solve_seconds,
                       iterations=(smaller.iterations or 0) + (final.iterations or 0))

    def _useful(self, m: Matrices) -> np.ndarray | None:
        """``paths.useful_columns``, computed again only when what it reads changed: the costs of the holdings and
        moves and which cells hold something today (a what-if of prices and requirements changes neither)."""
        moves = self.structure.blocks.move + self.layout.n_moves
        key = (m.cost[:moves].copy(), m.row_lower[:self.layout.n_cells] > 0)
        if self._useful_memo is not None and all(np.array_equal(a, b) for a, b in zip(self._useful_memo[0], key,
                                                                                        strict=True)):
            return self._useful_memo[1]
        keep = useful_columns(self.layout, m)
        if keep is not None:
            keep.flags.writeable = False  # one mask per memo: the restriction (_reduced) is reused by its identity
        self._useful_memo = (key, keep)
        return keep

    def keep_home_basis(self) -> None:
        """The current cost optimum's basis becomes the start of every later re-solve."""
        self.home_basis = self.lp.basis()
        self.small_home = self._last_small
        self.home_tried = True

    def run_moves(self, time_limit: float | None) -> SolveRecord:
        """Least value moved on the optimal face of the last cost optimum (restrict_to_optimum first)."""
        assert self._moves_on is not None
        keep, lp = self._moves_on
        self._moves_on = self._small = None  # the smaller program's HiGHS instance is freed after this phase
        record = lp.solve(time_limit)
        self.solution = None
        if record.status.value == "optimal":
            solution = lp.solution()
            if keep is None:
                self.solution = solution
            else:
                self.solution = solution.widened(keep)
        return record

    def restrict_to_optimum(self) -> None:
        """Turn the cost program into the moves phase on the cost optimum's face (program/_face.py), in place: the
        smaller program where it answered without a crossover (every least-moving optimum lies on its columns: a
        move off every shortest path, or into a dearer inert cell, would cost more, and a cycle only adds moves),
        else the whole one loaded in HiGHS."""
        assert self.cost_solution is not None and self.matrices is not None and self.values is not None
        m, b = self.matrices, self.matrices.blocks
        keep, lp = (None, self.lp) if self._small is None else self._small[:2]
        self.moves_on_smaller = keep is not None
        self._moves_on = (keep, lp)
        # everything in the loaded program's columns (the smaller program's, a fifth of the whole at 2000 x 100),
        # with the values and duals of the basis the moves phase starts from, so that it starts optimal for the
        # cost on the face they define (next to no iterations; any optimal dual defines the same face)
        own, value, dual, row_value, row_dual = self._face(keep)
        capped = own < b.collateral  # the holdings and the moves
        moves = capped & (own >= b.move)
        hedges = (own >= b.hedge) & (own < b.shortfall)  # they stay as the cost optimum traded them
        loaded_cost, loaded_lower, loaded_upper = m.cost[own], m.col_lower[own], m.col_upper[own]
        cost = moves.astype(float)
        col_lower, col_upper = loaded_lower.copy(), loaded_upper.copy()
        col_upper[capped] = _on_face(col_upper[capped], 0.0, value[capped], dual[capped])
        col_lower[hedges] = col_upper[hedges] = np.maximum(value[hedges], 0.0)
        row_lower, row_upper = _face_rows(m, row_value, row_dual)
        # only what differs from the cost program loaded: most rows keep their bounds, and a column the face fixes
        # needs no new cost
        priced = np.flatnonzero((cost != loaded_cost) & (col_lower != col_upper))
        bounded = np.flatnonzero((col_lower != loaded_lower) | (col_upper != loaded_upper))
        rows = np.flatnonzero((row_lower != m.row_lower) | (row_upper != m.row_upper))
        lp.restrict(priced, cost[priced], bounded, col_lower[bounded], col_upper[bounded], rows, row_lower[rows],
                    row_upper[rows])

    def _face(self, keep: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The loaded program's columns (indices into the whole program's) and its optimum's column values and
        duals there, with the row activities and duals: the smaller program's own optimum (its activities those
        of the completed solution, the same rows), HiGHS's after a crossover, else the cost phase's."""
        if keep is None:
            face = self.lp.solution() if self.proved is not None else self.cost_solution
            assert face is not None  # restrict_to_optimum follows an optimal cost phase
            return np.arange(len(face.col_value)), face.col_value, face.col_dual, face.row_value, face.row_dual
        assert self._small is not None and self.proved is not None
        small = self._small[2]
        return np.flatnonzero(keep), small.col_value, small.col_dual, self.proved.row_value, small.row_dual

    def run_elastic(self, time_limit: float | None) -> SolveRecord:
        """The elastic program's canonical optimum (``_Elastic``: the least weighted shortfall, then the tie-break
        over its optimal face), from scratch; once per numbers: a second call for the numbers of the last run (the
        diagnosis after ``_short``) returns its record again, with no time of its own (the first counted it). On
        the useful columns first where the cost phase would be (``_elastic_reduced``), else, or where that does
        not answer, on the whole elastic program (``_elastic_whole``)."""
        assert self.values is not None
        elastic = self._elastic
        if elastic is not None and elastic.values is self.values and elastic.record is not None:
            return replace(elastic.record, setup_seconds=0.0, solve_seconds=0.0, wall_seconds=0.0,
                           compile_seconds=0.0, compiled=False, iterations=0)
        compiled = elastic is None
        started = time.perf_counter()
        if elastic is None:
            structure = Structure(self.layout, elastic=True)
            options = self.options
            if _elastic_method(structure.blocks.columns, self.forced_method) == "ipx" \
                    and "presolve_rule_off" not in options:
                options = {**options, "presolve_rule_off": ELASTIC_PRESOLVE_RULE_OFF}
            elastic = self._elastic = _Elastic(structure, HighsLP(options))
        build = time.perf_counter() - started
        em = elastic.structure.assemble(self.values)
        elastic.solution, elastic.least, elastic.on_useful, elastic.note = None, None, False, None
        record = self._elastic_reduced(elastic, em, time_limit, build if compiled else 0.0, compiled)
        if record is None:  # the whole elastic program (also where the useful columns did not answer)
            record = self._elastic_whole(elastic, em, _left(time_limit, started), build if compiled else 0.0,
                                         compiled)
        elastic.values, elastic.record = self.values, replace(record, wall_seconds=time.perf_counter() - started)
        return elastic.record

    def _elastic_whole(self, elastic: _Elastic, em: Matrices, time_limit: float | None, build: float,
                       compiled: bool) -> SolveRecord:
        """Both stages of the elastic program on all its columns: the least weighted shortfall (IPX with crossover
        from ``ELASTIC_IPM_MIN_COLUMNS`` columns), then the tie-break from that basis on its optimal face."""
        started = time.perf_counter()
        setup = elastic.lp.load(em)
        elastic.method = method = _elastic_method(elastic.structure.blocks.columns, self.forced_method)
        least = elastic.lp.solve(time_limit, setup, build, compiled, method=method)
        if least.status.value != "optimal":
            return least
        elastic.least = elastic.lp.objective()
        first = elastic.lp.solution()
        own = np.arange(em.blocks.columns)
        record, _ = self._tie_break(elastic, em, own, first.col_value, first.col_dual, first.row_value,
                                    first.row_dual, _left(time_limit, started), least)
        if record.status.value == "optimal":
            elastic.solution = elastic.lp.solution()
        elif record.status.value != "user_limit":  # the least total stands; only its split is not canonical
            elastic.solution = first
            elastic.note = (f"the elastic program's tie-break ended {record.raw_status!r}: the shortfalls are the "
                            "least total, split as the first stage's vertex left it, not by the canonical rule "
                            "(docs/formulation.md)")
            # stage one's status, with both stages' time and iterations (the failed run's were spent too)
            return replace(record, status=least.status, raw_status=least.raw_status,
                           wall_seconds=time.perf_counter() - started)
        return record

    def _tie_break(self, elastic: _Elastic, em: Matrices, own: np.ndarray, value: np.ndarray, dual: np.ndarray,
                   row_value: np.ndarray, row_dual: np.ndarray, time_limit: float | None,
                   least: SolveRecord) -> tuple[SolveRecord, np.ndarray]:
        """Stage two on the loaded elastic program (its columns ``own`` of the whole one's), in place from stage
        one's optimal basis: the tie-break costs (``tie_break_costs``) on the shortfall and excess columns, nothing
        elsewhere, over stage one's optimal face (the face rule ``cap`` of the moves phase, from an optimal primal
        and dual of the whole program: ``value`` and ``dual`` of every column, the rows' activities and duals: a
        column at zero with a positive reduced cost stays at zero, a row with a non-zero dual stays at its bound).
        One record for both stages (a run that stops at a limit is the record, never optimal), and the mask of the
        whole program's columns the face fixes at zero."""
        b = em.blocks
        assert self.values is not None
        cost = tie_break_costs(self.values, b)[own]
        bounded = em.col_lower == 0.0  # every column but the collaterals (free)
        fixed = bounded & (cap(value, dual) == 0.0)
        col_lower, col_upper = em.col_lower[own], np.where(fixed, 0.0, em.col_upper)[own]
        row_lower, row_upper = _face_rows(em, row_value, row_dual)
        hedges = b.row_slice("hedge_limit")  # the moves phase fixes the hedges themselves instead
        size = em.row_upper[hedges]
        row_lower[hedges] = _on_face(row_lower[hedges], size, size - row_value[hedges], -row_dual[hedges])
        loaded_cost = em.cost[own]
        priced = np.flatnonzero(cost != loaded_cost)
        bounds = np.flatnonzero(col_upper != em.col_upper[own])
        rows = np.flatnonzero((row_lower != em.row_lower) | (row_upper != em.row_upper))
        elastic.lp.restrict(priced, cost[priced], bounds, col_lower[bounds], col_upper[bounds], rows,
                            row_lower[rows], row_upper[rows])
        # the primal simplex method: stage one's basis stays primal feasible on the face, only the costs changed
        # (unless the caller's ``simplex_strategy`` says otherwise)
        primal = {} if "simplex_strategy" in self.options else {"simplex_strategy": TIE_BREAK_STRATEGY}
        with elastic.lp.with_options(primal):
            second = elastic.lp.solve(time_limit, method="simplex")
        record = replace(second, setup_seconds=least.setup_seconds, compile_seconds=least.compile_seconds,
                         compiled=least.compiled, solve_seconds=least.solve_seconds + second.solve_seconds,
                         iterations=(least.iterations or 0) + (second.iterations or 0),
                         raw_status=second.raw_status if second.status is not Status.OPTIMAL else least.raw_status)
        return record, fixed

    def _elastic_reduced(self, elastic: _Elastic, em: Matrices, time_limit: float | None, build: float,
                         compiled: bool) -> SolveRecord | None:
        """Both stages of the elastic program on the cost program's useful columns (and every shortfall and excess
        column), from scratch, where the cost phase would solve them first (REDUCE_MIN_COLUMNS); None where that
        does not apply or does not answer: the caller then solves the whole elastic program.

        Its flows cost nothing, so any path from a source to a cell serves as well as another: the useful columns
        hold a path from every source to every cell that is not inert and to one of its inert cells, so some
        optimum of the whole elastic program uses only them (paths.py). That is not assumed: each stage's optimum
        on the useful columns, which HiGHS said optimal, stands only once its completed duals certify it for the
        whole program (``paths.complete``, as for the cost phase): stage one's for the whole elastic program, and
        stage two's for the tie-break over the whole program's optimal face, the face stage one's completed duals
        define (an optimal dual of the whole program: any defines the same face; the columns left out are then
        at zero with a non-negative completed reduced cost, fixed or free on that face, and the other columns and
        rows carry the same bounds in both). A time or iteration limit is the answer (an honest stop, never
        optimal); any other status, or a proof that fails, returns None (the whole elastic program decides,
        within what is left of the limit)."""
        assert self.matrices is not None
        started = time.perf_counter()
        if not self.reduce_elastic or self.structure.blocks.columns < self.reduce_min_columns:
            return None
        keep = self._useful(self.matrices)
        if keep is None or keep.all() or Network.of(self.layout, em) is None:
            return None
        b = em.blocks
        if elastic.reduced is None or elastic.reduced[0] is not keep:  # _useful's memo: the same mask
            wider = np.concatenate([keep, np.ones(b.columns - len(keep), dtype=bool)])
            elastic.reduced = (keep, Restriction.of(em, wider))
        restriction = elastic.reduced[1]
        setup = elastic.lp.load_arrays(*restriction.arrays(em)) + time.perf_counter() - started
        elastic.method = method = _elastic_method(len(restriction.kept), self.forced_method)
        least = elastic.lp.solve(time_limit, setup, build, compiled, method=method)
        objective = elastic.lp.objective()
        proved, proof = self._proved(elastic, least, em, restriction.keep)
        if proof is None or proved is None:
            return proved
        assert self.values is not None
        record, fixed = self._tie_break(elastic, em, restriction.kept, proof.col_value, proof.col_dual,
                                        proof.row_value, proof.row_dual, _left(time_limit, started), proved)
        tie = replace(em, cost=tie_break_costs(self.values, em.blocks))
        proved, proof = self._proved(elastic, record, tie, restriction.keep, fixed)
        if proof is None or proved is None:
            return proved
        elastic.solution, elastic.least, elastic.on_useful = Solution.of(proof), objective, True
        return proved

    def _proved(self, elastic: _Elastic, record: SolveRecord, m: Matrices, keep: np.ndarray,
                fixed: np.ndarray | None = None) -> tuple[SolveRecord | None, Completed | None]:
        """A stage of the elastic program run on the useful columns (``keep``), proved for the whole program ``m``
        (``paths.complete``, over the face ``fixed`` leaves free): the record (the proof's time in its set-up) and
        the completed solution; the record alone at a time or iteration limit (the honest answer); (None, None)
        for any other status or a proof that fails (the whole elastic program decides)."""
        if record.status.value == "user_limit":
            return record, None
        if record.status.value != "optimal":
            return None, None
        solution = elastic.lp.solution()
        clock = time.perf_counter()
        proof = complete(self.layout, m, keep, solution.col_value, solution.row_dual, fixed)
        if proof is None:
            return None, None
        return replace(record, setup_seconds=record.setup_seconds + time.perf_counter() - clock), proof

    def _surely_short(self) -> bool:
        """Whether the numbers alone prove the cost program short by more than ``SHORT`` of the elastic program's
        weights, so that ``_short`` will find it so: a screen that runs the elastic program at once instead of the
        smaller program first (for a hard what-if, thousands of iterations that end in "infeasible").

        Moves keep each asset's total value (the balance rows), no cell belongs to two accounts, and an account's
        collateral column is at most the credit ``(1 - haircut) x`` of its own cells (a hedge's margin only takes
        from it). So, each account in its own scale, a group of accounts can be credited together at most every
        asset one of them takes at that asset's whole value today, at its best ``1 - haircut`` in the group: the
        elastic program's optimum is at least the group's requirements beyond that (the dual of the transport of
        every asset's value to the accounts, locations and limits left out, at a 0-1 price per account). The
        groups: all accounts, each account alone (summed over the accounts beyond their own bounds), and the
        accounts most pressed (requirement over own bound) first, ``_grouped_short``."""
        v, layout = self.values, self.layout
        assert v is not None
        if len(layout.curve_pairs):  # credited by curves: not on this path (program/_lp/support.py), never screened
            return False
        account = v.account_scale
        worth = v.holdings.reshape(layout.n_assets, layout.n_locations).sum(axis=1)  # each asset's value today
        credit = v.weight * account[layout.pair_account]  # (1 - haircut) of each pair
        best = np.zeros(layout.n_assets)  # per asset, its best 1 - haircut (an asset no account takes: 0)
        np.maximum.at(best, layout.pair_asset, credit)
        needed = account * v.required
        own = np.bincount(layout.pair_account, weights=credit * worth[layout.pair_asset], minlength=len(account))
        short = max(float(needed.sum()) - float(best @ worth), float(np.maximum(needed - own, 0.0).sum()))
        threshold = SHORT * self._elastic_weights()
        return short > threshold or _grouped_short(layout, worth, credit, needed, own) > threshold

    def _short(self, time_limit: float | None) -> bool:
        """Whether the elastic program's optimum (the whole program's least weighted shortfall) is short by more
        than ``SHORT`` of its weights: the problem is then infeasible beyond any margin, whatever the smaller
        program's columns left out, and the diagnosis (which reads this run) finds the shortfalls."""
        record = self.run_elastic(time_limit)
        assert self._elastic is not None
        least = self._elastic.least
        return record.status is Status.OPTIMAL and least is not None and least > SHORT * self._elastic_weights()

    def _elastic_weights(self) -> float:
        """The sum of the elastic program's weights (its shortfalls' and excesses' costs): what ``SHORT`` is a
        share of."""
        assert self.values is not None
        return float(self.values.account_scale.sum() + self.values.limit_scale.sum())

    def elastic_note(self) -> str | None:
        """Why the last elastic diagnosis is not canonical (``_Elastic.note``), or None."""
        return self._elastic.note if self._elastic else None

    def _solution(self, phase: str) -> Solution | None:
        if phase == "elastic":
            return self._elastic.solution if self._elastic else None
        return self.solution

    def answer(self, phase: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(holding, move) of the last optimal run of ``phase`` ("cost", "moves", "elastic"), None if missing or
        not finite."""
        solution = self._solution(phase)
        if solution is None:
            return None
        b = self.structure.blocks
        holding, move = solution.col_value[b.column_slice("holding")], solution.col_value[b.column_slice("move")]
        if not (np.all(np.isfinite(holding)) and np.all(np.isfinite(move))):
            return None
        return holding, move

    def hedge(self, phase: str) -> np.ndarray | None:
        """(2H,) the hedges' ``[l; s]`` (account-scale units, program/_hedges.py) of the last optimal run of
        ``phase``, None if missing or not finite."""
        solution = self._solution(phase)
        if solution is None:
            return None
        x = solution.col_value[self.structure.blocks.column_slice("hedge")]
        return x if np.all(np.isfinite(x)) else None

    def sensitivity(self, numbers: Numbers, scale: Scale) -> Sensitivity:
        """Shadow prices, marginal values and binding rows from the cost optimum's duals, in the cvxpy program's
        sign convention (its coverage dual is HiGHS's row dual; its balance, concentration and hedge-size duals
        are the negated HiGHS row duals)."""
        assert self.cost_solution is not None
        layout, b = self.layout, self.structure.blocks
        sol = self.proved if self.proved is not None else self.cost_solution
        # ``x + 0.0`` and ``0.0 - x`` turn HiGHS's -0.0 duals into 0.0, so that no figure reads "-0.0000%"
        coverage = sol.row_dual[b.row_slice("coverage")] + 0.0
        limits = 0.0 - sol.row_dual[b.row_slice("concentration")]
        balance = 0.0 - sol.row_dual[b.row_slice("balance")]
        hedges = 0.0 - sol.row_dual[b.row_slice("hedge_limit")]  # the cvxpy program's "hedge" family
        units = Units.of(layout, numbers, scale)  # the same conversion to currency as the cvxpy program's
        binding = priced(coverage, units.coverage, lambda k: f"coverage[{layout.accounts[k]}]")
        binding += priced(limits, units.concentration, layout.limit_label)
        binding += priced(hedges, units.hedge, layout.hedge_label)
        return Sensitivity.of(layout, numbers, scale, coverage * numbers.requirement_slope[0], balance, binding)
