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
from abm.mechanisms.base import allocation
from abm.metrics import GAIN_TOL, gain_counts, gain_scale, utilities

__all__ = ["Witness", "gain_of", "replay", "shrink", "load", "save", "validate_witness"]


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
    truth_owner = allocation(mechanism, values)
    bids = values.copy()
    bids[agent] = misreport
    dev_owner = allocation(mechanism, bids)
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
    from abm import files

    return files.write_text(path, witness.to_json())


#: Witness files larger than this are refused before parsing (a witness of 10^6 values is ~20 MB).
MAX_WITNESS_BYTES = 64 << 20
_REQUIRED = ("mechanism", "agent", "values", "misreport", "truthful_owner", "deviating_owner", "truthful_utility",
             "deviating_utility", "gain")
_OPTIONAL = ("prior", "note", "version")


def _bad(field_name: str, why: str) -> TfdError:
    return TfdError(f"witness field '{field_name}' {why}")


def _number(data, key) -> float:
    v = data[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
        raise _bad(key, f"must be a finite number, got {json.dumps(v)[:40]}")
    return float(v)


def _vector(v, key, length=None, kind=float) -> list:
    if not isinstance(v, list) or not v:
        raise _bad(key, f"must be a non-empty list, got {type(v).__name__}")
    if length is not None and len(v) != length:
        raise _bad(key, f"has {len(v)} entries; expected {length} (one per item)")
    for x in v:
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not np.isfinite(x):
            raise _bad(key, f"must hold finite numbers, got {json.dumps(x)[:40]}")
        if kind is int and not float(x).is_integer():
            raise _bad(key, f"must hold agent indices (integers), got {x!r}")
    return v


def _param_value(v, depth=0) -> bool:
    if isinstance(v, (bool, int, float, str)) or v is None:
        return not isinstance(v, float) or bool(np.isfinite(v))
    if isinstance(v, list) and depth < 3:
        return all(_param_value(x, depth + 1) for x in v)
    return False


def validate_witness(data) -> Witness:
    """Check a witness field by field (types, shapes, ranges) and build it; every failure
    names the field. Nothing is run here: :func:`replay` recomputes the numbers."""
    if not isinstance(data, dict):
        raise TfdError(f"a witness is a JSON object with fields {', '.join(_REQUIRED)}; got {type(data).__name__}")
    unknown = sorted(set(data) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise _bad(unknown[0], f"is not a witness field; accepted: {', '.join(_REQUIRED + _OPTIONAL)}")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise _bad(missing[0], "is missing")
    mech = data["mechanism"]
    if not (isinstance(mech, dict) and isinstance(mech.get("name"), str) and mech["name"].strip()):
        raise _bad("mechanism", "must be an object with a 'name' (a mechanism spec, as `tfd audit` saves it)")
    for k, v in mech.items():
        if not _param_value(v):
            raise _bad(f"mechanism.{k}", "must be a number, text, true/false or a (nested) list of those")
    values = data["values"]
    if not isinstance(values, list) or not values:
        raise _bad("values", "must be a non-empty list of per-agent value lists")
    m = len(values[0]) if isinstance(values[0], list) else 0
    for i, row in enumerate(values):
        _vector(row, f"values[{i}]", m or None)
        if min(row) < 0:
            raise _bad(f"values[{i}]", "must be nonnegative (values are nonnegative in the paper's model)")
    n = len(values)
    if n * m > 10**7:
        raise _bad("values", f"holds {n} x {m} values; at most 10^7 accepted")
    agent = data["agent"]
    if isinstance(agent, bool) or not isinstance(agent, int) or not 0 <= agent < n:
        raise _bad("agent", f"must be an agent index from 0 to {n - 1}, got {json.dumps(agent)[:40]}")
    _vector(data["misreport"], "misreport", m)
    for key in ("truthful_owner", "deviating_owner"):
        owners = _vector(data[key], key, m, kind=int)
        if any(not -1 <= int(o) < n for o in owners):
            raise _bad(key, f"must hold owners from -1 (unallocated) to {n - 1}")
    for key in ("truthful_utility", "deviating_utility", "gain"):
        _number(data, key)
    for key in _OPTIONAL:
        if key in data and not isinstance(data[key], str):
            raise _bad(key, f"must be text, got {type(data[key]).__name__}")
    return Witness(**data)


def load(path) -> Witness:
    """Read and validate a witness file (:func:`validate_witness`)."""
    from abm import readers

    return validate_witness(readers.json_file(path, "witness file", TfdError, MAX_WITNESS_BYTES))


def replay(witness: Witness, tol: float = GAIN_TOL) -> dict:
    """Re-run the mechanism on the witness and recompute every saved number. A saved number
    that disagrees with the recomputation (owners exactly; utilities and gain to ``tol`` times
    the deviator's total value) means the file was altered: it is refused with the field named.
    Otherwise the witness is confirmed when the recomputed gain counts (:func:`gain_counts`)."""
    mech = M.from_spec(witness.mechanism)
    values = np.asarray(witness.values, dtype=float)
    mech.check_agents(values.shape[0])
    g, o0, o1, u0, u1 = gain_of(mech, values, witness.agent, np.asarray(witness.misreport, dtype=float))
    scale = float(gain_scale(values[witness.agent]))
    for key, ours in (("truthful_owner", o0), ("deviating_owner", o1)):
        if np.asarray(ours).tolist() != [int(x) for x in getattr(witness, key)]:
            raise _bad(key, "disagrees with the mechanism's allocation: the witness was altered (or saved by a "
                            "different version); nothing is confirmed")
    for key, ours in (("truthful_utility", u0), ("deviating_utility", u1), ("gain", g)):
        saved = float(getattr(witness, key))
        if not abs(saved - ours) <= tol * scale:
            raise _bad(key, f"says {saved:.6g} but the values and allocations give {ours:.6g}: the witness was "
                            "altered; nothing is confirmed")
    return {"confirmed": bool(gain_counts(g, values[witness.agent], tol)), "gain": g, "saved_gain": witness.gain, "allocations_match": True,
            "truthful_utility": u0, "deviating_utility": u1}


def _best_misreport(mech, values, agent, misreport):
    """Keep the misreport if it still gains; else try the structural oracle, then all rankings.

    Whatever is proposed, the gain is recomputed through ``allocate`` (:func:`gain_of`).
    """
    from abm.audit.search import exhaustive_best, exhaustive_reports, high_bid
    from abm.mechanisms.base import shown_rankings_only

    g = gain_of(mech, values, agent, misreport)[0]
    if gain_counts(g, values[agent]):
        return misreport, g
    br = mech.best_response(values[agent][None], values[None], agent)
    if br is not None:
        return br.reports[0], gain_of(mech, values, agent, br.reports[0])[0]
    if values.shape[1] <= 7:
        reports = exhaustive_reports(shown_rankings_only(mech), values.shape[1], high_bid(mech, values))
        _, rep, _ = exhaustive_best(mech, values[agent], values, agent, reports)
        return rep, gain_of(mech, values, agent, rep)[0]
    return misreport, g


def shrink(witness: Witness, tol: float = GAIN_TOL, mechanism=None) -> Witness:
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
            except TfdError:  # the rule cannot run on these items (e.g. a menu size above the count)
                continue
            if gain_counts(g, values[agent, keep], tol):
                values, report, mech, changed = values[:, keep], rep, smaller, True
        for k in range(values.shape[0] - 1, -1, -1):  # agents other than the deviator
            if k == agent or values.shape[0] <= 2:
                continue
            try:
                smaller = np.delete(values, k, axis=0)
                a = agent - (k < agent)
                rep, g = _best_misreport(mech, smaller, a, report)
            except TfdError:  # the rule cannot run with one agent fewer
                continue
            if gain_counts(g, smaller[a], tol):
                values, agent, report, changed = smaller, a, rep, True
    return make(mech, values, agent, report, witness.prior, note="shrunk")
