"""Incentive audits: ex-post (DSIC) and interim (BIC) gain from deviating.

* :func:`dsic_audit` -- per profile and agent, the best deviation found (strategies, exact
  oracles, exhaustive or local search) and a shrunk, replayable witness;
* :func:`bic_audit` -- expected gains of deviations on common random numbers, selection and
  evaluation on separate draws, a multiple-testing correction, and p_t for ordinal rules;
* :mod:`abm.audit.oracles` -- exact best responses; :mod:`abm.audit.witness` -- replay, shrink.
"""

from abm.audit.bic import BicAudit, bic_audit, win_probability_by_rank
from abm.audit.dsic import DsicAudit, dsic_audit, trade_statistics
from abm.audit.oracles import best_response, has_oracle
from abm.audit.witness import Witness, load, replay, save, shrink

__all__ = ["BicAudit", "DsicAudit", "Witness", "best_response", "bic_audit", "dsic_audit", "has_oracle", "load",
           "replay", "save", "shrink", "trade_statistics", "win_probability_by_rank"]
