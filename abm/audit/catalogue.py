"""The catalogue's oracles, verified against enumeration, and the record of the code verified.

:func:`verify_oracle` runs one oracle against every report of a complete family at its
mechanism's example size: every strict ranking for an ordinal rule (complete: the rule sees
rankings only), every report over four levels {0, 1, 2, high} otherwise. The oracle's report
must earn its value through ``allocate``, and no report of the family may earn more.

``python -m abm.audit.catalogue --write`` verifies every registered mechanism that ships an
oracle and records the fingerprints of those that pass (:mod:`abm.audit.trust`) in
``verified_oracles.json``; ``tests/test_trust.py`` fails while that record and the code
disagree, so an edit to what a catalogue rule or its oracle runs is verified before it proves.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys

import numpy as np

from abm.metrics import utilities, utility_of_reports

__all__ = ["catalogue", "stale", "verify_oracle", "write_verified"]

#: profiles on which each oracle meets enumeration (enough that round robin's rare lies show)
TRIALS = 24


def profiles(rng, n: int, m: int, batch: int) -> np.ndarray:
    """Profiles with ties and zeros (a third coarse, a third rounded, a third continuous)."""
    out = rng.random((batch, n, m))
    out[0::3] = rng.integers(0, 3, (len(out[0::3]), n, m))
    out[1::3] = np.round(out[1::3], 1)
    return out


def verify_oracle(mech, n: int, m: int, seed: int = 7, trials: int = TRIALS) -> str | None:
    """None when ``mech``'s oracle meets enumeration on ``trials`` profiles of n agents and m items,
    else what failed, in words."""
    rng = np.random.default_rng(seed)
    ordinal = bool(mech.info.ordinal)
    rankings = m - np.array(list(itertools.permutations(range(m))), dtype=float)
    for trial in range(trials):
        values = profiles(rng, n, m, 3)[trial % 3]
        i = trial % n
        br = mech.best_response(values[i][None], values[None], i)
        if br is None:
            return "no oracle answer"
        if not br.proven.all():
            return f"profile {trial}: the oracle leaves agent {i}'s optimum unproven"
        lied = values.copy()
        lied[i] = br.reports[0]
        earned = utilities(values, mech.allocate(lied))[i]
        if abs(earned - br.value[0]) > 1e-12:
            return f"profile {trial}: the oracle's report earns {earned:.12g}, not its value {br.value[0]:.12g}"
        if ordinal:
            family = rankings
        else:
            levels = np.array([0.0, 1.0, 2.0, 2 * values.max() + 10])
            family = levels[np.array(list(itertools.product(range(4), repeat=m)))]
        best = utility_of_reports(mech, values[i], values, i, family).max()
        if best > br.value[0] + 1e-12 or (ordinal and abs(best - br.value[0]) > 1e-12):
            return f"profile {trial}: enumeration finds {best:.12g} for agent {i}, the oracle {br.value[0]:.12g}"
    return None


def catalogue() -> list[tuple[str, object, int, int]]:
    """(name, mechanism, agents, items) for every registered mechanism that ships an oracle, built
    from its declared example."""
    from abm import mechanisms
    from abm.audit.trust import basis

    out = []
    for info in sorted(mechanisms.available(), key=lambda i: i.name):
        ex = info.example
        mech = mechanisms.get(info.name, **ex.params)
        if basis(mech).oracle != "none":
            out.append((info.name, mech, ex.agents, ex.items))
    return out


def stale() -> list[str]:
    """Catalogue mechanisms whose oracle code is not the code recorded as verified."""
    from abm.audit.trust import VERIFIED, fingerprint

    return [name for name, mech, _, _ in catalogue() if fingerprint(mech) not in VERIFIED]


def write_verified(progress=print) -> dict:
    """Verify every catalogue oracle; record the fingerprints of those that pass. Returns the record."""
    from abm.audit.trust import fingerprint, verified_path

    record, failed = {}, []
    for name, mech, n, m in catalogue():
        why = verify_oracle(mech, n, m)
        fp = fingerprint(mech)
        if why is None and fp is not None:
            record[fp] = f"{name} ({type(mech).__module__}.{type(mech).__qualname__})"
            progress(f"verified {name}")
        else:
            failed.append(name)
            progress(f"NOT verified {name}: {why or 'no source to fingerprint'}")
    out = {"note": "fingerprints of the catalogue code whose oracles passed abm.audit.catalogue.verify_oracle; "
                   "written by python -m abm.audit.catalogue --write",
           "fingerprints": dict(sorted(record.items(), key=lambda kv: kv[1]))}
    verified_path().write_text(json.dumps(out, indent=1) + "\n")
    return {"verified": len(record), "failed": failed}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m abm.audit.catalogue",
                                 description="verify the catalogue's oracles and record the code verified")
    ap.add_argument("--write", action="store_true", help="verify every oracle and rewrite verified_oracles.json")
    args = ap.parse_args(argv)
    if args.write:
        result = write_verified()
        return 1 if result["failed"] else 0
    old = stale()
    print("every catalogue oracle runs on verified code" if not old else f"not verified on this code: {', '.join(old)}")
    return 1 if old else 0


if __name__ == "__main__":
    sys.exit(main())
