"""Witnesses of profitable deviations: saved as JSON, replayed, and shrunk.

A witness is a profile of true values, an agent, its misreport, and both allocations.
:func:`replay` re-runs the mechanism from the saved spec and confirms the gain;
:func:`shrink` removes items and agents while the gain stays positive (re-optimizing the
misreport on the smaller instance where the first one stops paying), like hypothesis
shrinks a failing example.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from abm import __version__
from abm import mechanisms as M
from abm.errors import TfdError
from abm.metrics import utilities

__all__ = ["Witness", "gain_of", "replay", "shrink", "load", "save"]


@dataclass
class Witness:
    mechanism: dict  # Mechanism.spec()
    agent: int
    values: list  # true values, n x m
    misreport: list  # the agent's report, m
    truthful_owner: list
    deviating_owner: list
    truthful_utility: float
    deviating_utility: float
    gain: float
    prior: str = ""
    note: str = ""
    version: str = field(default=__version__)

    @property
    def n_agents(self) -> int:
        return len(self.values)

    @property
    def n_items(self) -> int:
        return len(self.misreport)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def gain_of(mechanism, values: np.ndarray, agent: int, misreport: np.ndarray):
    """(gain, truthful owner, deviating owner, truthful utility, deviating utility); others truthful."""
    truth_owner = mechanism.allocate(values)
    bids = values.copy()
    bids[agent] = misreport
    dev_owner = mechanism.allocate(bids)
    u0 = float(utilities(values, truth_owner)[agent])
    u1 = float(utilities(values, dev_owner)[agent])
    return u1 - u0, truth_owner, dev_owner, u0, u1


def make(mechanism, values, agent, misreport, prior="", note="") -> Witness:
    values = np.asarray(values, dtype=float)
    misreport = np.asarray(misreport, dtype=float)
    g, o0, o1, u0, u1 = gain_of(mechanism, values, agent, misreport)
    return Witness(mechanism.spec(), int(agent), values.tolist(), misreport.tolist(), o0.tolist(), o1.tolist(),
                   u0, u1, g, str(prior), note)


def save(witness: Witness, path) -> Path:
    path = Path(path)
    path.write_text(witness.to_json())
    return path


def load(path) -> Witness:
    try:
        data = json.loads(Path(path).read_text())
        return Witness(**data)
    except FileNotFoundError:
        raise TfdError(f"no witness file at {str(path)!r}") from None
    except (json.JSONDecodeError, TypeError) as exc:
        raise TfdError(f"{str(path)!r} is not a witness file: {exc}") from None


def replay(witness: Witness, tol: float = 1e-9) -> dict:
    """Re-run the mechanism on the witness: does the misreport still gain, with the saved allocations?"""
    mech = M.from_spec(witness.mechanism)
    values = np.asarray(witness.values, dtype=float)
    g, o0, o1, u0, u1 = gain_of(mech, values, witness.agent, np.asarray(witness.misreport, dtype=float))
    same = o0.tolist() == list(witness.truthful_owner) and o1.tolist() == list(witness.deviating_owner)
    return {"confirmed": bool(g > tol and same), "gain": g, "saved_gain": witness.gain,
            "allocations_match": bool(same), "truthful_utility": u0, "deviating_utility": u1}


def _best_misreport(mech, values, agent, misreport):
    """Keep the misreport if it still gains; else try the structural oracle, then all rankings.

    Whatever is proposed, the gain is recomputed through ``allocate`` (:func:`gain_of`).
    """
    from abm.audit.search import exhaustive_best, exhaustive_reports, high_bid

    g = gain_of(mech, values, agent, misreport)[0]
    if g > 1e-9:
        return misreport, g
    br = mech.best_response(values[agent][None], values[None], agent)
    if br is not None:
        return br.reports[0], gain_of(mech, values, agent, br.reports[0])[0]
    if values.shape[1] <= 7:
        reports = exhaustive_reports("ordinal" in mech.properties, values.shape[1], high_bid(mech, values))
        _, rep, _ = exhaustive_best(mech, values[agent], values, agent, reports)
        return rep, gain_of(mech, values, agent, rep)[0]
    return misreport, g


def shrink(witness: Witness, tol: float = 1e-9, mechanism=None) -> Witness:
    """Drop items, then agents, while some misreport still gains; returns a witness no larger than the input.

    Items are dropped through :meth:`Mechanism.restrict` (a mechanism that cannot restrict
    itself keeps its items). ``mechanism`` defaults to the one the witness's spec names.
    """
    values = np.asarray(witness.values, dtype=float)
    report = np.asarray(witness.misreport, dtype=float)
    agent = witness.agent
    mech = M.from_spec(witness.mechanism) if mechanism is None else mechanism
    changed = True
    while changed:
        changed = False
        for j in range(values.shape[1] - 1, -1, -1):  # items, last first
            if values.shape[1] == 1:
                break
            keep = np.delete(np.arange(values.shape[1]), j)
            smaller = mech.restrict(keep)
            if smaller is None:
                continue
            try:
                rep, g = _best_misreport(smaller, values[:, keep], agent, report[keep])
            except (ValueError, IndexError):
                continue
            if g > tol:
                values, report, mech, changed = values[:, keep], rep, smaller, True
        for k in range(values.shape[0] - 1, -1, -1):  # agents other than the deviator
            if k == agent or values.shape[0] <= 2:
                continue
            try:
                smaller = np.delete(values, k, axis=0)
                a = agent - (k < agent)
                rep, g = _best_misreport(mech, smaller, a, report)
            except (ValueError, IndexError):
                continue
            if g > tol:
                values, agent, report, changed = smaller, a, rep, True
    return make(mech, values, agent, report, witness.prior, note="shrunk")
