"""Persistent slippage within an order: a stage's slip shock carries over to the next (AR(1)).

A supplier that is behind on knitting because of a capacity crunch, a machine breakdown or a
late material stays behind on linking and washing: in apparel production a stage's slip is
strongly correlated with the one before it. The simulator therefore draws each order's stage
slips from one Gaussian AR(1) chain of *shocks* over its stages,

    z_1 = e_1,   z_k = ρ z_{k−1} + √(1 − ρ²) e_k   (e_k iid standard normal, ρ = SLIP_PERSISTENCE)

and maps each shock to the stage's slip draw through the exponential quantile of Φ(z)
(a Gaussian copula): every stage's slip keeps its exponential(1) distribution (the same
marginal as before), only the dependence between one stage and the next is new (lag-one
correlation of the slips ≈ 0.65 for ρ = 0.7). ρ = 0 is the former world of independent
stage slips, draw for draw (the shocks are the normal scores of the same exponential draws).

Numpy only: Φ and Φ⁻¹ come from ``statistics.NormalDist`` (a few thousand values per run).
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

SLIP_PERSISTENCE = 0.7
_NORMAL = NormalDist()
_CDF = np.vectorize(_NORMAL.cdf, otypes=[float])
_INV_CDF = np.vectorize(_NORMAL.inv_cdf, otypes=[float])
_TINY = 1e-15


def shocks_of(exponential: np.ndarray) -> np.ndarray:
    """The standard normal scores of exponential(1) draws (the same uniform under both)."""
    uniform = np.clip(-np.expm1(-np.asarray(exponential, dtype=float)), _TINY, 1 - _TINY)
    scores: np.ndarray = _INV_CDF(uniform)
    return scores


def slip_of(shock: np.ndarray | float) -> np.ndarray:
    """The exponential(1) slip draw of a standard normal shock: −log(1 − Φ(z))."""
    upper = np.maximum(_CDF(-np.asarray(shock, dtype=float)), _TINY)
    slip: np.ndarray = -np.log(upper)
    return slip


def chain(fresh: np.ndarray, rho: float = SLIP_PERSISTENCE) -> np.ndarray:
    """The AR(1) chain over the last axis of iid standard normal ``fresh`` shocks."""
    out = np.array(fresh, dtype=float)
    carry = np.sqrt(1.0 - rho**2)
    for k in range(1, out.shape[-1]):
        out[..., k] = rho * out[..., k - 1] + carry * out[..., k]
    return out


def next_shock(
    rng: np.random.Generator, previous: np.ndarray | None, n: int, rho: float = SLIP_PERSISTENCE
) -> np.ndarray:
    """``n`` draws of a stage's shock given the one before it (None: the order's first)."""
    fresh = rng.standard_normal(n)
    if previous is None:
        return fresh
    shock: np.ndarray = rho * np.asarray(previous, dtype=float) + np.sqrt(1.0 - rho**2) * fresh
    return shock


def persistent_slips(exponential: np.ndarray, rho: float | None = None) -> np.ndarray:
    """(shocks, slips) of orders × stages: the iid exponential draws made persistent (with
    ``SLIP_PERSISTENCE`` as it is when called, unless ``rho`` is given)."""
    shocks = chain(shocks_of(exponential), SLIP_PERSISTENCE if rho is None else rho)
    return np.stack([shocks, slip_of(shocks)])
