"""KKT conditions of a solved cvxpy problem, checked from its variable and dual values alone (after cvxpy's
solver test helpers): primal feasibility, dual feasibility, complementary slackness and stationarity of the
Lagrangian.

cvxpy's conventions: an ``Inequality`` ``a <= b`` has ``expr = a - b <= 0`` and a dual ``y >= 0``; an ``Equality``
has ``expr = a - b == 0`` and a free dual; a second-order cone ``SOC(t, X)`` (``||X[:, j]|| <= t[j]`` along its axis)
has a dual ``(u, V)`` in the same cone. The Lagrangian of ``minimise f`` is then

    L = f + sum_ineq y . expr + sum_eq y . expr - sum_soc (u . t + <V, X>)

and at an optimum its gradient in every variable is zero, except along a variable's own ``nonneg`` attribute,
where the gradient is ``>= 0`` and zero wherever the variable is positive (a reduced cost).

Each residual is relative: to the largest dual (dual feasibility), to the size of the objective's gradient
(stationarity), and in the problem's own (scaled) units otherwise; allocator scales money to order one, so
absolute residuals of a few multiples of the solver's tolerance are expected.
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class KKT:
    primal: float  # largest constraint violation
    dual: float  # largest wrong-signed inequality dual, or a cone dual outside its cone
    complementarity: float  # largest |dual x slack| (inequalities), |u t + <V, X>| (cones)
    stationarity: float  # largest component of the Lagrangian's gradient (beyond the nonneg attributes)

    def worst(self) -> float:
        return max(self.primal, self.dual, self.complementarity, self.stationarity)


def _flat(value: object) -> np.ndarray:
    return np.asarray(value, dtype=float).ravel(order="F")


def _grad_dot(expr: cp.Expression, weight: np.ndarray, grads: dict[cp.Variable, np.ndarray]) -> None:
    """Add d(weight . expr)/d(variable) to ``grads`` for every variable of the affine ``expr``."""
    for variable, jacobian in expr.grad.items():
        if jacobian is None:
            continue
        # cvxpy's grad is (variable size) x (expression size), column-major flattening (a number when both are
        # scalars)
        matrix = sp.csr_matrix(np.atleast_2d(jacobian)) if np.ndim(jacobian) == 0 else sp.csr_matrix(jacobian)
        contribution = np.asarray(matrix @ weight).ravel()
        grads[variable] = grads.get(variable, np.zeros(variable.size)) + contribution


def kkt(problem: cp.Problem) -> KKT:
    """The KKT residuals of ``problem`` at its current variable and dual values (a linear objective and affine,
    inequality, equality and second-order cone constraints: what allocator's programs use)."""
    objective = problem.objective.expr
    if not objective.is_affine():
        raise NotImplementedError("only affine objectives are handled")
    grads: dict[cp.Variable, np.ndarray] = {}
    _grad_dot(objective, np.ones(1), grads)
    scale = max(max((float(np.max(np.abs(g))) for g in grads.values()), default=1.0), 1e-12)
    sign = 1.0 if isinstance(problem.objective, cp.Minimize) else -1.0
    for variable in grads:
        grads[variable] = sign * grads[variable]
    primal = dual = complementarity = 0.0
    largest = max((float(np.max(np.abs(_flat(c.dual_value if not isinstance(c, cp.SOC) else c.dual_value[0]))))
                   for c in problem.constraints if c.dual_value is not None), default=1.0)
    largest = max(largest, 1.0)
    for constraint in problem.constraints:
        if isinstance(constraint, cp.constraints.Inequality):
            expr, y = _flat(constraint.expr.value), _flat(constraint.dual_value)
            primal = max(primal, float(np.max(expr, initial=0.0)))
            dual = max(dual, float(np.max(-y, initial=0.0)) / largest)
            complementarity = max(complementarity, float(np.max(np.abs(y * expr), initial=0.0)))
            _grad_dot(constraint.expr, y, grads)
        elif isinstance(constraint, cp.constraints.Equality):
            expr, y = _flat(constraint.expr.value), _flat(constraint.dual_value)
            primal = max(primal, float(np.max(np.abs(expr), initial=0.0)))
            _grad_dot(constraint.expr, y, grads)
        elif isinstance(constraint, cp.constraints.SOC):
            t_expr, x_expr = constraint.args[0], constraint.args[1]
            u, v = _flat(constraint.dual_value[0]), np.asarray(constraint.dual_value[1], dtype=float)
            t, x = _flat(t_expr.value), np.asarray(x_expr.value, dtype=float)
            axis = constraint.axis
            x2, v2 = (x, v) if x.ndim == 2 else (x.reshape(-1, 1), v.reshape(-1, 1))
            if axis == 1 and x.ndim == 2:
                x2, v2 = x.T, v.T
            primal = max(primal, float(np.max(np.linalg.norm(x2, axis=0) - t, initial=0.0)))
            dual = max(dual, float(np.max(np.linalg.norm(v2, axis=0) - u, initial=0.0)) / largest)
            complementarity = max(complementarity, float(np.max(np.abs(u * t + np.sum(v2 * x2, axis=0)),
                                                              initial=0.0)))
            _grad_dot(t_expr, -u, grads)
            _grad_dot(x_expr, -_flat(v), grads)
        else:
            raise NotImplementedError(f"constraint type {type(constraint).__name__}")
    stationarity = 0.0
    for variable, g in grads.items():
        value = _flat(variable.value)
        if variable.attributes.get("nonneg"):
            # reduced costs: >= 0, and zero where the variable is positive
            residual = np.where(value > 1e-9, np.abs(g), np.maximum(-g, 0.0))
        else:
            residual = np.abs(g)
        stationarity = max(stationarity, float(np.max(residual, initial=0.0)) / scale)
    return KKT(primal=primal, dual=dual, complementarity=complementarity, stationarity=stationarity)
