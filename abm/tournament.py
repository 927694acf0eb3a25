"""A tournament in Axelrod's spirit: every strategy and learner against each mechanism.

Each cell puts one player in agent 0's seat, the other agents truthful, and runs
``rounds`` rounds of the Mesa model (fresh values each round; learners learn as they go).
The result, one row per (mechanism, player), is the player's mean gain over truthful play
per instance with a t interval over rounds, beside the welfare ratio and envy-free rate
the play produced: a ResultSet to sort, plot or export.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

import strategies as strategy_registry
from abm.sizes import check_fits
from abm.metrics import gain_interval
from abm.model import AllocationModel
from abm import declare as d
from abm import options as o
from abm.declare import Entry, Option

__all__ = ["DEFAULT_MECHANISMS", "default_players", "tournament"]

DEFAULT_MECHANISMS = ["pick-r", "serial-dictatorship", "ranking", "round-robin", "welfare-max"]

#: left out by default: it samples the prior inside every bid, which makes a cell take minutes
_SLOW = {"interim-best-response"}


def default_players() -> list[str]:
    """Every registered strategy and learner, with its defaults (but the slow ones)."""
    return [name for name in strategy_registry.names() if name not in _SLOW]


#: the declared parameters of :func:`tournament` (and of ``tfd tournament``)
TOURNAMENT = Entry("tournament", (
    o.MECHANISMS.with_(help=o.MECHANISMS.help + " (default: the catalogue's five)"),
    o.strategy_menu("players", "comma-separated strategies or learners (default: every registered one but "
                               "interim-best-response, which is slow)"),
    o.PRIOR, o.AGENTS.with_(kind=d.whole(2), help="number of agents n (a gain over truthful play needs others)"),
    o.ITEMS.with_(default=10),
    Option("rounds", d.whole(2), "rounds of play per (mechanism, player); an interval needs two", default=200),
    o.INSTANCES_PER_STEP.with_(name="instances_per_round", flag="--instances-per-step", default=4,
                               help="instances per round of play (a model step)"),
    o.SEED, o.CONFIDENCE.with_(default=0.99)), "every strategy and learner against each mechanism")


@TOURNAMENT.checked
def tournament(mechanisms=None, players=None, prior="uniform", n_agents: int = 2, n_items: int = 10,
               rounds: int = 200, instances_per_round: int = 4, seed: int = 0, confidence: float = 0.99,
               progress=None) -> pd.DataFrame:
    """Play every player against every mechanism; returns one row per (mechanism, player)."""
    from abm.spec import split_top_level

    mechanisms = split_top_level(mechanisms) if isinstance(mechanisms, str) else list(mechanisms or DEFAULT_MECHANISMS)
    players = split_top_level(players) if isinstance(players, str) else list(players or default_players())
    for p in players:
        strategy_registry.parse(p)  # unknown names fail before any work starts
    check_fits(24.0 * rounds, f"{rounds} rounds", "use fewer --rounds")
    rows = []
    for mech in mechanisms:
        for player in players:
            cell_seed = int(np.random.SeedSequence(seed, spawn_key=(zlib.crc32(f"{mech}|{player}".encode()),))
                            .generate_state(1)[0])
            model = AllocationModel(mechanism=mech, prior=prior, n_agents=n_agents, n_items=n_items,
                                    strategies=[player] + ["truthful"] * (n_agents - 1),
                                    instances_per_step=instances_per_round, rng=cell_seed, keep_rows=False)
            for _ in range(rounds):
                model.step()
            # the rounds as the model's DataCollector recorded them: the player's gains, welfare, EF
            seat0 = model.datacollector.get_agent_vars_dataframe().xs(model.bidders[0].unique_id, level="AgentID")
            per_round = model.datacollector.get_model_vars_dataframe()
            ratios, ef = per_round["welfare_ratio"].to_numpy(), per_round["ef_rate"].to_numpy()
            highest = float(seat0["max_gain"].max())
            gain = gain_interval(seat0["mean_gain"].to_numpy(), float(seat0["min_gain"].min()), highest, confidence)
            rows.append({"mechanism": mech, "player": player, "strategy": repr(model.bidders[0].strategy),
                         "learner": isinstance(model.bidders[0].strategy, strategy_registry.Learner),
                         "mean_gain": gain.value, "ci_low": gain.ci_low, "ci_high": gain.ci_high,
                         "largest_instance_gain": highest, "never_gained": highest <= 0.0,
                         "welfare_ratio": float(ratios.mean()), "ef_rate": float(ef.mean()),
                         "rounds": rounds, "instances_per_round": instances_per_round, "prior": prior,
                         "n_agents": n_agents, "n_items": n_items, "seed": seed})
            if progress is not None:
                progress(rows[-1])
    return pd.DataFrame(rows)
