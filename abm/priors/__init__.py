"""Valuation priors: parse a text spec into a :class:`Prior` (see :mod:`abm.priors.priors`).

``parse_prior("beta(a=2, b=5)")`` -> i.i.d.; ``"uniform; beta(a=2, b=5)"`` -> one
marginal per agent; ``"copula(uniform, rho=0.5)"`` -> Gaussian copula;
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
    if name == "copula":
        raise PriorSpecError(f"{spec}: copula(...) describes all agents jointly; it cannot be one agent's marginal")
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
    if len(exprs) == 1 and isinstance(exprs[0], Call) and exprs[0].name == "copula":
        expr = exprs[0]
        _only(expr, {"rho"}, positional=len(expr.args))
        if "rho" not in expr.kwargs or not expr.args:
            raise PriorSpecError(f"{expr}: expected copula(MARGINAL[, MARGINAL...], rho=R)")
        marginals = [validate(_marginal(a)) for a in expr.args]
        return GaussianCopulaPrior(marginals, _number(expr.kwargs["rho"], str(expr)), str(expr))
    marginals = [validate(_marginal(e)) for e in exprs]
    if len(marginals) == 1:
        return IIDPrior(marginals[0])
    return IndependentPrior(marginals)
