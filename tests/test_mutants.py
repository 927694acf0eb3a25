"""The mutant zoo: every mutant is really manipulable, proven here by full
enumeration at small m, so a mutant the audit misses is the audit's failure; and the audit
catches them with no false alarm on the originals."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.stats as st

from abm import mutants
from abm.cli import main
from abm.metrics import utility_of_reports
from abm.priors import parse_prior


def _family(m: int, top: float) -> np.ndarray:
    """All strict rankings (bids m - position) and every report over the levels {0, 1, 2, 3 top}."""
    rankings = m - np.array(list(itertools.permutations(range(m))), dtype=float)
    levels = np.array([0.0, 1.0, 2.0, 3.0 * top + 3.0])[np.array(list(itertools.product(range(4), repeat=m)))]
    return np.concatenate([rankings, levels])


@pytest.mark.parametrize("name", list(mutants.DSIC_MUTANTS))
def test_every_dsic_mutant_is_manipulable_by_full_enumeration(name):
    _, n, prior, make = mutants.DSIC_MUTANTS[name]
    rng = np.random.default_rng(len(name))
    for trial in range(200):
        m = 4 + trial % 3  # 4, 5, 6 items
        mech = make(m)
        values = parse_prior(prior).sample(rng, n, m)
        if trial % 2:
            values = np.round(values * 4) / 4  # ties and zeros
        family = _family(m, values.max())
        for i in range(n):
            u = utility_of_reports(mech, values[i], values, i, family)
            truth = utility_of_reports(mech, values[i], values, i, values[i][None])[0]
            if u.max() > truth + 1e-9:
                return
    pytest.fail(f"{name}: no profitable report found by enumeration in 200 profiles")


@pytest.mark.parametrize("name", list(mutants.BIC_MUTANTS))
def test_every_bic_mutant_has_an_interim_lie_that_pays(name):
    # Enumerate every report of the family for one type; choose the best on one set of draws of
    # the others and confirm its expected gain on fresh draws: one-sided 99.9% lower bound > 0.
    _, n, prior, make = mutants.BIC_MUTANTS[name]
    m = 5
    mech, p = make(m), parse_prior(prior)
    v = np.array([1.0, 0.8, 0.5, 0.45, 0.1]) * p.marginal(0).ppf(0.95)
    agent = 0

    def gains(rng, draws):
        others = p.sample(rng, n, m, batch=draws)
        others[:, agent, :] = v
        u = utility_of_reports(mech, np.broadcast_to(v, (draws, m)), others, agent,
                               np.broadcast_to(np.concatenate([v[None], family]), (draws, family.shape[0] + 1, m)))
        return u[:, 1:] - u[:, :1]

    rankings = m - np.array(list(itertools.permutations(range(m))), dtype=float)
    family = np.concatenate([rankings, v[None] * 2.0, v[None] * 10.0])  # every ranking, and exaggerations
    best = int(np.argmax(gains(np.random.default_rng(1), 3000).mean(axis=0)))
    g = gains(np.random.default_rng(2), 6000)[:, best]
    lower = g.mean() - st.norm.ppf(0.999) * g.std(ddof=1) / np.sqrt(g.size)
    assert lower > 0, (name, g.mean(), lower)


def test_the_zoo_catches_the_mutants_and_spares_the_originals_quick():
    frame, s = mutants.run_zoo(n_items=20, profiles=60, seed=0, workers=2)
    assert s["dsic_kill_rate"] >= 0.95 and s["bic_kill_rate"] == 1.0, frame[frame.outcome == "missed"]
    assert not s["false_alarms"], frame[frame.outcome == "false alarm"]
    assert set(frame.outcome) <= {"caught", "missed", "clean", "false alarm"}
    assert len(frame[frame.kind == "dsic"]) + len(frame[frame.kind == "bic"]) >= 25


def test_cli_mutants_lists_runs_and_refuses_unknown_entries(capsys, tmp_path):
    assert main(["audit", "mutants", "--list"]) == 0
    assert "pick-r/zero-bonus" in capsys.readouterr().out
    assert main(["audit", "mutants", "--items", "12", "--profiles", "20", "--workers", "1", "--only",
                 "exchange/efficient-trade", "--only", "control: exchange", "--json", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert '"dsic_kill_rate": 1.0' in out and (tmp_path / "mutants.parquet").exists()
    assert main(["audit", "mutants", "--only", "no/such"]) == 2
    assert "no zoo entry named 'no/such'; tfd audit mutants --list" in capsys.readouterr().err
