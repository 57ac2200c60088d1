"""Risk inputs: the market (volatilities and correlations), positions, stress scenarios, per-account risk settings.

``[market]`` gives annualised volatilities and a correlation matrix over a list of assets, or a daily price
history per asset and an estimator (estimate.py) that yields them, or a factor model (``loadings`` per asset on
``r`` common factors of unit variance plus a ``specific_volatility`` per asset: ``Sigma = B B' + diag(s^2)``,
which keeps the program sparse for hundreds of assets); the covariance of
returns over ``tau`` days is ``D C D * tau / 365`` (crypto trades every day). It enters the program, and the CVaR
draws, as a factor ``F`` with ``F F' = D C D``: ``F = D L`` with ``L`` the Cholesky factor of ``C`` in the order of
``market.assets`` (:func:`psd_cholesky`: lower triangular, non-negative diagonal, unique for a positive definite
``C``; a pivot at or below ``PIVOT_TOLERANCE`` counts as zero, so a PSD matrix of deficient rank works). Unlike an
eigen-decomposition, whose eigenvector signs, order and bases of repeated eigenvalues differ between
linear-algebra builds, this factor is the same on every machine to rounding, so a seed gives the same draws
everywhere. The matrix is checked for shape, symmetry, unit diagonal, ``|rho| <= 1`` and positive
semi-definiteness (eigenvalues above -1e-8).

A position is a signed quantity of an underlying held through an account. Linear ones (``perp``, ``future``)
have exposure ``quantity * price``, the change of the account's equity per unit return; an ``option`` (Black-76,
options.py) has its delta-equivalent exposure ``quantity * delta * price`` in the parametric limit (delta-normal)
and is fully repriced in stress scenarios.

A position's P&L has one definition, :meth:`Position.change` (its value at one underlying price less its value at
another: linear ``q (end - start)``, an option repriced with Black-76 at both ends). Stress rows, CVaR draws, the
liquidation distance and what-if marks all use it. ``reference_price`` is the underlying's price at which the
position was last marked into its account's equity (the collateral): a what-if that moves prices sets it to the
price before the move, and the account's equity then counts ``change(reference_price, price)`` (see
:func:`marked_pnl` and docs/what-if.md). Absent, the position is marked at the problem's price: no P&L.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Literal, overload

from pydantic import AfterValidator, Field

from allocator.inputs.fields import Confidence, Day, Days, Id, Price, Return, StrictModel, Volatility, interval
from allocator.lazy import np
from allocator.venues.estimate import daily_returns, estimate, read_closes

if TYPE_CHECKING:  # imported by greeks(): checking a problem does not price options (docs/cli.md, start-up)
    from allocator.venues.options import Greeks

#: Eigenvalues of a correlation matrix above minus this count as non-negative (rounding in a user's matrix).
PSD_TOLERANCE = 1e-8
#: A Cholesky pivot of a correlation matrix (unit diagonal) at or below this is a direction the earlier assets
#: already span (rank deficiency, or a negative rounding within PSD_TOLERANCE): its column of the factor is zero.
PIVOT_TOLERANCE = 1e-12
DAYS_PER_YEAR = 365.0


class Market(StrictModel):
    """``volatility`` and ``correlation`` given, ``history`` (a daily CSV per asset) and an estimator, or a
    factor model (``loadings`` and ``specific_volatility``)."""

    assets: list[Id] = Field(min_length=1)
    volatility: dict[Id, Volatility] | None = None
    correlation: list[list[float]] | None = None
    loadings: dict[Id, list[Annotated[float, AfterValidator(interval(-20.0, 20.0))]]] | None = None
    specific_volatility: dict[Id, Volatility] | None = None
    history: dict[Id, str] | None = None
    estimator: Literal["sample", "ewma", "ledoit-wolf"] = "ewma"
    half_life_days: Days = 30.0
    window_days: int = Field(default=365, ge=30, le=100_000)
    end: Day | None = None

    @cached_property
    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """(annual volatilities, correlation matrix) in the order of ``assets``: given, implied by the factor
        model, or estimated."""
        if self.loadings is not None:
            covariance = self.covariance()
            vol = np.sqrt(np.diag(covariance))
            return vol, covariance / np.outer(np.where(vol > 0, vol, 1.0), np.where(vol > 0, vol, 1.0))
        if self.history is None:
            assert self.volatility is not None and self.correlation is not None  # checked on input
            return np.array([self.volatility[a] for a in self.assets]), np.array(self.correlation)
        closes = {asset: read_closes(self.history[asset]) for asset in self.assets}
        return estimate(daily_returns(closes, self.end, self.window_days)[self.assets], self.estimator,
                        self.half_life_days)

    @cached_property
    def parts(self) -> tuple[np.ndarray, np.ndarray]:
        """(B, s): (n, r) loadings and (n,) specific volatilities with ``B B' + diag(s^2)`` = annual covariance.
        Without a factor model, ``B = D L`` (n, n) with ``L`` the Cholesky factor of the correlation matrix
        (:func:`psd_cholesky`, the same on every machine) and s is zero."""
        if self.loadings is not None and self.specific_volatility is not None:
            return (np.array([self.loadings[a] for a in self.assets], dtype=float),
                    np.array([self.specific_volatility[a] for a in self.assets]))
        vol, correlation = self.moments
        return vol[:, None] * psd_cholesky((correlation + correlation.T) / 2), np.zeros(len(self.assets))

    def factor(self) -> np.ndarray:
        """(n, m) F with F F' = annual covariance, in the order of ``assets``: ``[B, diag(s)]`` (without the
        specific columns when there are none). Computed once per market."""
        return self._factor

    @cached_property
    def _factor(self) -> np.ndarray:
        loadings, specific = self.parts
        return np.hstack([loadings, np.diag(specific)]) if np.any(specific) else loadings

    def covariance(self) -> np.ndarray:
        loadings, specific = self.parts
        return loadings @ loadings.T + np.diag(specific**2)


def psd_cholesky(matrix: np.ndarray, tolerance: float = PIVOT_TOLERANCE) -> np.ndarray:
    """Lower-triangular ``L`` with ``L L' = matrix`` for a positive semi-definite matrix, columns in the matrix's
    order and no pivoting (so the result depends on the matrix only, not on a library's choices). A pivot at or
    below ``tolerance`` means the row's direction is already spanned by the rows before it: its column is left at
    zero (for a PSD matrix that column is zero to rounding anyway; a dropped pivot ``p > 0`` changes entries by at
    most about ``sqrt(p)``). The Cholesky-Banachiewicz recurrence, one column at a time (O(n^3), as eigh was)."""
    n = len(matrix)
    lower = np.zeros((n, n))
    for j in range(n):
        pivot = matrix[j, j] - lower[j, :j] @ lower[j, :j]
        if pivot <= tolerance:
            continue
        root = np.sqrt(pivot)
        lower[j, j] = root
        lower[j + 1:, j] = (matrix[j + 1:, j] - lower[j + 1:, :j] @ lower[j, :j]) / root
    return lower


class RiskSettings(StrictModel):
    """Enables the parametric limit of an account: ``collateral - z * sigma >= requirement`` over the horizon;
    with ``cvar_confidence`` also ``collateral - CVaR >= requirement`` over ``cvar_scenarios`` Monte Carlo draws."""

    horizon_days: Days = 1.0
    confidence: Confidence = 0.99
    parametric: bool = True  # false: stress scenarios and CVaR only, which keeps the program linear
    cvar_confidence: Confidence | None = None
    cvar_scenarios: int = Field(default=500, ge=10, le=100_000)
    seed: int = Field(default=0, ge=0)

    def draws(self, factor: np.ndarray) -> np.ndarray:
        """(N, n) Monte Carlo returns over the horizon: normal with covariance ``F F' * horizon / 365``,
        reproducible from ``seed``."""
        normal = np.random.default_rng(self.seed).standard_normal((self.cvar_scenarios, factor.shape[1]))
        return normal @ factor.T * np.sqrt(self.horizon_days / DAYS_PER_YEAR)

    @property
    def z(self) -> float:
        from scipy.stats import norm  # deferred: loading a problem must not load scipy.stats (docs/cli.md)

        return float(norm.ppf(self.confidence))


class Position(StrictModel):
    """A position held through an account. Options need ``strike``, ``expiry``, ``type`` and
    ``implied_volatility`` (and the problem's ``as_of`` date); linear positions take none of them."""

    account: Id
    instrument: Id
    underlying: Id
    kind: Literal["perp", "future", "option"]
    quantity: float
    strike: Annotated[float, AfterValidator(interval(0.0, 1e13, low_open=True))] | None = None
    expiry: Day | None = None
    option_type: Literal["call", "put"] | None = Field(default=None, alias="type")
    implied_volatility: Annotated[float, AfterValidator(interval(0.0, 20.0, low_open=True))] | None = None
    reference_price: Price | None = None  # the underlying's price at the last mark (module docstring)

    def years_to_expiry(self, as_of: str) -> float:
        assert self.expiry is not None
        return (date.fromisoformat(self.expiry) - date.fromisoformat(as_of)).days / DAYS_PER_YEAR

    def greeks(self, price: float, as_of: str | None) -> Greeks:
        """Black-76 value and greeks per unit of quantity; a linear position is worth 0 with delta 1."""
        from allocator.venues.options import Greeks, black76

        if self.kind != "option":
            return Greeks(value=0.0, delta=1.0, gamma=0.0, vega=0.0)
        assert self.strike and self.option_type and self.implied_volatility and as_of  # checked on input
        return black76(price, self.strike, self.years_to_expiry(as_of), self.implied_volatility, self.option_type)

    def value(self, price: float, as_of: str | None) -> float:
        """Value of the position per unit of quantity at ``price`` (0 for linear: their P&L is counted)."""
        return self.greeks(price, as_of).value

    def delta(self, price: float, as_of: str | None) -> float:
        """Units of the underlying the position behaves like, per unit of quantity."""
        return self.greeks(price, as_of).delta

    def change(self, start: float, end: float, as_of: str | None) -> float:
        """Change of the position's value when its underlying goes from ``start`` to ``end``: ``q (end - start)``
        for a linear position, ``q (V(end) - V(start))`` for an option (Black-76 at the same date and implied
        volatility). The one definition of a position's P&L."""
        if self.kind != "option":
            return self.quantity * (end - start)
        return self.quantity * (self.value(end, as_of) - self.value(start, as_of))

    def pnl(self, price: float, move: float, as_of: str | None) -> float:
        """Change of the position's value when the underlying's price moves by ``move`` from ``price``."""
        return self.change(price, price * (1.0 + move), as_of)


def marked_pnl(positions: Iterable[Position], price: Mapping[str, float], as_of: str | None) -> dict[str, float]:
    """Per account id, its positions' P&L since their last mark: the sum of ``change(reference_price, price)``
    over its positions that carry a ``reference_price`` (accounts without one are absent: their P&L is 0)."""
    out: dict[str, float] = {}
    for position in positions:
        if position.reference_price is not None:
            out[position.account] = out.get(position.account, 0.0) + position.change(
                position.reference_price, price[position.underlying], as_of)
    return out


@overload
def net_of_pnl(amount: float, pnl: float) -> float: ...
@overload
def net_of_pnl(amount: np.ndarray, pnl: np.ndarray) -> np.ndarray: ...
def net_of_pnl(amount: float | np.ndarray, pnl: float | np.ndarray) -> float | np.ndarray:
    """Collateral an account must hold to cover ``amount`` once its positions' P&L counts in its equity
    (equity = collateral + pnl): ``max(amount - pnl, 0)``. A loss raises it; a gain lowers it, never below 0."""
    if isinstance(amount, np.ndarray) or isinstance(pnl, np.ndarray):
        return np.maximum(np.asarray(amount) - pnl, 0.0)
    return max(float(amount) - float(pnl), 0.0)


class StressScenario(StrictModel):
    """A named move of prices: the account must stay covered after it (collateral and positions revalued)."""

    name: Id
    returns: dict[Id, Return]


class PortfolioLimit(StrictModel):
    """A limit on the whole treasury's margin book: all accounts' collateral together, less ``z`` times the
    standard deviation of its change (every account's posted market assets plus every position, over
    ``horizon_days``), covers the sum of the requirements; with ``stress``, also after each named scenario."""

    horizon_days: Days = 1.0
    confidence: Confidence = 0.99
    stress: bool = True

    @property
    def z(self) -> float:
        from scipy.stats import norm  # deferred: loading a problem must not load scipy.stats (docs/cli.md)

        return float(norm.ppf(self.confidence))
