"""One script per claim of the paper (Theorem 3.1, Proposition 3.3, ...).

Each scenario prints the paper's prediction beside the simulated figure with its
interval, and a verdict. They use only the public API of :mod:`abm` and
:mod:`strategies`.
"""
