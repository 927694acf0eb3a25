"""The paper's predictions as functions of a prior, n and a mechanism's parameters.

* :mod:`~abm.theory.quantile` -- integrals of the quantile function (exact with atoms);
* :mod:`~abm.theory.picking` -- alpha of Pick-r / QT-s (Lemma 3.6), EF margins, the choices
  of Theorems 3.7 and 3.10, the coupling bound;
* :mod:`~abm.theory.stopping` -- the optimal Pick-r (Proposition 3.8);
* :mod:`~abm.theory.worst_case` -- worst cases over priors: prior-independent thresholds,
  Hill-Kertz a_n, Kertz's beta, Theorem 3.7's 7/8;
* :mod:`~abm.theory.asymmetric` -- Bai-Golz weights (appendix A), appendix B's thresholds;
* :mod:`~abm.theory.quantile_contiguous` -- quantile-contiguous allocations for n agents with correlated values.

No constant of the paper is typed in: (2+sqrt2)/4, beta and 7/8 come out of these functions.
"""

import importlib

#: Where each public name lives. Submodules load on first use (PEP 562), so ``tfd theory
#: kertz`` does not import scipy.stats and the priors just to integrate one equation.
_HOMES = {
    "quantile_contiguous": ("ContiguousResult", "contiguous", "exact_margins"),
    "asymmetric": ("AppendixB", "BaiGolz", "appendix_b_thresholds", "bai_golz_weights", "win_probabilities"),
    "picking": ("PROPOSITION_3_3_R", "Theorem37Choice", "Theorem310Choice", "alpha_pick_r", "alpha_qt_s",
                "coupling_bound", "ef_margins", "envy_free_margins", "min_items_for_margin", "theorem_3_7_r",
                "theorem_3_10_r", "welfare_per_item"),
    "quantile": ("MARGIN_RTOL", "expected_max", "integrate_ppf", "partial_expectation", "strictly_positive"),
    "stopping": ("OptimalStopping", "optimal_pick_r"),
    "worst_case": ("HillKertz", "Theorem37Fallback", "UniversalThresholds", "discrete_prior_search", "hill_kertz",
                   "kertz_beta", "theorem_3_7_fallback_bound", "universal_thresholds", "worst_case_alpha",
                   "worst_case_alpha_constrained"),
}
_WHERE = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(f"abm.theory.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'abm.theory' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_WHERE))


__all__ = [
    "ContiguousResult", "contiguous", "exact_margins",
    "MARGIN_RTOL", "envy_free_margins", "min_items_for_margin", "strictly_positive",
    "AppendixB", "BaiGolz", "HillKertz", "OptimalStopping", "PROPOSITION_3_3_R", "Theorem37Choice",
    "Theorem37Fallback", "Theorem310Choice", "UniversalThresholds", "alpha_pick_r", "alpha_qt_s",
    "appendix_b_thresholds", "bai_golz_weights", "coupling_bound", "discrete_prior_search", "ef_margins",
    "expected_max", "hill_kertz", "integrate_ppf", "kertz_beta", "optimal_pick_r", "partial_expectation",
    "theorem_3_7_fallback_bound", "theorem_3_7_r", "theorem_3_10_r", "universal_thresholds",
    "welfare_per_item", "win_probabilities", "worst_case_alpha", "worst_case_alpha_constrained",
]
