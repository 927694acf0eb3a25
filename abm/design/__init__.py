"""The open-questions lab: optimal truthful mechanisms computed, certified and compared.

Section 5 of the paper asks whether Pick-r's welfare (about 0.745 of the optimum for two agents,
a_n for n) is the best any DSIC mechanism without money reaches for n > 2. For two agents the
picking-exchange characterization settles it; for three there is none. This package computes the
welfare-optimal truthful mechanism at small sizes and measures it against the best Pick-r:

* :mod:`~abm.design.ordinal` -- mechanisms that see rankings (truthful for every additive value):
  a linear program (randomized) on symmetry orbits, or a 0/1 program (deterministic);
* :mod:`~abm.design.cardinal` -- mechanisms on a discrete value domain: an upper bound for every
  DSIC mechanism on that prior;
* :mod:`~abm.design.certificate` -- the LP's bound proved from its dual in exact arithmetic;
* :mod:`~abm.design.compare` -- best Pick-r, best picking sequence, best picking-exchange rule;
* :mod:`~abm.design.table` -- a deterministic optimum as a :class:`~abm.mechanisms.Mechanism`;
* :mod:`~abm.design.lab` -- all of it for m = 1..M, saved to a folder and loaded back.

>>> from abm import design
>>> lab = design.design(n_agents=3, n_items=3, deterministic=True)
>>> design.save(lab, "lab"); mech = design.load("lab")
"""

from abm.mechanisms.base import Claim, Mechanism, MechanismInfo
from abm.design.lab import Lab, design, design_work, discretize, explain, hard_levels, load, save

__all__ = ["Lab", "design", "design_work", "discretize", "explain", "hard_levels", "load", "save", "Designed"]


class Designed(Mechanism):
    """``Designed(path)``: the mechanism a lab folder holds, by import path, for the CLI and the
    explorer (``--mechanism 'abm.design:Designed(path=lab)'``). Builds the table the folder holds
    (:class:`~abm.design.table.OrdinalTable` or :class:`~abm.design.table.LevelTable`)."""

    info = MechanismInfo(name="designed", summary="the deterministic mechanism a tfd design folder holds",
                         claim=Claim.NONE, ordinal=False, reference="tfd design --deterministic --out FOLDER",
                         parameters={"path": "the folder tfd design --out wrote"})

    def __new__(cls, path: str):
        return load(path)

    def __init__(self, path: str):  # never runs: __new__ returns the table, which is not a Designed
        super().__init__()
