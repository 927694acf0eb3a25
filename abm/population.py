"""Population dynamics: a Moran process over strategies, with mutation (``tfd evolve``).

A population of ``size`` individuals (more than the mechanism's n agents) each plays one
strategy of a menu. Every generation, ``matches`` groups of n individuals are drawn at
random (uniformly, without replacement within a group) and each group plays one instance
with fresh values from the prior, in random seats. An individual's fitness is its mean
reward over the matches it played: utility over its total value, in [0, 1] whatever the
prior's scale (individuals that played no match get the population's mean). Then one Moran
step (Moran 1958; Nowak 2006, ch. 6), as in Axelrod's ``MoranProcess``: one individual is
chosen to reproduce with probability proportional to ``exp(selection * fitness)`` (the
exponential fitness map keeps probabilities positive and sets the selection strength), one
is chosen uniformly to die and is replaced by the offspring, whose strategy mutates to a
uniformly drawn menu strategy with probability ``mutation``.

Strategies bid without seeing the others' reports (clairvoyant strategies and learners are
refused: a group would need an order of play). Each generation allocates all its matches in
one vectorized call; the Python loops run over menu strategies and seats only.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np
import pandas as pd

import strategies as strategy_registry
from abm import declare as d
from abm import mechanisms
from abm import options as o
from abm.declare import Entry, Option
from abm.errors import TfdError
from abm.mechanisms.base import allocation
from abm.metrics import utilities
from abm.priors import parse_prior
from abm.sizes import STEP_PEAK_FACTOR, check_fits

__all__ = ["Evolution", "Individual", "MoranProcess", "moran"]


@dataclass
class Evolution:
    counts: pd.DataFrame  # tidy: generation, strategy, count, share, mean_fitness
    final: dict  # strategy -> share at the end
    summary: dict


def _positive(x, label):
    from abm.spec import whole

    return whole(x, label)


#: the declared parameters of :func:`moran` (and of ``tfd evolve``)
MORAN = Entry("moran", (
    o.MECHANISM.with_(default="welfare-max"),
    o.strategy_menu("menu", "comma-separated strategies the population may play, each once (tfd strategies "
                            "lists them)", default="truthful,scale(factor=3),swap-ranks"),
    o.PRIOR, o.AGENTS, o.ITEMS.with_(default=10),
    Option("size", d.whole(2), "individuals in the population (more than the agents per match)", default=30,
           flag="--population"),
    Option("generations", d.whole(1), "Moran steps", default=1000),
    Option("matches", d.whole(1), "matches (instances) per generation", default=20),
    Option("mutation", d.real(0, 1), "probability an offspring mutates", default=0.01),
    Option("selection", d.real(0), "selection strength (0: neutral drift)", default=5.0),
    o.SEED), "population dynamics: a Moran process over strategies, with mutation")


@MORAN.checked
def moran(mechanism="welfare-max", menu=("truthful", "exaggerate"), prior="uniform", n_agents: int = 2,
          n_items: int = 10, size: int = 20, generations: int = 500, matches: int = 20, mutation: float = 0.01,
          selection: float = 5.0, seed: int = 0, initial=None, progress=None) -> Evolution:
    """Run the Moran process; ``initial`` gives the starting count of each menu strategy
    (default: as equal as possible, in menu order)."""
    n_agents, n_items = _positive(n_agents, "number of agents"), _positive(n_items, "number of items")
    size, generations, matches = (_positive(size, "population size"), _positive(generations, "generations"),
                                  _positive(matches, "matches per generation"))
    # each generation: a (matches, size) draw to seat the matches, and the population's arrays
    check_fits(16.0 * matches * size + 64.0 * size + 8.0 * matches * n_agents * n_items * STEP_PEAK_FACTOR,
               f"a population of {size} with {matches} matches of {n_agents} agents x {n_items} items",
               "use a smaller --population, fewer --matches or fewer items")
    if size <= n_agents:
        raise TfdError(f"the population ({size}) must be larger than the number of agents per match ({n_agents})")
    if not (isinstance(mutation, (int, float)) and 0 <= mutation <= 1):
        raise TfdError(f"mutation must lie in [0, 1], got {mutation!r}")
    if not (isinstance(selection, (int, float)) and np.isfinite(selection) and selection >= 0):
        raise TfdError(f"selection must be a finite number >= 0, got {selection!r}")
    if isinstance(menu, str):
        from abm.spec import split_top_level

        menu = split_top_level(menu)
    plays = [strategy_registry.parse(s) if isinstance(s, str) else strategy_registry.get(s) for s in menu]
    if len(plays) < 1:
        raise TfdError("the menu needs at least one strategy")
    for s in plays:
        if isinstance(s, strategy_registry.Learner) or s.classifier.get("clairvoyant"):
            raise TfdError(f"{s.name!r} cannot join a population: it learns or reads the others' reports; "
                           "accepted: strategies that bid from their own values (see `tfd strategies`)")
    K = len(plays)
    check_fits(160.0 * K * generations, f"{generations} generations of {K} strategies (one tidy row each)",
               "use fewer --generations")
    prior = parse_prior(prior)
    prior.check_agents(n_agents)
    mech = mechanism if isinstance(mechanism, mechanisms.Mechanism) else mechanisms.get(mechanism, prior=prior)
    mech.check_agents(n_agents)
    if initial is None:
        kind = np.arange(size) % K
    else:
        initial = [int(c) for c in initial]
        if len(initial) != K or sum(initial) != size or min(initial) < 0:
            raise TfdError(f"initial counts must be {K} nonnegative integers summing to the population size {size}")
        kind = np.repeat(np.arange(K), initial)
    model = MoranProcess(mech, prior, plays, kind, n_agents, n_items, matches, mutation, selection, rng=seed)
    for _ in range(generations):
        model.step()
        if progress is not None:
            progress(1)
    model.record(fitness=None)  # the population after the last generation
    frame = model.datacollector.get_table_dataframe("counts")
    kinds = model.kinds()
    labels = model.labels
    final = {labels[k]: float(np.mean(kinds == k)) for k in range(K)}
    late = frame[frame.generation > generations // 2].groupby("strategy", sort=False)["share"].mean()
    summary = {"mechanism": mech.name, "mechanism_params": mech.params, "prior": prior.spec, "n_agents": n_agents,
               "n_items": n_items, "population": size, "generations": generations, "matches": matches,
               "mutation": mutation, "selection": selection, "seed": seed, "final_shares": final,
               "mean_share_second_half": {k: float(v) for k, v in late.items()}}
    return Evolution(frame, final, summary)


class Individual(mesa.Agent):
    """One member of the population: the menu strategy it plays (``kind``) and its fitness in the
    last generation (its mean reward over the matches it played)."""

    def __init__(self, model: mesa.Model, kind: int):
        super().__init__(model)
        self.kind = int(kind)
        self.fitness = float("nan")


class MoranProcess(mesa.Model):
    """The Moran process as a Mesa model: its individuals are agents, and one :meth:`step` is one
    generation (the matches, every individual's fitness, one birth and one death). The tidy counts
    per generation and strategy are the DataCollector's ``counts`` table."""

    def __init__(self, mechanism, prior, plays, kind, n_agents, n_items, matches, mutation, selection, rng=None):
        super().__init__(rng=rng)
        self.mechanism, self.prior, self.plays = mechanism, prior, plays
        self.n_agents, self.n_items, self.matches = n_agents, n_items, matches
        self.mutation, self.selection = mutation, selection
        self.labels = [repr(s) for s in plays]
        self.individuals = [Individual(self, k) for k in kind]  # in order: the arrays below index them
        self.generation = 0
        self.datacollector = mesa.DataCollector(tables={"counts": ["generation", "strategy", "count", "share",
                                                                   "mean_fitness"]})

    def kinds(self) -> np.ndarray:
        return np.fromiter((a.kind for a in self.individuals), dtype=np.int64, count=len(self.individuals))

    def record(self, fitness) -> None:
        """One row per menu strategy: how many play it now and their mean fitness this generation."""
        kind, size = self.kinds(), len(self.individuals)
        counts = np.bincount(kind, minlength=len(self.plays))
        for k, label in enumerate(self.labels):
            self.datacollector.add_table_row("counts", {
                "generation": self.generation, "strategy": label, "count": int(counts[k]), "share": counts[k] / size,
                "mean_fitness": float(fitness[kind == k].mean()) if fitness is not None and counts[k] else float("nan")})

    def step(self) -> None:
        kind = self.kinds()
        fitness = _fitness(self.mechanism, self.prior, self.plays, kind, self.n_agents, self.n_items, self.matches,
                           self.rng)
        for a, f in zip(self.individuals, fitness):
            a.fitness = float(f)
        self.record(fitness)
        # Moran: one reproduces with probability proportional to exp(selection * fitness), one dies
        w = np.exp(self.selection * (fitness - fitness.max()))
        parent = self.rng.choice(len(kind), p=w / w.sum())
        dead = self.rng.integers(len(kind))
        child = kind[parent]
        if self.rng.random() < self.mutation:
            child = self.rng.integers(len(self.plays))
        self.individuals[dead].kind = int(child)
        self.generation += 1


def _fitness(mech, prior, plays, kind, n, m, matches, rng) -> np.ndarray:
    """Each individual's mean reward over this generation's matches (one allocation for all)."""
    size = kind.size
    groups = np.argsort(rng.random((matches, size)), axis=-1)[:, :n]  # n distinct individuals per match, in seats
    values = prior.sample(rng, n, m, batch=matches)
    bids = np.empty(values.shape)
    for seat in range(n):
        who = kind[groups[:, seat]]
        for k in np.unique(who):
            rows = who == k
            context = strategy_registry.BidContext(agent=seat, n_agents=n, rng=rng, prior=prior, mechanism=mech)
            bids[rows, seat, :] = plays[int(k)].bid(values[rows, seat, :], context)
    won = utilities(values, allocation(mech, bids))
    reward = won / np.maximum(values.sum(axis=-1), np.finfo(float).tiny)
    total = np.bincount(groups.ravel(), weights=reward.ravel(), minlength=size)
    played = np.bincount(groups.ravel(), minlength=size)
    out = np.full(size, total.sum() / max(played.sum(), 1))
    out[played > 0] = total[played > 0] / played[played > 0]
    return out
