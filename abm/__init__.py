"""tfd: an agent-based strategic testbed for truthful fair division under stochastic valuations.

Rooms: :mod:`abm.priors` (valuation distributions), :mod:`abm.mechanisms` (pure
allocation rules), :mod:`abm.metrics` (welfare and fairness), :mod:`abm.agents` and
:mod:`abm.model` (the Mesa layer), :mod:`abm.theory` (the paper's predictions),
:mod:`abm.cli` (the ``tfd`` command). Misreport strategies live in the top-level
package :mod:`strategies`.
"""

__version__ = "0.1.0"
