"""Independent reference LP for the collateral allocation problem (scipy/HiGHS).

Deliberately written in *raw units* (token quantities, currency) with direct
arcs, not the library's scaled value units / virtual hub, so the two can be
cross-checked. Nothing is imported from ``allocator``; ``p`` is duck-typed.

Notation: a asset, l location, k account (an account is also a location),
e = (from, to) route, P_a price, h_ak haircut, c_ak concentration cap,
y_ak yield (0 if absent), T = horizon_days / 365, w_ak = (1 - h_ak) P_a for
assets eligible at k (keys of ``haircuts``), else 0.

Variables: q_al >= 0 units held at l after moves; f_ae >= 0 units moved along
route e, for every asset allowed on e (``route.assets is None`` = all). If
``p.routes is None`` every ordered pair of distinct locations is a zero-cost
all-asset route. Locations = sorted(holding locations | accounts | route ends).

    min   sum_k sum_a (carry_a - y_ak) P_a T q_ak  +  sum_{a,e} bps_e/1e4 P_a f_ae
    s.t.  q_al = q0_al + sum_{e into l} f_ae - sum_{e out of l} f_ae    (all a, l)
          sum_a w_ak q_ak >= R_k (1 + buffer_k)                          (all k)
          w_ak q_ak <= c_ak sum_a' w_a'k q_a'k                  (all given (a, k))

Elastic variant (``min_total_shortfall``): coverage rows get + s_k, s_k >= 0,
and the objective becomes min sum_k s_k (currency).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

_STATUS = {0: "optimal", 1: "iteration_limit", 2: "infeasible", 3: "unbounded", 4: "numerical"}


@dataclass
class ReferenceSolution:
    status: str
    objective: float = float("nan")  # currency
    carry: float = float("nan")  # currency, carry-minus-yield part
    transfer: float = float("nan")  # currency, routing-cost part
    quantities: dict[tuple[str, str], float] = field(default_factory=dict)
    min_shortfall: float | None = None


@dataclass
class _Model:
    assets: list[str]
    locs: list[str]
    n_q: int
    c_carry: np.ndarray  # (n_q + n_f,) carry objective
    c_move: np.ndarray  # (n_q + n_f,) transfer objective
    A_eq: sp.csr_matrix
    b_eq: np.ndarray
    cov: sp.csr_matrix  # (K, n) rows: sum_a w_ak q_ak
    req: np.ndarray  # (K,)
    conc: sp.csr_matrix  # rows <= 0
    account_ids: list[str]


def _build(p: Any) -> _Model:
    assets = [a.id for a in p.assets]
    aix = {a: i for i, a in enumerate(assets)}
    price = np.array([float(a.price) for a in p.assets])
    carry = np.array([float(a.carry) for a in p.assets])
    accounts = list(p.accounts)
    locset = {h.location for h in p.holdings} | {k.id for k in accounts}
    if p.routes is not None:
        locset |= {r.from_ for r in p.routes} | {r.to for r in p.routes}
    locs = sorted(locset)
    lix = {l: i for i, l in enumerate(locs)}
    A, L = len(assets), len(locs)
    n_q = A * L

    def qi(a: int, l: int) -> int:
        return a * L + l

    # Flow columns: one per (asset, route) allowed pair, as parallel arrays.
    if p.routes is None:
        src, dst = np.nonzero(~np.eye(L, dtype=bool))
        bps = np.zeros(len(src))
        allowed: list[list[str] | None] = [None] * len(src)
    else:
        routes = [r for r in p.routes if r.from_ != r.to]
        src = np.array([lix[r.from_] for r in routes], dtype=int)
        dst = np.array([lix[r.to] for r in routes], dtype=int)
        bps = np.array([float(r.cost_bps) for r in routes])
        allowed = [r.assets for r in routes]
    fa, fe = [], []
    for e, al in enumerate(allowed):
        ids = np.arange(A) if al is None else np.array([aix[a] for a in al if a in aix], dtype=int)
        fa.append(ids)
        fe.append(np.full(len(ids), e, dtype=int))
    fa_ = np.concatenate(fa) if fa else np.zeros(0, dtype=int)
    fe_ = np.concatenate(fe) if fe else np.zeros(0, dtype=int)
    n_f = len(fa_)
    n = n_q + n_f
    fcol = n_q + np.arange(n_f)

    # Conservation: q_al - inflow + outflow = q0_al.
    rows = np.concatenate([np.arange(n_q), fa_ * L + dst[fe_], fa_ * L + src[fe_]])
    cols = np.concatenate([np.arange(n_q), fcol, fcol])
    vals = np.concatenate([np.ones(n_q), -np.ones(n_f), np.ones(n_f)])
    A_eq = sp.csr_matrix((vals, (rows, cols)), shape=(n_q, n))
    b_eq = np.zeros(n_q)
    for h in p.holdings:
        b_eq[qi(aix[h.asset], lix[h.location])] += float(h.quantity)

    T = float(p.horizon_days) / 365.0
    c_carry, c_move = np.zeros(n), np.zeros(n)
    c_move[fcol] = bps[fe_] / 1e4 * price[fa_]
    cr, cc, cv, conc_r, conc_c, conc_v = [], [], [], [], [], []
    req = np.zeros(len(accounts))
    n_conc = 0
    for k, acc in enumerate(accounts):
        l = lix[acc.id]
        ylds = acc.yields or {}
        for a in range(A):
            c_carry[qi(a, l)] = (carry[a] - float(ylds.get(assets[a], 0.0))) * price[a] * T
        w = {aix[a]: (1.0 - float(h)) * price[aix[a]] for a, h in (acc.haircuts or {}).items() if a in aix}
        for a, wa in w.items():
            cr.append(k), cc.append(qi(a, l)), cv.append(wa)
        req[k] = float(acc.requirement) * (1.0 + float(acc.buffer))
        for a_id, cap in (acc.concentration or {}).items():
            if aix.get(a_id) not in w:
                continue  # ineligible: zero value, constraint is vacuous
            a = aix[a_id]
            for b, wb in w.items():  # w_a q_a - cap * sum_b w_b q_b <= 0
                conc_r.append(n_conc), conc_c.append(qi(b, l))
                conc_v.append((1.0 if b == a else 0.0) * wb - float(cap) * wb)
            n_conc += 1
    cov = sp.csr_matrix((cv, (cr, cc)), shape=(len(accounts), n))
    conc = sp.csr_matrix((conc_v, (conc_r, conc_c)), shape=(n_conc, n))
    return _Model(assets, locs, n_q, c_carry, c_move, A_eq, b_eq, cov, req, conc,
                  [k.id for k in accounts])


def _quantities(m: _Model, x: np.ndarray) -> dict[tuple[str, str], float]:
    L = len(m.locs)
    return {(m.assets[i // L], m.locs[i % L]): float(x[i]) for i in range(m.n_q) if abs(x[i]) > 1e-9}


def min_total_shortfall(p: Any) -> tuple[float, dict[str, float]]:
    """Elastic LP: min sum_k s_k s.t. coverage_k + s_k >= R_k(1+b_k), rest unchanged."""
    m = _build(p)
    K, n = m.cov.shape
    eye = sp.identity(K, format="csr")
    A_ub = sp.vstack([sp.hstack([-m.cov, -eye]), sp.hstack([m.conc, sp.csr_matrix((m.conc.shape[0], K))])])
    b_ub = np.concatenate([-m.req, np.zeros(m.conc.shape[0])])
    A_eq = sp.hstack([m.A_eq, sp.csr_matrix((m.A_eq.shape[0], K))])
    c = np.concatenate([np.zeros(n), np.ones(K)])
    r = linprog(c, A_ub=A_ub.tocsr(), b_ub=b_ub, A_eq=A_eq.tocsr(), b_eq=m.b_eq, bounds=(0, None), method="highs")
    if r.status != 0:
        return float("inf"), {}
    s = r.x[n:]
    return float(s.sum()), {k: float(v) for k, v in zip(m.account_ids, s, strict=True)}


def solve_reference(p: Any) -> ReferenceSolution:
    """Solve the reference LP; on infeasibility also report the minimal total shortfall."""
    m = _build(p)
    A_ub = sp.vstack([-m.cov, m.conc]).tocsr()
    b_ub = np.concatenate([-m.req, np.zeros(m.conc.shape[0])])
    r = linprog(m.c_carry + m.c_move, A_ub=A_ub, b_ub=b_ub, A_eq=m.A_eq, b_eq=m.b_eq,
                bounds=(0, None), method="highs")
    status = _STATUS.get(r.status, f"status_{r.status}")
    if r.status != 0:
        short = min_total_shortfall(p)[0] if r.status == 2 else None
        return ReferenceSolution(status=status, min_shortfall=short)
    x = r.x
    carry, transfer = float(m.c_carry @ x), float(m.c_move @ x)
    return ReferenceSolution("optimal", carry + transfer, carry, transfer, _quantities(m, x))
