"""Literal, loop-by-loop implementations of the paper's definitions, for cross-checking.

Slow on purpose: each follows the text of its definition line by line, so a vectorized
mechanism that agrees with it on random inputs implements the definition.
"""

import math

import numpy as np


def preference(bids_row):
    """Items by decreasing bid, lowest index first among equal bids."""
    return sorted(range(len(bids_row)), key=lambda j: (-bids_row[j], j))


def pick_r(bids, r):
    """Definition 3.4 with t_i = floor(m sum_{j<=i} r_j) - floor(m sum_{j<i} r_j)."""
    from fractions import Fraction

    n, m = bids.shape
    owner = [None] * m
    cum = Fraction(0)
    prev = 0
    for i in range(n):  # exact arithmetic on the intended shares (Fractions, as the caller means them)
        cum = Fraction(1) if i == n - 1 else cum + (r[i] if isinstance(r[i], Fraction) else Fraction(repr(float(r[i]))))
        upto = math.floor(m * cum)
        t = upto - prev
        prev = upto
        remaining = [j for j in preference(bids[i]) if owner[j] is None]
        for j in remaining[:t]:
            owner[j] = i
    return np.array(owner)


def ranking(bids):
    """Algorithm 1, literally."""
    n, m = bids.shape
    rank = np.empty((n, m), dtype=int)
    for i in range(n):
        for pos, j in enumerate(preference(bids[i])):
            rank[i, j] = pos + 1
    owner = []
    for j in range(m):
        best = min(rank[i, j] for i in range(n))
        owner.append(min(i for i in range(n) if rank[i, j] == best))
    return np.array(owner)


def round_robin(bids):
    n, m = bids.shape
    owner = [None] * m
    for k in range(m):
        i = k % n
        j = next(j for j in preference(bids[i]) if owner[j] is None)
        owner[j] = i
    return np.array(owner)


def qt_s(quantiles, s):
    """Definition 3.5: item j to the first agent i with q_ij >= 1 - s_i."""
    n, m = quantiles.shape
    owner = []
    for j in range(m):
        owner.append(next((i for i in range(n) if i == n - 1 or quantiles[i, j] >= 1 - s[i])))
    return np.array(owner)


def envy_free(values, owner):
    n, m = values.shape
    for i in range(n):
        own = sum(values[i, j] for j in range(m) if owner[j] == i)
        for k in range(n):
            if own < sum(values[i, j] for j in range(m) if owner[j] == k):
                return False
    return True


def ef1(values, owner):
    n, m = values.shape
    for i in range(n):
        own = sum(values[i, j] for j in range(m) if owner[j] == i)
        for k in range(n):
            bundle = [j for j in range(m) if owner[j] == k]
            other = sum(values[i, j] for j in bundle)
            if bundle and own < other - max(values[i, j] for j in bundle):
                return False
            if not bundle and own < other:
                return False
    return True
