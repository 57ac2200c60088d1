"""Rebalancing policies: small objects with one method, ``decide(state) -> Moves`` (docs/backtest.md).

A policy is anything with a ``name`` and that method (:class:`Policy`); the registry maps a name to a factory
taking keyword parameters, so ``make_policy("optimized", band="1.2:1.6")`` builds one and
``register_policy("mine", MyPolicy)`` adds one (then usable by name in ``allocator.backtest``, the CLI and batch
sweeps). The six shipped: ``isolated``, ``all_stable``, ``waterfall``, ``pro_rata``, ``optimized`` and
``optimized_predictive``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from allocator.analysis.backtest.moves import Moves
from allocator.analysis.backtest.policies.band import Band
from allocator.analysis.backtest.state import DayState
from allocator.errors import InputError, InputIssue


@runtime_checkable
class Policy(Protocol):
    """A rebalancing policy: what to move today, from what the day shows (``DayState``). ``name`` labels its rows in
    a backtest's frames."""

    name: str

    def decide(self, state: DayState) -> Moves: ...


_REGISTRY: dict[str, Callable[..., Policy]] = {}


def register_policy(name: str, factory: Callable[..., Policy]) -> None:
    """Make ``factory(**params)`` available by ``name`` (replacing a policy of that name)."""
    _REGISTRY[name] = factory


def policy_names() -> list[str]:
    _load()
    return list(_REGISTRY)


def make_policy(name: str, **params: Any) -> Policy:
    """The policy ``name`` built with ``params``; InputError for an unknown name or parameter."""
    _load()
    if name not in _REGISTRY:
        raise InputError([InputIssue("policy", f"unknown policy {name!r} (known: {', '.join(_REGISTRY)})",
                                     "unknown_policy")])
    try:
        return _REGISTRY[name](**params)
    except TypeError as error:
        raise InputError([InputIssue(f"policy {name}", f"bad parameters {sorted(params)}: {error}",
                                     "bad_parameter")]) from None


def policy_parameters(name: str) -> set[str]:
    """The keyword parameters the policy ``name``'s factory takes; InputError for an unknown name."""
    _load()
    if name not in _REGISTRY:
        make_policy(name)  # raises the unknown-policy error
    return set(inspect.signature(_REGISTRY[name]).parameters)


DEFAULT_POLICIES = ("isolated", "all_stable", "waterfall", "pro_rata", "optimized", "optimized_predictive")


def _load() -> None:
    """Register the shipped policies (their modules import this one, so they are loaded on first use)."""
    if all(name in _REGISTRY for name in DEFAULT_POLICIES):
        return
    from allocator.analysis.backtest.policies.all_stable import AllStable
    from allocator.analysis.backtest.policies.isolated import Isolated
    from allocator.analysis.backtest.policies.optimized import Optimized, OptimizedPredictive
    from allocator.analysis.backtest.policies.pro_rata import ProRata
    from allocator.analysis.backtest.policies.waterfall import Waterfall

    for cls in (Isolated, AllStable, Waterfall, ProRata, Optimized, OptimizedPredictive):
        _REGISTRY.setdefault(cls.name, cls)


__all__ = ["DEFAULT_POLICIES", "Band", "Policy", "make_policy", "policy_names", "policy_parameters",
           "register_policy"]
