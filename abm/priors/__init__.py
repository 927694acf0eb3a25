"""Valuation priors: parse a text spec into a :class:`Prior` (see :mod:`abm.priors.priors`).

``parse_prior("beta(a=2, b=5)")`` -> i.i.d.; ``"uniform; beta(a=2, b=5)"`` -> one
marginal per agent; ``"copula(uniform, rho=0.5)"`` -> Gaussian copula (or ``corr=[[1, .5], [.5, 1]]``,
one correlation per pair of agents);
``"hard(p=0.01, delta=0.001)"`` -> Theorem 3.1's instance; ``"levels(values=[0, 1, 5],
probs=[0.6, 0.3, 0.1])"`` -> finitely many values. Specs are parsed by
:mod:`abm.priors.spec`, never evaluated.
"""

from __future__ import annotations

from abm.errors import PriorSpecError
from abm.priors.marginals import HardInstance, Levels, Marginal, Mixture, ScipyMarginal, Truncated, validate
from abm.priors.priors import GaussianCopulaPrior, IIDPrior, IndependentPrior, Prior
from abm.priors.spec import Call, parse

__all__ = [
    "Prior", "IIDPrior", "IndependentPrior", "GaussianCopulaPrior", "Marginal", "HardInstance", "Levels",
    "parse_prior", "parse_marginal",
]


def _number(value, where: str) -> float:
    if not isinstance(value, float):
        raise PriorSpecError(f"{where}: expected a number, got {value}")
    return value


def _marginal(expr, top: bool = False) -> Marginal:
    if not isinstance(expr, Call):
        raise PriorSpecError(f"expected a distribution, got {expr!r}")
    spec = str(expr)
    name, args, kwargs = expr.name, expr.args, expr.kwargs
    if name in ("copula", "checkerboard"):
        raise PriorSpecError(f"{spec}: {name}(...) describes all agents jointly; it cannot be one agent's marginal")
    if name == "hard":
        _only(expr, {"p", "delta"}, positional=0)
        params = {k: _number(v, spec) for k, v in kwargs.items()}
        return HardInstance(spec=spec, **params)
    if name == "levels":
        _only(expr, {"values", "probs"}, positional=0)
        lists = {k: v for k, v in kwargs.items()}
        if "values" not in lists:
            raise PriorSpecError(f"{spec}: expected levels(values=[V, ...], probs=[P, ...]), e.g. "
                                 "levels(values=[0, 1, 5], probs=[0.6, 0.3, 0.1])")
        for key, value in lists.items():
            if not isinstance(value, list):
                raise PriorSpecError(f"{spec}: {key} must be a list like [0, 1, 5]")
        return Levels([_number(v, spec) for v in lists["values"]],
                      [_number(v, spec) for v in lists["probs"]] if "probs" in lists else None, spec)
    if name == "truncate":
        if len(args) != 3 or kwargs:
            raise PriorSpecError(f"{spec}: expected truncate(DIST, LO, HI), e.g. truncate(norm(loc=0.5, scale=0.2), 0, 1)")
        return Truncated(_marginal(args[0]), _number(args[1], spec), _number(args[2], spec), spec)
    if name == "mixture":
        _only(expr, {"weights"}, positional=1)
        if len(args) != 1 or not isinstance(args[0], list):
            raise PriorSpecError(f"{spec}: expected mixture([DIST, ...], weights=[W, ...])")
        if not args[0]:
            raise PriorSpecError(f"{spec}: a mixture needs at least one component, e.g. "
                                 "mixture([beta(a=2, b=8), beta(a=8, b=2)], weights=[0.5, 0.5])")
        comps = [_marginal(c) for c in args[0]]
        weights = kwargs.get("weights", [1.0 / len(comps)] * len(comps))
        if not isinstance(weights, list):
            raise PriorSpecError(f"{spec}: weights must be a list like [0.5, 0.5]")
        return Mixture(comps, [_number(w, spec) for w in weights], spec)
    for value in list(args) + list(kwargs.values()):
        _number(value, spec)
    return ScipyMarginal(name, args, kwargs, spec)


def _only(expr: Call, allowed: set, positional: int) -> None:
    extra = set(expr.kwargs) - allowed
    if extra or len(expr.args) > positional:
        got = sorted(extra) if extra else f"{len(expr.args)} positional arguments"
        raise PriorSpecError(f"{expr}: unexpected {got}; accepted: {', '.join(sorted(allowed))}")


def _read_cells(path: str, spec: str):
    """Cell masses from a file: ``.npy`` (no pickles) or ``.json`` (nested lists). Data, never code."""
    from pathlib import Path

    import numpy as np

    p = Path(path)
    if not p.is_file():
        raise PriorSpecError(f"{spec}: no file at {path!r}")
    try:
        if p.suffix.lower() == ".npy":
            return np.load(p, allow_pickle=False)
        if p.suffix.lower() == ".json":
            from abm import readers

            return readers.json_file(p, "cell file", PriorSpecError)
    except (ValueError, OSError) as exc:
        raise PriorSpecError(f"{spec}: cannot read {path!r} ({type(exc).__name__}: {exc})") from None
    raise PriorSpecError(f"{spec}: cell files must end in .npy or .json, got {path!r}")


def _checkerboard(expr: Call):
    """``checkerboard(MARGINAL, ..., cells=[...] | file='...' | k=K[, corr=[[...]]])``."""
    import numpy as np

    from abm.priors.priors import CheckerboardCopulaPrior, _correlation_matrix, gaussian_checkerboard

    spec = str(expr)
    _only(expr, {"cells", "file", "k", "corr"}, positional=len(expr.args))
    given = {"cells", "file", "k"} & set(expr.kwargs)
    if len(given) != 1 or not expr.args or ("corr" in expr.kwargs and "k" not in expr.kwargs):
        raise PriorSpecError(f"{spec}: expected checkerboard(MARGINAL, ..., cells=[[...]]) or file='cells.npy' or "
                             "k=K (independence) or k=K, corr=[[...]] (a Gaussian copula's checkerboard)")
    marginals = [validate(_marginal(a)) for a in expr.args]
    if "cells" in expr.kwargs:
        cells = expr.kwargs["cells"]
    elif "file" in expr.kwargs:
        if not isinstance(expr.kwargs["file"], str):
            raise PriorSpecError(f"{spec}: file must be a quoted file name, e.g. file='cells.npy'")
        cells = _read_cells(expr.kwargs["file"], spec)
    else:
        k = expr.kwargs["k"]
        if not (isinstance(k, float) and k.is_integer() and 1 <= k <= 64):
            raise PriorSpecError(f"{spec}: k must be an integer from 1 to 64, got {k}")
        if "corr" in expr.kwargs:
            corr = _correlation_matrix(expr.kwargs["corr"], spec)
            if corr.shape[0] > 4 or int(k) ** corr.shape[0] > 40_000:
                raise PriorSpecError(f"{spec}: a Gaussian checkerboard is built for at most 4 agents and 40,000 cells")
            cells = gaussian_checkerboard(int(k), corr)
        else:
            n = len(marginals) if len(marginals) > 1 else 2
            cells = np.ones((int(k),) * n)
    if np.iscomplexobj(cells) or (isinstance(cells, np.ndarray) and cells.dtype.kind not in "biuf"):
        raise PriorSpecError(f"{spec}: cell masses must be real numbers, got dtype {np.asarray(cells).dtype}")
    try:
        arr = np.asarray(cells, dtype=float)
    except (TypeError, ValueError):
        raise PriorSpecError(f"{spec}: cells must be a nested list of numbers (a k x ... x k tensor)") from None
    if arr.size > 10**6:
        raise PriorSpecError(f"{spec}: at most 1,000,000 cells accepted, got {arr.size:,}")
    return CheckerboardCopulaPrior(marginals, arr, spec)


def parse_marginal(text: str) -> Marginal:
    """Parse and validate one agent's marginal, e.g. ``beta(a=2, b=5)``."""
    exprs = parse(text)
    if len(exprs) != 1:
        raise PriorSpecError(f"expected one distribution, got {len(exprs)} separated by ';'")
    return validate(_marginal(exprs[0]))


def parse_prior(text: str | Prior) -> Prior:
    """Parse a prior spec (see the module docstring); a :class:`Prior` passes through."""
    if isinstance(text, Prior):
        return text
    exprs = parse(text)
    if len(exprs) == 1 and isinstance(exprs[0], Call) and exprs[0].name == "checkerboard":
        return _checkerboard(exprs[0])
    if len(exprs) == 1 and isinstance(exprs[0], Call) and exprs[0].name == "copula":
        expr = exprs[0]
        _only(expr, {"rho", "corr"}, positional=len(expr.args))
        if len({"rho", "corr"} & set(expr.kwargs)) != 1 or not expr.args:
            raise PriorSpecError(f"{expr}: expected copula(MARGINAL[, MARGINAL...], rho=R) or copula(MARGINAL, ..., "
                                 "corr=[[1, R12, ...], [R12, 1, ...], ...]), with exactly one of rho and corr")
        marginals = [validate(_marginal(a)) for a in expr.args]
        if "corr" in expr.kwargs:
            corr = expr.kwargs["corr"]
            if not (isinstance(corr, list) and all(isinstance(r, list) and all(isinstance(x, float) for x in r)
                                                   for r in corr)):
                raise PriorSpecError(f"{expr}: corr must be a matrix of numbers, e.g. [[1, 0.5], [0.5, 1]]")
            return GaussianCopulaPrior(marginals, None, str(expr), corr=corr)
        return GaussianCopulaPrior(marginals, _number(expr.kwargs["rho"], str(expr)), str(expr))
    marginals = [validate(_marginal(e)) for e in exprs]
    if len(marginals) == 1:
        return IIDPrior(marginals[0])
    return IndependentPrior(marginals)
