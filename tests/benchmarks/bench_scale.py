"""Large books (docs/performance.md, "Large books"): generated hub-and-spoke problems of 500 x 40, 1000 x 60 and
2000 x 100 (``generate_problem(n, 2, k, seed=1, topology="hub")``, as bench_core.py) on the compile-free linear
path: first solve and re-solves against HiGHS's own time on the same model, where time and memory go, and HiGHS's
methods side by side on the largest.

Every case reports the machine's load average (``os.getloadavg``) at its start and end: the project machine is
shared, and a figure taken under load is noisy.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from typing import Any

import numpy as np
from _cases import Figures, case, competing, credit_bounds, holdings_changed, scaled

import allocator
from allocator.io.generate import generate_problem
from allocator.solve._engine import Allocator  # noqa: F401  (import allocator is lazy: the engine imported untimed)

#: PDLP (a first-order method) may not reach HiGHS's 1e-9 tolerances at all: it is stopped here.
PDLP_SECONDS = 600.0
#: Above this many LP columns ``first_and_resolve`` leaves out HiGHS alone's moves phase by a cost-bound row (15 s
#: a re-solve at 1000 x 60, 177 s at 2000 x 100: the face restriction's figure is the baseline).
ROW_BASELINE_MAX_COLUMNS = 400_000
SIZES = {"200x20": (200, 20), "500x40": (500, 40), "1000x60": (1000, 60), "2000x100": (2000, 100)}


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _highs_alone(engine: allocator.Allocator) -> tuple[dict[str, float], Any]:
    """HiGHS's own cold solve of the cost LP the engine last solved (same matrices, same options, same method),
    on a fresh HiGHS instance: the baseline of the end-to-end ratios. Also returns the instance, which
    ``_highs_alone_again`` re-solves warm."""
    from allocator.solve._highs import HighsLP

    fast = engine.fast
    assert fast is not None and fast.matrices is not None
    lp = HighsLP(fast.options)
    lp.load(fast.matrices)
    record = lp.solve(method=fast.method)
    return {"highs_alone_s": round(record.solve_seconds, 3), "highs_alone_wall_s": round(record.wall_seconds, 3),
            "highs_alone_iterations": record.iterations or 0}, lp


def _highs_alone_again(engine: allocator.Allocator, lp: Any) -> tuple[float, float, int]:
    """HiGHS's own warm re-solve of the same model as the engine's last: the whole cost LP of the changed problem
    (the engine's matrices; passing them is not timed) given to ``lp`` with ``lp``'s last optimal basis, then the
    dual simplex from it, what a caller of HiGHS alone would do for a what-if. Run twice from that basis: with
    HiGHS's own choice of edge weights, and priced by Devex as the engine's re-solves are. The seconds of each by
    HiGHS's clock, and the first's iterations."""
    fast = engine.fast
    assert fast is not None and fast.matrices is not None
    basis = lp.basis()
    records = []
    for devex in (False, True):
        lp.load(fast.matrices, basis)
        records.append(lp.solve(method="simplex", devex=devex))
        assert records[-1].status.value == "optimal", records[-1].raw_status
    return records[0].solve_seconds, records[1].solve_seconds, records[0].iterations or 0


def _highs_alone_moves(engine: allocator.Allocator, lp: Any) -> float:
    """HiGHS's own moves phase on the same model, after ``_highs_alone_again``: what a caller of HiGHS alone would
    do for the plan's least value moved among the cost optima. From the whole cost LP's optimal basis (loaded, not
    timed: no iterations), a cost-bound row ``cost <= optimum + 1e-9 x max(1, |optimum|)`` (program units) is added
    and the objective becomes the value moved (1 per move column, as the engine's moves phase), then the simplex
    from that basis. Its seconds by HiGHS's clock; ``lp`` is left loaded at the cost optimum's basis, without the
    row, for the next re-solve."""
    fast = engine.fast
    assert fast is not None and fast.matrices is not None
    m = fast.matrices
    basis = lp.basis()
    lp.load(m, basis)
    assert lp.solve(method="simplex").status.value == "optimal"
    optimum = lp.objective()
    priced = np.flatnonzero(m.cost)
    lp.add_rows(np.array([-np.inf]), np.array([optimum + 1e-9 * max(1.0, abs(optimum))]), np.array([0]), priced,
                m.cost[priced])
    moves = m.blocks.column_slice("move")
    objective = np.zeros(m.blocks.columns)
    objective[moves] = 1.0
    lp.highs.changeColsCost(m.blocks.columns, np.arange(m.blocks.columns, dtype=np.int32), objective)
    record = lp.solve(method="simplex")
    assert record.status.value == "optimal", record.raw_status
    lp.load(m, basis)
    return record.solve_seconds


def _highs_alone_face(engine: allocator.Allocator, alone: Any) -> tuple[float, Any]:
    """HiGHS's own moves phase on the same model restricted to the cost optimum's face, as the engine's: a linear
    program of the engine's layout (solve/_fast.py) with no smaller program (every column), given the engine's last
    numbers, solves the whole cost LP (from its own last optimal basis; cold the first time) and then the moves
    phase on the whole LP's optimal face. The moves phase's seconds by HiGHS's clock, and the program (``alone``,
    None the first time) for the next re-solve."""
    from allocator.solve._fast import FastProgram

    fast = engine.fast
    assert fast is not None and fast.matrices is not None
    if alone is None:
        alone = FastProgram(engine.layout, fast.options)
        alone.reduce_min_columns = 1 << 62
    alone.scale, alone.values, alone.matrices = fast.scale, fast.values, fast.matrices
    assert alone.run_cost(None, warm=True).status.value == "optimal"
    alone.keep_home_basis()
    alone.restrict_to_optimum()
    record = alone.run_moves(None)
    assert record.status.value == "optimal", record.raw_status
    return record.solve_seconds, alone


def _reduction(fast: object) -> Figures:
    """How the last cost solve went (solve/_fast.py Reduction): the columns solved first (from the smaller
    program's home basis or cold) and each stage's seconds; ``whole`` names why the whole program was solved
    instead, if it was."""
    start = getattr(fast, "reduction", None)
    if start is None:
        return {}
    return {"useful_columns": start.reduced_columns, "warm": start.warm,
            "useful_columns_s": round(start.reduce_seconds, 3),
            "smaller_highs_s": round(start.reduced_seconds, 3), "complete_duals_s": round(start.complete_seconds, 3),
            "crossover_s": round(start.crossover_seconds, 3), "crossed": start.crossed, "restarted": start.restarted,
            "whole_because": start.whole}


@case(params={key: value for key, value in SIZES.items()})
def first_and_resolve(assets: int, accounts: int) -> Figures:
    """hub-and-spoke assets x accounts x 2 wallets on the linear path: first solve (end to end, HiGHS's share,
    HiGHS alone on the same LP), 3 re-solves with new prices and requirements (with and without the plan)"""
    load = _load()
    problem = generate_problem(assets, 2, accounts, seed=1, topology="hub")
    start = time.perf_counter()
    engine = allocator.Allocator(problem)
    result = engine.solve()
    first = time.perf_counter() - start
    solver = sum(r.solve_seconds for r in engine.records)
    figures: Figures = {"backend": engine.backend, "method": engine.fast.method if engine.fast else None,
                        "columns": engine.fast.structure.blocks.columns if engine.fast else None,
                        "moves": engine.layout.n_moves, "first_s": round(first, 3), "first_solver_s": round(solver, 3),
                        "first_over_solver": round(first / solver, 3),
                        "phases": [round(r.solve_seconds, 3) for r in engine.records],
                        "objective": round(result.objective.total, 4), "steps": len(result.plan)}
    figures |= _reduction(engine.fast)
    alone, alone_lp = _highs_alone(engine)
    figures |= alone
    figures["first_over_highs_alone"] = round(first / figures["highs_alone_s"], 3)
    face_program = None
    for plan in (True, False):
        walls, solvers, warm, devex, warm_iterations, moves, face = [], [], [], [], [], [], []
        for step in range(3):
            changed = scaled(problem, 1.0 + 0.01 * (step + 1), 1.0 + 0.02 * (step + 1))
            start = time.perf_counter()
            engine.solve(changed, plan=plan)
            walls.append(time.perf_counter() - start)
            solvers.append(sum(r.solve_seconds for r in engine.records))
            seconds, devex_seconds, iterations = _highs_alone_again(engine, alone_lp)
            if plan and engine.fast.structure.blocks.columns <= ROW_BASELINE_MAX_COLUMNS:
                moves.append(_highs_alone_moves(engine, alone_lp))
            if plan:
                seconds_face, face_program = _highs_alone_face(engine, face_program)
                face.append(seconds_face)
            warm.append(seconds)
            devex.append(devex_seconds)
            warm_iterations.append(iterations)
        wall, solver, alone_warm = statistics.median(walls), statistics.median(solvers), statistics.median(warm)
        alone_devex = statistics.median(devex)
        key = "resolve" if plan else "resolve_no_plan"
        figures |= {f"{key}_s": round(wall, 3), f"{key}_solver_s": round(solver, 3),
                    f"{key}_over_solver": round(wall / solver, 3),
                    f"{key}_overhead_ms": round(1000 * (wall - solver), 1),
                    f"{key}_over_1.1x_plus_5ms": round(wall / (1.1 * solver + 0.005), 3),
                    f"{key}_highs_alone_warm_s": round(alone_warm, 3),
                    f"{key}_highs_alone_warm_iterations": warm_iterations,
                    f"{key}_over_1.1x_highs_alone_warm_plus_5ms": round(wall / (1.1 * alone_warm + 0.005), 3),
                    f"{key}_highs_alone_devex_s": round(alone_devex, 3),
                    f"{key}_over_1.1x_highs_alone_devex_plus_5ms": round(wall / (1.1 * alone_devex + 0.005), 3)}
        if plan:  # the plan's moves phase too: HiGHS alone solves both LPs of the same model
            alone_face = statistics.median(face)
            figures |= {"resolve_highs_alone_moves_row_s": round(statistics.median(moves), 3) if moves else None,
                        "resolve_highs_alone_moves_face_s": round(alone_face, 3),
                        "resolve_over_1.1x_highs_alone_both_plus_5ms": round(
                            wall / (1.1 * (alone_warm + alone_face) + 0.005), 3),
                        "resolve_over_1.1x_highs_alone_devex_both_plus_5ms": round(
                            wall / (1.1 * (alone_devex + alone_face) + 0.005), 3)}
    figures["last_resolve"] = _reduction(engine.fast)
    figures["load_start_end"] = [load, _load()]
    return figures


@case(params={key: SIZES[key] for key in ("500x40", "1000x60")})
def infeasible_resolve(assets: int, accounts: int) -> Figures:
    """an infeasible what-if (prices x 0.7, requirements x 1.2) on a solved hub-and-spoke book, and the same
    problem solved cold: seconds to the InfeasibleError and its total shortfall, HiGHS's runs (columns,
    iterations, seconds)"""
    from allocator.solve._highs import HighsLP

    load = _load()
    problem = generate_problem(assets, 2, accounts, seed=1, topology="hub")
    infeasible = scaled(problem, 0.7, 1.2)
    runs: list[tuple[int, int, float]] = []
    solve = HighsLP.solve

    def counted(lp: HighsLP, *args: object, **kwargs: object) -> object:
        record = solve(lp, *args, **kwargs)  # type: ignore[arg-type]
        runs.append((lp.highs.getNumCol(), record.iterations or 0, round(record.solve_seconds, 3)))
        return record

    figures: Figures = {}
    engine = allocator.Allocator(problem)
    engine.solve()
    HighsLP.solve = counted  # type: ignore[method-assign]
    try:
        for key, run in (("resolve", lambda: engine.solve(infeasible, plan=False)),
                         ("cold", lambda: allocator.optimize(infeasible))):
            runs.clear()
            start = time.perf_counter()
            try:
                run()
                status, shortfall = "optimal", 0.0
            except allocator.InfeasibleError as error:
                status, shortfall = "infeasible", round(error.diagnosis.total, 2)
            figures |= {f"{key}_s": round(time.perf_counter() - start, 3), f"{key}_status": status,
                        f"{key}_shortfall": shortfall, f"{key}_highs_runs": list(runs)}
    finally:
        HighsLP.solve = solve  # type: ignore[method-assign]
    figures["load_start_end"] = [load, _load()]
    return figures


def _competing(problem: allocator.Problem, share: float) -> tuple[allocator.Problem, Figures]:
    """``problem`` with acct-00's and acct-01's requirements at ``share`` of what their own eligible assets can
    give them (every asset each takes at its whole value today, at its haircut there) and every other requirement
    at zero: short only because the two need the same assets. Also the eleventh session's two bounds of the screen
    (solve/_fast.py ``_surely_short``) by hand, in currency: the requirements against every asset at its best
    ``1 - haircut`` anywhere, and each account's against its own assets; both ratios below one, so neither proves
    it short."""
    worth, best, own = credit_bounds(problem)
    whatif = competing(problem, own, share)
    needed = {k: t.required for k, t in whatif.terms.items()}
    return whatif, {"joint_bound_ratio": round(sum(needed.values()) / sum(v * best[a] for a, v in worth.items()), 4),
                    "own_bound_ratio": round(max(needed[k] / own[k] for k in needed if own[k] > 0), 4)}


@case(params={key: SIZES[key] for key in ("500x40", "1000x60")})
def unscreened_infeasible_resolve(assets: int, accounts: int) -> Figures:
    """an infeasible what-if that the screen of requirements beyond any credit (all accounts together, or one
    alone) does not catch: two accounts at 0.9 of what their own assets can give, the others at zero, short only
    because both need the same assets; re-solved warm on a solved hub-and-spoke book and solved cold: seconds to
    the InfeasibleError, its total shortfall, whether the engine screened it, HiGHS's runs (columns, iterations,
    seconds, status)"""
    from allocator.solve._highs import HighsLP

    load = _load()
    problem = generate_problem(assets, 2, accounts, seed=1, topology="hub")
    infeasible, figures = _competing(problem, 0.9)
    runs: list[tuple[int, int, float, str]] = []
    solve = HighsLP.solve

    def counted(lp: HighsLP, *args: object, **kwargs: object) -> object:
        record = solve(lp, *args, **kwargs)  # type: ignore[arg-type]
        runs.append((lp.highs.getNumCol(), record.iterations or 0, round(record.solve_seconds, 3),
                     record.status.value))
        return record

    engine = allocator.Allocator(problem)
    engine.solve()
    HighsLP.solve = counted  # type: ignore[method-assign]
    try:
        for key in ("resolve", "cold"):
            runs.clear()
            if key == "cold":
                engine = allocator.Allocator(infeasible)
            start = time.perf_counter()
            try:
                engine.solve(infeasible, plan=False) if key == "resolve" else engine.solve()
                status, shortfall, accounts_short = "optimal", 0.0, {}
            except allocator.InfeasibleError as error:
                status, shortfall = "infeasible", round(error.diagnosis.total, 2)
                accounts_short = {k: round(v, 2) for k, v in error.diagnosis.by_account().items()}
            reduction = engine.fast.reduction if engine.fast is not None else None
            figures |= {f"{key}_s": round(time.perf_counter() - start, 3), f"{key}_status": status,
                        f"{key}_shortfall": shortfall, f"{key}_by_account": accounts_short,
                        f"{key}_screened": getattr(reduction, "screened", None),
                        f"{key}_highs_runs": list(runs)}
    finally:
        HighsLP.solve = solve  # type: ignore[method-assign]
    figures["load_start_end"] = [load, _load()]
    return figures


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return round(int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


@case(params={key: SIZES[key] for key in ("500x40", "1000x60", "2000x100")})
def holdings_resolve(assets: int, accounts: int) -> Figures:
    """what-ifs that change the holdings (so the useful columns) on a solved hub-and-spoke book, without the
    plan: one holding also at the other wallet with prices x 1.02 and requirements x 1.05, 100 holdings emptied,
    30 holdings also at the other wallet with prices x 1.1; seconds, objective and how each was solved (the
    smaller program from the home basis carried over, started again from scratch or not), and a cold solve of each"""
    load = _load()
    problem = generate_problem(assets, 2, accounts, seed=1, topology="hub")
    whatifs = {"one_moved": scaled(holdings_changed(problem, 1, 0), 1.02, 1.05),
               "hundred_emptied": holdings_changed(problem, 0, 100),
               "thirty_moved": scaled(holdings_changed(problem, 30, 0), 1.1, 1.05)}
    engine = allocator.Allocator(problem)
    engine.solve()
    figures: Figures = {}
    for name, whatif in whatifs.items():
        start = time.perf_counter()
        result = engine.solve(whatif, plan=False)
        figures[f"{name}_s"] = round(time.perf_counter() - start, 3)
        reduction = engine.fast.reduction if engine.fast is not None else None
        figures[f"{name}_how"] = None if reduction is None else {
            "warm": reduction.warm, "restarted": getattr(reduction, "restarted", None),  # None before it existed
            "whole_because": reduction.whole, "smaller_highs_s": round(reduction.reduced_seconds, 3)}
        start = time.perf_counter()
        cold = allocator.Allocator(whatif).solve(plan=False)
        figures[f"{name}_cold_s"] = round(time.perf_counter() - start, 3)
        figures[f"{name}_objective"] = round(result.objective.total, 2)
        assert abs(result.objective.total - cold.objective.total) <= 1e-6 * abs(cold.objective.total)
    figures["load_start_end"] = [load, _load()]
    return figures


#: The stages of a re-solve that ``resolve_breakdown`` times: (module, attribute path, label). Nested stages are
#: inside the ones above them (HiGHS's runs inside the cost phase, the dual completion inside it too).
RESOLVE_STAGES = [
    ("allocator.solve._engine", "Allocator.changed", "structure check (a Layout of the new problem)"),
    ("allocator.program._numbers", "Numbers.from_problem", "numbers"),
    ("allocator.solve._fast", "FastProgram.assign", "assemble the LP"),
    ("allocator.solve._fast", "FastProgram._reduced", "cost phase (smaller program, proof)"),
    ("allocator.solve._highs", "HighsLP.load_arrays", "  pass the smaller program to HiGHS"),
    ("allocator.solve._highs", "HighsLP._run", "  HiGHS's runs (wall)"),
    ("allocator.solve._fast", "complete", "  dual completion (paths.complete)"),
    ("allocator.solve._engine", "check", "numpy verification (cost and moves phases)"),
    ("allocator.solve._fast", "FastProgram.restrict_to_optimum", "moves phase: restrict to the optimal face"),
    ("allocator.solve._fast", "FastProgram.run_moves", "moves phase: HiGHS and its solution"),
    ("allocator.solve._engine", "Ledger", "plan: ledger"),
    ("allocator.solve._engine", "order", "plan: ordering"),
    ("allocator.solve._engine", "result_of", "result rows"),
    ("allocator.solve._engine", "validate_plan", "plan: replay (validate_plan)"),
]


@case(params={key: SIZES[key] for key in ("500x40", "2000x100")})
def resolve_breakdown(assets: int, accounts: int) -> Figures:
    """where a what-if re-solve's time goes (prices x 1.013-1.065, requirements x 1.021-1.105, five re-solves
    after two untimed ones, with and without the plan): milliseconds per re-solve in each stage (the functions the
    engine calls, timed by wrapping them), HiGHS's own time and what is left around it, and Python's garbage
    collections (counted in whichever stage they struck as well)"""
    import importlib

    load = _load()
    problem = generate_problem(assets, 2, accounts, seed=1, topology="hub")
    engine = allocator.Allocator(problem)
    engine.solve()
    spent: dict[str, float] = {}

    def timed(function: Any, label: str) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - start
        return wrapper

    wrapped: list[tuple[Any, str, Any]] = []  # (owner, name, original): restored at the end
    for module, path, label in RESOLVE_STAGES:
        owner: Any = importlib.import_module(module)
        *outer, name = path.split(".")
        for part in outer:
            owner = getattr(owner, part)
        original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        wrapped.append((owner, name, original))
        setattr(owner, name, timed(getattr(owner, name), label))
    collecting: list[float] = []  # Python's garbage collections: when each started, then their seconds

    def collection(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collecting.append(time.perf_counter())
        else:
            spent["garbage collection"] = spent.get("garbage collection", 0.0) + time.perf_counter() - collecting.pop()

    gc.callbacks.append(collection)
    figures: Figures = {}
    runs = 5
    for plan in (False, True):
        for step in range(2):
            engine.solve(scaled(problem, 1.0 + 0.01 * (step + 1), 1.0 + 0.02 * (step + 1)), plan=plan)
        changed = [scaled(problem, 1.0 + 0.013 * (step + 1), 1.0 + 0.021 * (step + 1)) for step in range(runs)]
        spent.clear()
        wall = solver = 0.0
        for whatif in changed:
            start = time.perf_counter()
            engine.solve(whatif, plan=plan)
            wall += time.perf_counter() - start
            solver += sum(r.solve_seconds for r in engine.records)
        key = "with_plan" if plan else "without_plan"
        figures[key] = {"wall_ms": round(1000 * wall / runs, 1), "highs_ms": round(1000 * solver / runs, 1),
                        "around_highs_ms": round(1000 * (wall - solver) / runs, 1),
                        "stages_ms": {label: round(1000 * spent.get(label, 0.0) / runs, 2)
                                      for _, _, label in RESOLVE_STAGES if label in spent},
                        "garbage_collection_ms": round(1000 * spent.get("garbage collection", 0.0) / runs, 2)}
    gc.callbacks.remove(collection)
    for owner, name, original in reversed(wrapped):
        setattr(owner, name, original)  # a classmethod goes back as the descriptor it was
    figures["load_start_end"] = [load, _load()]
    return figures


@case(params={key: SIZES[key] for key in ("500x40", "2000x100")})
def breakdown(assets: int, accounts: int) -> Figures:
    """where a first solve's time and memory go on the linear path: each stage of Allocator.solve run by hand (the
    same functions the engine calls), seconds and resident MB after it"""
    from allocator.plan.ledger import Ledger
    from allocator.plan.order import order
    from allocator.plan.transfers import transfers_from_moves
    from allocator.plan.validate import validate_plan
    from allocator.program._layout import Layout
    from allocator.program._numbers import Numbers
    from allocator.solve._engine import Optimum
    from allocator.solve._fast import FastProgram
    from allocator.solve._solvers import profile
    from allocator.solve._verify import check

    load = _load()
    stages: dict[str, list[float]] = {"start": [0.0, _rss_mb()]}
    clock = time.perf_counter()

    def stage(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[name] = [round(now - clock, 3), _rss_mb()]
        clock = now

    problem = generate_problem(assets, 2, accounts, seed=1, topology="hub")
    stage("generate problem (not part of a solve)")
    layout = Layout.from_problem(problem)
    stage("layout")
    numbers = Numbers.from_problem(problem, layout)
    stage("numbers")
    margins = profile("HIGHS")
    fast = FastProgram(layout, dict(margins.options))
    stage("matrix structure")
    scale = fast.assign(numbers, margins)
    stage("assemble")
    cost = fast.run_cost(None, warm=False, for_home=True)  # as the engine's first solve: its basis becomes home
    useful = fast.reduction.reduced_columns if fast.reduction else None
    stage(f"cost phase (useful columns first: {useful}; HiGHS {cost.solve_seconds:.2f} s, "
          f"load {cost.setup_seconds:.2f} s)")
    holding, move = fast.answer("cost") or (np.zeros(0), np.zeros(0))
    allocation, violations = check(layout, numbers, scale, holding, move, tolerance=margins.tolerance)
    stage("verify")
    fast.sensitivity(numbers, scale)
    stage("sensitivities")
    fast.restrict_to_optimum()
    moves = fast.run_moves(None)
    stage(f"moves phase (HiGHS {moves.solve_seconds:.2f} s)")
    holding, move = fast.answer("moves") or (np.zeros(0), np.zeros(0))
    allocation, more = check(layout, numbers, scale, holding, move, tolerance=margins.tolerance)
    stage("verify the moves phase")
    ledger = Ledger(problem, (layout, numbers))
    stage("ledger")
    transfers = transfers_from_moves(layout, allocation.moved)
    ordered = order(ledger, transfers)
    stage("order the plan")
    engine = allocator.Allocator(problem, backend="cvxpy")  # its cvxpy program is built on first need: never here
    optimum = Optimum(problem, numbers, scale, allocation, fast.sensitivity(numbers, scale), ["cost", "moves"], [])
    stage("engine object, optimum")
    result = engine._result(optimum, plan=True, started=0.0)
    stage("result (targets, accounts, marginal values; orders the plan again)")
    replay = validate_plan(problem, result)
    stage("validate_plan (replay)")
    return {"stages": stages, "reduction": _reduction(fast),
            "violations": len(violations) + len(more) + len(replay), "steps": len(ordered.steps),
            "columns": fast.structure.blocks.columns, "rows": fast.structure.blocks.rows,
            "nonzeros": fast.structure.nnz, "load_start_end": [load, _load()]}


@case(params={f"{size}-{method}": (*SIZES[size], method) for size in ("500x40", "1000x60", "2000x100")
              for method in ("simplex", "ipx", "pdlp")})
def highs_methods(assets: int, accounts: int, method: str) -> Figures:
    """one cold solve of the cost LP with a HiGHS method (simplex, IPX with crossover, PDLP): HiGHS seconds,
    iterations, objective, and whether the numpy verification accepts the answer"""
    from allocator.program._layout import Layout
    from allocator.program._numbers import Numbers
    from allocator.solve._fast import FastProgram
    from allocator.solve._solvers import profile
    from allocator.solve._verify import check

    load = _load()
    problem = generate_problem(assets, 2, accounts, seed=1, topology="hub")
    layout = Layout.from_problem(problem)
    numbers = Numbers.from_problem(problem, layout)
    margins = profile("HIGHS")
    fast = FastProgram(layout, {**margins.options, "solver": method})
    scale = fast.assign(numbers, margins)
    record = fast.run_cost(PDLP_SECONDS if method == "pdlp" else None, warm=False)
    figures: Figures = {"status": record.raw_status, "highs_s": round(record.solve_seconds, 3),
                        "wall_s": round(record.wall_seconds, 3), "iterations": record.iterations}
    answer = fast.answer("cost")
    if answer is not None:
        allocation, violations = check(layout, numbers, scale, *answer, tolerance=margins.tolerance)
        carry, transfer = allocation.carry_cost(layout, numbers), allocation.transfer_cost(layout, numbers)
        figures |= {"objective": round(carry + transfer, 4), "violations": len(violations),
                    "first_violation": violations[0][:120] if violations else None}
    figures["load_start_end"] = [load, _load()]
    return figures


@case(params={key: SIZES[key] for key in ("500x40", "1000x60", "2000x100")})
def inputs(assets: int, accounts: int) -> Figures:
    """what a large book's inputs cost before any solve: load_problem of its JSON file, Problem.model_validate of
    its data, and a what-if scenario applied (prices x 1.01, requirements x 1.02: Scenario.apply, which validates
    the changed problem); median of 5 each, in milliseconds"""
    import tempfile
    from pathlib import Path

    from allocator.inputs.problem import Problem
    from allocator.inputs.scenario import Scenario

    load = _load()
    problem = generate_problem(assets, 2, accounts, seed=1, topology="hub")
    data = problem.model_dump(by_alias=True)
    scenario = Scenario.parse({"shock": {"*": 0.01}, "requirement_scale": {"*": 1.02}})

    def median_ms(run: Any) -> float:
        seconds = []
        for _ in range(5):
            start = time.perf_counter()
            run()
            seconds.append(time.perf_counter() - start)
        return round(1000 * statistics.median(seconds), 1)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "book.json"
        path.write_text(problem.model_dump_json(by_alias=True))
        figures: Figures = {"load_problem_ms": median_ms(lambda: allocator.load_problem(path))}
    figures["model_validate_ms"] = median_ms(lambda: Problem.model_validate(data))
    figures["scenario_apply_ms"] = median_ms(lambda: scenario.apply(problem))
    figures |= {"holdings": len(problem.holdings), "routes": len(problem.routes or []),
                "load_start_end": [load, _load()]}
    return figures


@case(params={key: SIZES[key] for key in ("500x40", "2000x100")})
def resolve_blas_threads(assets: int, accounts: int) -> Figures:
    """what-if re-solves (no plan; prices x 1.013-1.065, requirements x 1.021-1.105) with BLAS limited to one thread
    during each solve (solve/_blas.py, the default) and without the limit, alternated round by round: first on the
    machine as it is, then with one CPU-bound process per core started beside the case (another job's load);
    medians of the rounds' wall and HiGHS milliseconds per re-solve. The burners are killed at the end."""
    import contextlib
    import subprocess
    import sys

    import allocator.solve._engine as engine_module

    load = _load()
    problem = generate_problem(assets, 2, accounts, seed=1, topology="hub")
    engine = allocator.Allocator(problem)
    engine.solve()
    changed = [scaled(problem, 1.0 + 0.013 * (step + 1), 1.0 + 0.021 * (step + 1)) for step in range(5)]
    for whatif in changed[:2]:
        engine.solve(whatif, plan=False)
    limited = engine_module.one_blas_thread

    def rounds(times: int) -> Figures:
        spent: dict[str, list[float]] = {"limited_wall": [], "limited_highs": [], "free_wall": [], "free_highs": []}
        for _ in range(times):
            for arm, limit in (("limited", limited), ("free", contextlib.nullcontext)):
                engine_module.one_blas_thread = limit  # type: ignore[assignment]
                for whatif in changed:
                    start = time.perf_counter()
                    engine.solve(whatif, plan=False)
                    spent[f"{arm}_wall"].append(time.perf_counter() - start)
                    spent[f"{arm}_highs"].append(sum(r.solve_seconds for r in engine.records))
        engine_module.one_blas_thread = limited  # type: ignore[assignment]
        return {f"{key}_ms": round(1000 * statistics.median(values), 1) for key, values in spent.items()}

    figures: Figures = {"quiet": rounds(3)}
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 1)]
    try:
        time.sleep(1.0)
        figures["beside_burners"] = rounds(5) | {"burners": len(burners)}
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
        engine_module.one_blas_thread = limited  # type: ignore[assignment]
    figures["load_start_end"] = [load, _load()]
    return figures
