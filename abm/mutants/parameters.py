"""The mutant zoo's parameters, declared once (:mod:`abm.declare`) for :func:`abm.mutants.run_zoo`,
:func:`abm.mutants.generated.run_generated` and ``tfd audit mutants``."""

from __future__ import annotations

from abm import declare as d
from abm import options as o
from abm.errors import TfdError

__all__ = ["ZOO"]


def _entry(value) -> None:
    from abm import mutants

    if value not in mutants.names():
        raise TfdError(f"no zoo entry named {value!r}; tfd audit mutants --list names the {len(mutants.names())} "
                       "entries")


ONLY = d.Option("only", d.text(_entry, "the name of a zoo entry (tfd audit mutants --list)"),
                "audit only this entry", repeat=True)
SAMPLE = d.Option("sample", d.whole(1, 100_000), "with --generated: a seeded sample of this many mutants")

#: :func:`abm.mutants.run_zoo` and :func:`abm.mutants.generated.run_generated`
ZOO = d.Entry("mutant zoo", (o.ITEMS.with_(default=50, help="items per profile"),
                             d.Option("profiles", d.whole(1, 100_000), "profiles per DSIC audit (BIC: profiles / 5 "
                                      "types)", default=200),
                             o.SEED, o.WORKERS, ONLY, SAMPLE),
              "does the audit catch manipulable variants of the catalogue?")
