"""A sweep's parameters, declared once (:mod:`abm.declare`): the numeric fields of a sweep file
and the flags of ``tfd batch run`` and ``tfd batch inspect``, checked from one declaration, so a
bad value gets one message in a file and on the command line (in a file prefixed by
``sweep field``)."""

from __future__ import annotations

from abm import declare as d
from abm import options as o

__all__ = ["SWEEP", "RUN", "INSPECT"]

SEED = o.SEED.with_(help="base seed; run k draws from SeedSequence(seed, spawn_key=(k,))")
INSTANCES = o.INSTANCES.with_(default=10, help="instances per run")
REPLICATIONS = d.Option("replications", d.whole(1, 10**6), "replications of each grid point (each its own seed)",
                        default=1)
AGENTS = d.Option("agents", d.counts(1), "agent counts, e.g. 2,3", default=[2])
ITEMS = d.Option("items", d.counts(1), "item counts, e.g. 100,1000", default=[100])
INSTANCES_PER_STEP = o.INSTANCES_PER_STEP

#: the numeric fields of a sweep file (:meth:`abm.batch.Sweep.from_dict`)
SWEEP = d.Entry("sweep file", (SEED, INSTANCES, REPLICATIONS, AGENTS, ITEMS, INSTANCES_PER_STEP),
                "a grid of runs: mechanisms x priors x agents x items x strategies x replications")

#: ``tfd batch run``: the sweep's fields as overrides (none has a default here: the file's or the
#: sweep's own applies), and how to run it
RUN = d.Entry("tfd batch run", (
    d.Option("sweep", d.text(o.check_file, "the name of an existing .toml or .yaml file"),
             "sweep file (.toml, .yaml); options given here override its fields", positional=True),
    d.Option("mechanism", o.MECHANISM.kind, "a mechanism, e.g. 'pick-r(r=[0.3, 0.7])'", repeat=True),
    d.Option("prior", o.PRIOR.kind, "a prior spec", repeat=True),
    AGENTS.with_(default=None), ITEMS.with_(default=None),
    d.Option("strategies", o.STRATEGIES.kind, "one strategy for all agents, or a comma list per agent", repeat=True),
    INSTANCES.with_(default=None), REPLICATIONS.with_(default=None), SEED.with_(default=None),
    o.OUT.with_(default=d.REQUIRED, help="result folder"),
    d.Option("executor", d.choice("serial", "processes", "dask"), "where the runs execute", default="serial"),
    o.WORKERS,
    d.Option("scheduler", d.text(words="a Dask scheduler address, like tcp://host:8786"),
             "Dask scheduler address (default: a local cluster)"),
    d.Option("connect_timeout", d.real(0, 3600, open_low=True), "seconds to wait for --scheduler before giving up "
             "(nothing is left behind)", default=10.0),
    d.Option("resume", d.switch(), "finish an interrupted sweep in --out", default=False),
    d.Option("csv", d.switch(), "also write CSV parts", default=False),
    d.Option("chunk_size", d.whole(1, 10**6), "runs per task and per Parquet part"),
    o.JSON, o.NO_PROGRESS), "run a sweep (from a TOML/YAML file and/or the options below)")

#: ``tfd batch inspect``
INSPECT = d.Entry("tfd batch inspect", (
    d.Option("folder", d.text(words="a folder name"), "a result folder of tfd batch run", default=d.REQUIRED,
             positional=True), o.JSON), "summarize a result folder")
