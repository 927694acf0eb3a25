"""Pick-r's shares, exactly: completing and checking r, Definition 3.4's quotas t_i in
rational arithmetic, and Lemma 3.6's map between shares r and thresholds s.

A small module with no dependency but numpy, so that the mechanisms and the theory both
import it without importing each other.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from abm.errors import MechanismError

__all__ = ["resolve_r", "decimal_fraction", "simplest_fraction", "quotas", "s_from_r", "r_from_s", "as_vector", "as_r", "as_s", "check_n"]


def as_vector(x, name: str) -> np.ndarray:
    """A non-empty 1-d float vector from a list or comma-separated text, finite, or an error naming ``name``."""
    if isinstance(x, str):
        try:
            x = [float(t) for t in x.split(",")]
        except ValueError:
            raise MechanismError(f"{name} must be comma-separated numbers like 0.29,0.71, got {x!r}") from None
    v = np.atleast_1d(np.asarray(x, dtype=float))
    if v.ndim != 1 or v.size == 0:
        raise MechanismError(f"{name} must be a non-empty list of numbers, got {x!r}")
    if not np.isfinite(v).all():
        raise MechanismError(f"{name} must be finite, got {v.tolist()}")
    return v


def resolve_r(r, n_agents: int) -> np.ndarray:
    """Complete and check a Pick-r vector for ``n_agents`` (Definition 3.4).

    ``r`` may list all n shares (they must be nonnegative and sum to 1) or the first
    n - 1 (the last agent gets the rest, as in Corollary 3.9's ``(r_1, ..., r_{n-1})``).
    """
    v = as_vector(r, "r")
    if (v < 0).any():
        raise MechanismError(f"r must be nonnegative, got {v.tolist()}")
    if v.size == n_agents - 1:
        rest = 1.0 - v.sum()
        if rest < -1e-9:
            raise MechanismError(f"the first n-1 shares of r sum to {v.sum():.6g} > 1; r must sum to 1")
        v = np.append(v, max(rest, 0.0))
    elif v.size != n_agents:
        raise MechanismError(f"r has {v.size} entries but there are {n_agents} agents; give n or n-1 entries")
    if abs(v.sum() - 1.0) > 1e-9:
        raise MechanismError(f"r must sum to 1, got sum {v.sum():.6g} for r = {v.tolist()}")
    return v


def _simplest_in(lo: Fraction, hi: Fraction) -> Fraction:
    """The fraction with the smallest denominator strictly between ``0 <= lo < hi`` (the
    Stern-Brocot descent, one continued-fraction term per step)."""
    whole = math.floor(lo)
    if whole + 1 < hi:
        return Fraction(whole + 1) if lo < whole + 1 else Fraction(whole + 2)
    if lo == whole:  # (whole, hi) with hi <= whole + 1: whole + 1/q for the smallest q above 1/(hi - whole)
        return whole + Fraction(1, math.floor(1 / (hi - whole)) + 1)
    return whole + 1 / _simplest_in(1 / (hi - whole), 1 / (lo - whole))


def simplest_fraction(x) -> Fraction:
    """The rational a float stands for: the simplest fraction that rounds to it.

    A float is the nearest double to what was meant; every real strictly within half a unit
    in the last place of it rounds to it, and the fraction with the smallest denominator
    there is what was meant: ``2/3`` is 2/3 (not 6004799503160661/9007199254740992), ``0.29``
    is 29/100, each of ``[1/3] * 3`` is 1/3, and ``0.29999999999`` stays just below 3/10.
    Integers and Fractions are taken as they are.
    """
    if isinstance(x, Fraction):
        return x
    if isinstance(x, (int, np.integer)):
        return Fraction(int(x))
    x = float(x)
    if x == 0.0 or not math.isfinite(x):
        return Fraction(x)  # 0, or the ValueError/OverflowError Fraction gives NaN and infinity
    sign = 1 if x > 0 else -1
    a = abs(x)
    below = Fraction(math.nextafter(a, 0.0))
    above = Fraction(math.nextafter(a, math.inf))
    a = Fraction(a)
    return sign * _simplest_in((a + below) / 2, (a + above) / 2)


def decimal_fraction(x) -> Fraction:
    """The exact rational a number was written as: its shortest decimal text (``repr``), so
    0.29 is 29/100 and not the binary double just below it (bids summed by an exchange)."""
    if isinstance(x, Fraction):
        return x
    if isinstance(x, (int, np.integer)):
        return Fraction(int(x))
    return Fraction(repr(float(x)))


def quotas(r, n_items: int) -> np.ndarray:
    """Definition 3.4: t_i = floor(m sum_{j<=i} r_j) - floor(m sum_{j<i} r_j), in exact rational
    arithmetic on the shares meant (:func:`simplest_fraction`): 0.29 x 100 is 29, the float
    2/3 is two thirds, and r = (0.29999999999, 0.70000000001) with m = 10 gives (2, 8). The
    last cumulative share is 1 (the last agent takes the rest)."""
    shares = [simplest_fraction(x) for x in np.atleast_1d(r)]
    cum, floors = Fraction(0), [0]
    for x in shares[:-1]:
        cum += x
        floors.append(math.floor(n_items * cum))
    floors.append(int(n_items))
    return np.diff(np.minimum(np.asarray(floors, dtype=np.int64), int(n_items)))


def s_from_r(r) -> np.ndarray:
    """Lemma 3.6's map: s_i = r_i / (1 - sum_{k<i} r_k), with s_n = 1.

    Where no mass is left (the denominator is 0) the agent is never reached in
    expectation, and s_i = 1 by convention.
    """
    r = np.asarray(r, dtype=float)
    left = 1.0 - np.concatenate([[0.0], np.cumsum(r)[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(left > 1e-12, r / np.where(left > 1e-12, left, 1.0), 1.0)
    s = np.clip(s, 0.0, 1.0)
    s[-1] = 1.0
    return s


def r_from_s(s) -> np.ndarray:
    """Inverse of :func:`s_from_r`: r_i = s_i prod_{k<i} (1 - s_k)."""
    s = np.asarray(s, dtype=float)
    reach = np.concatenate([[1.0], np.cumprod(1.0 - s)[:-1]])
    return s * reach


def check_n(n) -> int:
    """A number of agents: a positive integer, or an error saying so."""
    from abm.spec import whole

    return whole(n, "number of agents", error=MechanismError)


def as_r(r, n: int | None = None) -> np.ndarray:
    """A full Pick-r share vector; a single number means agent 1's share with two agents."""
    v = np.atleast_1d(np.asarray(r, dtype=float))
    if n is None:
        n = v.size if v.size > 1 else 2
    return resolve_r(v, check_n(n))


def as_s(s, n: int | None = None) -> np.ndarray:
    """A full QT-s threshold vector with s_n = 1 (Definition 3.5)."""
    v = np.atleast_1d(np.asarray(s, dtype=float))
    if not np.isfinite(v).all() or (v < 0).any() or (v > 1).any():
        raise MechanismError(f"thresholds s must lie in [0, 1], got {v.tolist()}")
    if n is None:
        n = v.size if v.size > 1 and math.isclose(v[-1], 1.0) else v.size + 1
    n = check_n(n)
    if v.size == n - 1:
        v = np.append(v, 1.0)
    if v.size != n or not math.isclose(v[-1], 1.0):
        raise MechanismError(f"s needs n = {n} entries ending in s_n = 1 (or n - 1 entries), got {v.tolist()}")
    return v
