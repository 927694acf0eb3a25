"""Incentive audits: ex-post (DSIC) and interim (BIC) gain from deviating.

* :func:`dsic_audit` -- per profile and agent, the best deviation found (strategies, exact
  oracles, exhaustive or local search) and a shrunk, replayable witness;
* :func:`bic_audit` -- expected gains of deviations on common random numbers, selection and
  evaluation on separate draws, a multiple-testing correction, and p_t for ordinal rules;
* :mod:`abm.audit.properties` -- run-time checks of declared properties;
  :mod:`abm.audit.witness` -- replay, shrink. Best responses live on the mechanisms
  (:meth:`abm.mechanisms.Mechanism.best_response`).
"""

from abm.audit.bic import BicAudit, bic_audit, win_probability_by_rank
from abm.audit.dsic import DsicAudit, dsic_audit, trade_statistics
from abm.audit.properties import check_ordinal
from abm.audit.witness import Witness, load, replay, save, shrink

__all__ = ["BicAudit", "DsicAudit", "Witness", "bic_audit", "check_ordinal", "dsic_audit", "load",
           "replay", "save", "shrink", "trade_statistics", "win_probability_by_rank"]
