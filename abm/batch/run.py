"""Executing runs: one Mesa model per run, seeded by the run's position in the sweep."""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
import pandas as pd

__all__ = ["run_seed", "run_rows", "run_chunk"]


def run_seed(base_seed: int, run: int) -> int:
    """The run's own seed: SeedSequence(base, spawn_key=(run,)), whatever executes it and in what order."""
    return int(np.random.SeedSequence(base_seed, spawn_key=(run,)).generate_state(1, dtype=np.uint64)[0])


@lru_cache(maxsize=64)
def _prior(spec: str):
    from abm.priors import parse_prior

    return parse_prior(spec)


@lru_cache(maxsize=256)
def _mechanism(spec_json: str, prior_spec: str):
    from abm import mechanisms

    spec = json.loads(spec_json)
    return mechanisms.get(spec.pop("name"), prior=_prior(prior_spec), **spec)


def run_rows(run: dict, base_seed: int) -> pd.DataFrame:
    """One row per (instance, agent) of one run, with every parameter of the run as a column."""
    import strategies as strategy_registry
    from abm.model import AllocationModel, default_batch

    mech_json = json.dumps(run["mechanism"], sort_keys=True)
    strategies = [strategy_registry.parse(s) for s in run["strategies"]]
    if len(strategies) == 1:
        strategies = strategies[0]
    seed = run_seed(base_seed, run["run"])
    model = AllocationModel(mechanism=_mechanism(mech_json, run["prior"]), prior=_prior(run["prior"]),
                            n_agents=run["n_agents"], n_items=run["n_items"], strategies=strategies,
                            instances_per_step=run.get("instances_per_step")
                            or default_batch(run["n_agents"], run["n_items"], run["instances"]),
                            rng=seed)
    model.run(run["instances"])
    cols = model.tidy_columns({"mechanism_spec": mech_json, "strategies": ",".join(run["strategies"]),
                               "instances": run["instances"]})
    del cols["step"], cols["mechanism_params"]
    size = cols["instance"].size
    front = {"run": np.full(size, run["run"]), "replication": np.full(size, run["replication"])}
    return pd.DataFrame({**front, **cols, "run_seed": np.full(size, seed, dtype=np.uint64)})


def run_chunk(runs: list[dict], base_seed: int) -> pd.DataFrame:
    """Rows of several runs (the unit of work sent to a worker and of one output partition)."""
    return pd.concat([run_rows(r, base_seed) for r in runs], ignore_index=True)
