"""Every number a what-if may change, as cvxpy Parameters in scaled units (compile once, re-solve often).

Products of two data items (``requirement * (1 + buffer)``, ``1 - haircut``, ``price * quantity``) are formed
here in numpy before they become parameter values, so the program stays DPP.
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from allocator.program._credit import CHORDS, chord_table
from allocator.program._hedge_parameters import HedgeParameters
from allocator.program._layout import Layout
from allocator.program._lp.values import LinearValues, flat
from allocator.program._numbers import Numbers
from allocator.program._scaling import Scale

#: z * sqrt(tau / 365) below this counts as this (a limit at 50% confidence): keeps the cone's head finite.
MIN_RISK_SCALE = 1e-6


@dataclass(frozen=True, eq=False)
class Parameters:
    slots: int  # stress rows per risk account (Program.stress_slots)
    holdings: cp.Parameter  # (cells,) value held today
    weight: cp.Parameter  # (P,) (1 - haircut) / account scale
    required: cp.Parameter  # (K,) requirement * (1 + buffer) / account scale, plus the coverage margin
    limit: cp.Parameter  # (C,) concentration share, less the limit margin
    share_weight: cp.Parameter  # (C,) (1 - haircut) / account scale of each limited pair (curves: slope at 0)
    carry: cp.Parameter  # (A*K,) carry cost rate of value at each account
    move: cp.Parameter  # (M,) cost rate of value moved
    account_scale: cp.Parameter  # (K,) weights of the elastic program's shortfalls (in money-scale units)
    limit_scale: cp.Parameter  # (C,) the same for concentration excesses
    risk_loadings: cp.Parameter  # (r, n) B' (annual), shared by every risk account
    risk_specific: cp.Parameter  # (n, K_r) the specific volatilities s, one column per risk account
    risk_offset: cp.Parameter  # (r, K_r) B' (positions' exposure / S): pre-multiplied, as DPP requires
    risk_offset_specific: cp.Parameter  # (n, K_r) s * exposure / S
    risk_inverse: cp.Parameter  # (K_r,) account scale / (z * sqrt(tau / 365)): the cone's head is in these units
    risk_head: cp.Parameter  # (K_r,) risk_inverse * risk_required
    risk_required: cp.Parameter  # (K_r,) requirement (no buffer) / account scale, plus the coverage margin
    stress_weight: list[cp.Parameter]  # per risk account: (slots, P_k) (1 - h) (1 + r) / account scale per pair
    stress_floor: list[cp.Parameter]  # per risk account: (slots,) risk_required - positions' P&L / account scale
    chord_intercept: cp.Parameter  # (Pc, CHORDS) chord intercepts / (S * account scale)
    chord_slope: cp.Parameter  # (Pc, CHORDS) chord slopes / account scale
    stress_credit: list[cp.Parameter]  # per risk account: (slots, Pc_k) min(1, 1 + r) on its curved pairs' credit
    cvar_credit: list[cp.Parameter]  # per CVaR account: (N, Pc_k) min(r, 0) on its curved pairs' credit
    portfolio_offset: cp.Parameter  # (r,) B' (all positions' exposure) / S
    portfolio_specific: cp.Parameter  # (n,) s
    portfolio_offset_specific: cp.Parameter  # (n,) s * exposure / S
    portfolio_inverse: cp.Parameter  # () 1 / (z sqrt(tau / 365)) of the portfolio limit
    portfolio_head: cp.Parameter  # () portfolio_inverse * (sum of requirements / S + margin)
    portfolio_stress_weight: cp.Parameter  # (S, P) (1 - h) (1 + r) on flat pairs
    portfolio_stress_credit: cp.Parameter  # (S, Pc) min(1, 1 + r) * account scale on curved pairs' credit
    portfolio_stress_floor: cp.Parameter  # (S,) sum of requirements / S + margin - all positions' P&L / S
    cvar_weight: list[cp.Parameter]  # per CVaR account: (N, P_k) (1 - h) * return per draw and eligible pair
    cvar_pnl: list[cp.Parameter]  # per CVaR account: (N,) positions' P&L per draw / account scale
    cvar_tail: cp.Parameter  # (K_c,) 1 / ((1 - confidence) N)
    cvar_required: cp.Parameter  # (K_c,) requirement / account scale, plus the coverage margin
    hedges: HedgeParameters | None = None  # the hedges' parameters (_hedge_parameters.py); None without hedges

    @classmethod
    def create(cls, layout: Layout, slots: int) -> Parameters:
        """``slots``: the stress rows per risk account (Program.stress_slots)."""
        def vector(size: int, name: str, **kind: bool) -> cp.Parameter:
            return cp.Parameter(max(size, 1), name=name, **kind)

        n, risky = len(layout.market_assets), len(layout.risk_accounts)

        return cls(
            holdings=vector(layout.n_cells, "holdings", nonneg=True),
            weight=vector(len(layout.pair_asset), "weight", nonneg=True),
            required=vector(len(layout.accounts), "required", nonneg=True),
            limit=vector(len(layout.limit_pair), "limit", nonneg=True),
            share_weight=vector(len(layout.limit_pair), "share_weight", nonneg=True),
            carry=vector(layout.n_assets * len(layout.accounts), "carry"),
            move=vector(layout.n_moves, "move", nonneg=True),
            account_scale=vector(len(layout.accounts), "account_scale", nonneg=True),
            limit_scale=vector(len(layout.limit_pair), "limit_scale", nonneg=True),
            risk_loadings=cp.Parameter((max(layout.n_factors, 1), max(n, 1)), name="risk_loadings"),
            risk_specific=cp.Parameter((max(n, 1), max(risky, 1)), name="risk_specific", nonneg=True),
            risk_offset=cp.Parameter((max(layout.n_factors, 1), max(risky, 1)), name="risk_offset"),
            risk_offset_specific=cp.Parameter((max(n, 1), max(risky, 1)), name="risk_offset_specific"),
            risk_inverse=vector(risky, "risk_inverse", nonneg=True),
            risk_head=vector(risky, "risk_head", nonneg=True),
            risk_required=vector(risky, "risk_required", nonneg=True),
            slots=slots,
            stress_weight=[cp.Parameter((slots, max(int(np.sum(layout.pair_account == k)), 1)),
                                        name=f"stress_weight_{j}") for j, k in enumerate(layout.risk_accounts)]
            if slots else [],
            stress_floor=[cp.Parameter(slots, name=f"stress_floor_{j}") for j in range(risky)] if slots else [],
            portfolio_offset=cp.Parameter(max(layout.n_factors, 1), name="portfolio_offset"),
            portfolio_specific=cp.Parameter(max(n, 1), name="portfolio_specific", nonneg=True),
            portfolio_offset_specific=cp.Parameter(max(n, 1), name="portfolio_offset_specific"),
            portfolio_inverse=cp.Parameter(name="portfolio_inverse", nonneg=True),
            portfolio_head=cp.Parameter(name="portfolio_head"),
            portfolio_stress_weight=cp.Parameter((max(len(layout.stress), 1), max(len(layout.pair_asset), 1)),
                                                 name="portfolio_stress_weight"),
            portfolio_stress_credit=cp.Parameter((max(len(layout.stress), 1), max(len(layout.curve_pairs), 1)),
                                                 name="portfolio_stress_credit"),
            portfolio_stress_floor=vector(len(layout.stress), "portfolio_stress_floor"),
            chord_intercept=cp.Parameter((max(len(layout.curve_pairs), 1), CHORDS), name="chord_intercept"),
            chord_slope=cp.Parameter((max(len(layout.curve_pairs), 1), CHORDS), name="chord_slope", nonneg=True),
            stress_credit=[cp.Parameter((slots, len(layout.curve_rows(k))), name=f"stress_credit_{j}")
                           for j, k in enumerate(layout.risk_accounts) if len(layout.curve_rows(k))]
            if slots else [],
            cvar_credit=[cp.Parameter((draws, len(layout.curve_rows(k))), name=f"cvar_credit_{j}")
                         for j, (k, draws) in enumerate(zip(layout.cvar_accounts, layout.cvar_draws, strict=True))
                         if len(layout.curve_rows(k))],
            cvar_weight=[cp.Parameter((draws, int(np.sum(layout.pair_account == k))), name=f"cvar_weight_{j}")
                         for j, (k, draws) in enumerate(zip(layout.cvar_accounts, layout.cvar_draws, strict=True))],
            cvar_pnl=[cp.Parameter(draws, name=f"cvar_pnl_{j}") for j, draws in enumerate(layout.cvar_draws)],
            cvar_tail=vector(len(layout.cvar_accounts), "cvar_tail", nonneg=True),
            cvar_required=vector(len(layout.cvar_accounts), "cvar_required", nonneg=True),
            hedges=HedgeParameters.create(layout, slots) if layout.n_hedges else None,
        )

    def assign(self, layout: Layout, numbers: Numbers, scale: Scale, coverage_margin: float,
               limit_margin: float, working: list[list[int]]) -> None:
        """Set every value. ``coverage_margin`` (scaled) is added to each positive requirement and
        ``limit_margin`` (relative) taken off each concentration share (see solve/_solvers.SolverProfile); the
        stress slots get the scenarios of ``working`` (one list per risk account; the Program owns it)."""
        def put(parameter: cp.Parameter, values: np.ndarray) -> None:
            parameter.value = values if values.size else np.zeros(parameter.shape)

        account = scale.accounts  # each account's rows are normalised by its own scale (see _scaling.py)
        linear = LinearValues.of(layout, numbers, scale, coverage_margin, limit_margin)  # the linear path's numbers
        put(self.holdings, linear.holdings)
        put(self.weight, linear.weight)
        if len(layout.curve_pairs):
            intercepts, slopes = chord_table(layout, numbers)
            size = account[layout.pair_account[layout.curve_pairs]][:, None]
            self.chord_intercept.value = intercepts / (scale.money * size)
            self.chord_slope.value = np.maximum(slopes, 0.0) / size
        else:
            self.chord_intercept.value = np.zeros(self.chord_intercept.shape)
            self.chord_slope.value = np.zeros(self.chord_slope.shape)
        for name in ("required", "account_scale", "limit_scale", "limit", "share_weight", "carry", "move"):
            put(getattr(self, name), getattr(linear, name))
        if len(layout.market_assets):  # B', shared by every account's cone and the portfolio's
            self.risk_loadings.value = numbers.loadings.T
        self._assign_risk(layout, numbers, scale, coverage_margin)
        self.assign_stress(layout, numbers, scale, coverage_margin, working)
        self._assign_portfolio(layout, numbers, scale, coverage_margin)
        self._assign_cvar(layout, numbers, scale, coverage_margin)
        if self.hedges is not None:
            inverse = np.zeros(len(layout.accounts))
            if len(layout.risk_accounts) and len(layout.market_assets):
                inverse[layout.risk_accounts] = np.asarray(self.risk_inverse.value)[:len(layout.risk_accounts)]
            self.hedges.assign(layout, numbers, scale, inverse, float(self.portfolio_inverse.value or 0.0)
                               if layout.portfolio and len(layout.market_assets) else 0.0,
                               np.asarray(self.limit.value), working)

    @staticmethod
    def _requirement(numbers: Numbers, scale: Scale, accounts: np.ndarray, margin: float) -> np.ndarray:
        """The requirement (no buffer, net of the positions' P&L) of these accounts in their own scale, plus the
        margin: the right-hand side of every risk row."""
        return numbers.net_requirement[accounts] / (scale.money * scale.accounts[accounts]) + margin

    def _assign_cvar(self, layout: Layout, numbers: Numbers, scale: Scale, margin: float) -> None:
        accounts = layout.cvar_accounts
        if not len(accounts):
            return
        size = scale.accounts[accounts]
        self.cvar_required.value = self._requirement(numbers, scale, accounts, margin)
        self.cvar_tail.value = 1.0 / ((1.0 - numbers.cvar_level) * np.array(layout.cvar_draws))
        for j, k in enumerate(accounts):
            mine = layout.pair_account == k
            weight = flat(layout, 1.0 - numbers.haircut)[mine] / size[j]
            self.cvar_weight[j].value = numbers.cvar_returns[j][:, layout.pair_asset[mine]] * weight
            curved = layout.curve_rows(k)
            if len(curved):
                position = sum(len(layout.curve_rows(other)) > 0 for other in accounts[:j])
                returns = numbers.cvar_returns[j][:, layout.pair_asset[layout.curve_pairs[curved]]]
                self.cvar_credit[position].value = np.minimum(returns, 0.0)
            self.cvar_pnl[j].value = numbers.cvar_pnl[j] / (scale.money * size[j])

    def _assign_risk(self, layout: Layout, numbers: Numbers, scale: Scale, margin: float) -> None:
        risky = layout.risk_accounts
        if not len(risky):
            return
        size = scale.accounts[risky]
        self.risk_required.value = self._requirement(numbers, scale, risky, margin)
        market = layout.market_assets
        if len(market):
            # the cone ||B' (v + e), s * (v + e)|| <= (collateral - requirement) / c with c = z sqrt(tau/365) / size:
            # c is taken to the head so that one B' parameter serves every account (see _risk.py)
            inverse = size / np.maximum(numbers.risk_scale[risky], MIN_RISK_SCALE)
            exposure = numbers.exposure[np.ix_(risky, market)].T / scale.money  # (n, K_r)
            self.risk_specific.value = np.repeat(numbers.specific[:, None], len(risky), axis=1)
            self.risk_offset.value = numbers.loadings.T @ exposure
            self.risk_offset_specific.value = numbers.specific[:, None] * exposure
            self.risk_inverse.value = inverse
            self.risk_head.value = inverse * self.risk_required.value

    def _assign_portfolio(self, layout: Layout, numbers: Numbers, scale: Scale, margin: float) -> None:
        market = layout.market_assets
        if not layout.portfolio or not len(market):
            return
        exposure = numbers.exposure[:, market].sum(axis=0) / scale.money
        required = float(numbers.net_requirement.sum()) / scale.money + margin
        inverse = 1.0 / max(numbers.portfolio_scale, MIN_RISK_SCALE)
        self.portfolio_offset.value = numbers.loadings.T @ exposure
        self.portfolio_specific.value = numbers.specific
        self.portfolio_offset_specific.value = numbers.specific * exposure
        self.portfolio_inverse.value = inverse
        self.portfolio_head.value = inverse * required
        if layout.portfolio_stress:
            returns = numbers.stress_returns[:, layout.pair_asset]  # (S, P)
            self.portfolio_stress_weight.value = flat(layout, 1.0 - numbers.haircut)[None, :] * (1.0 + returns)
            size = scale.accounts[layout.pair_account[layout.curve_pairs]]
            self.portfolio_stress_credit.value = (np.minimum(1.0 + returns[:, layout.curve_pairs], 1.0) * size
                                                  if len(layout.curve_pairs) else
                                                  np.zeros(self.portfolio_stress_credit.shape))
            self.portfolio_stress_floor.value = required - numbers.stress_pnl.sum(axis=1) / scale.money

    def assign_stress(self, layout: Layout, numbers: Numbers, scale: Scale, margin: float,
                      active: list[list[int]]) -> None:
        """Fill each risk account's stress slots with the scenarios in ``active`` (its working set); a free slot
        is the row ``0 >= -1``, always satisfied."""
        if not self.stress_weight:
            return
        slots = self.slots
        position = 0
        for j, k in enumerate(layout.risk_accounts):
            mine = layout.pair_account == k
            size = scale.accounts[k]
            weight = np.zeros(self.stress_weight[j].shape)
            floor = np.full(slots, -1.0)
            base = flat(layout, 1.0 - numbers.haircut)[mine] / size
            curved = layout.curve_pairs[layout.curve_rows(k)]
            if len(curved):
                moves = np.zeros((slots, len(curved)))
                for slot, s in enumerate(active[j]):
                    moves[slot] = np.minimum(1.0 + numbers.stress_returns[s, layout.pair_asset[curved]], 1.0)
                self.stress_credit[position].value = moves
                position += 1
            required = numbers.net_requirement[k] / (scale.money * size) + margin
            for slot, s in enumerate(active[j]):
                if mine.any():
                    weight[slot] = base * (1.0 + numbers.stress_returns[s, layout.pair_asset[mine]])
                floor[slot] = required - numbers.stress_pnl[s, k] / (scale.money * size)
            self.stress_weight[j].value = weight
            self.stress_floor[j].value = floor
        if self.hedges is not None:
            self.hedges.assign_stress(layout, numbers, scale, active)
