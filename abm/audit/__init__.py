"""Incentive audits: ex-post (DSIC) and interim (BIC) gain from deviating.

* :func:`dsic_audit` -- per profile and agent, the best deviation found (strategies, exact
  oracles, exhaustive or local search) and a shrunk, replayable witness;
* :func:`bic_audit` -- expected gains of deviations on common random numbers, selection and
  evaluation on separate draws, a multiple-testing correction, and p_t for ordinal rules;
* :mod:`abm.audit.trust` -- what a proof may rest on (enumeration of a rule that sees rankings
  only, a catalogue oracle on the code it was verified against); :mod:`abm.audit.catalogue` --
  the catalogue's oracles verified, and the record of the code verified;
* :mod:`abm.audit.properties` -- guards for authors (a rule declared ordinal that reads
  magnitudes; a rule that reads across its batch); :mod:`abm.audit.parameters` -- the audits'
  own parameters checked; :mod:`abm.audit.witness` -- replay, shrink. Best responses live on
  the mechanisms (:meth:`abm.mechanisms.Mechanism.best_response`).
"""

from abm.audit.bic import BicAudit, bic_audit, win_probability_by_rank
from abm.audit.dsic import DsicAudit, dsic_audit, trade_statistics
from abm.audit.properties import check_ordinal
from abm.audit.witness import Witness, load, replay, save, shrink

__all__ = ["BicAudit", "DsicAudit", "Witness", "bic_audit", "check_ordinal", "dsic_audit", "load",
           "replay", "save", "shrink", "trade_statistics", "win_probability_by_rank"]
