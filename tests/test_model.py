"""The Mesa layer: agents report, the scheduler allocates, the DataCollector records."""

import mesa
import numpy as np
import pytest

from abm import mechanisms
from abm.errors import TfdError
from abm.metrics import utilities
from abm.model import AllocationModel
from strategies import Strategy


class Exaggerate(Strategy):
    """Test-only liar: multiplies every bid by 10 (profitable under welfare maximization)."""

    name = "exaggerate-test"

    def _bid(self, values, context):
        return values * 10


class Reverse(Strategy):
    """Test-only liar: reverses its ranking (never profitable under Pick-r)."""

    name = "reverse-test"

    def _bid(self, values, context):
        return values.max(axis=-1, keepdims=True) - values


def test_step_allocates_a_batch_and_collects_model_and_agent_rows():
    model = AllocationModel(mechanism="ranking", prior="beta(a=2, b=5)", n_agents=3, n_items=40,
                            instances_per_step=25, rng=1)
    for _ in range(4):
        model.step()
    assert model.steps == 4 and model.instances_done == 100
    steps = model.datacollector.get_model_vars_dataframe()
    assert len(steps) == 4 and (steps["instances"] == 25).all()
    assert ((steps["welfare_ratio"] > 0) & (steps["welfare_ratio"] <= 1)).all()
    agents = model.datacollector.get_agent_vars_dataframe()
    assert len(agents) == 4 * 3
    inst = model.instance_frame()
    assert len(inst) == 100 and inst["instance"].is_unique
    assert {"mechanism", "prior", "n_agents", "n_items"} <= set(inst.columns)
    rows = model.agent_frame()
    assert len(rows) == 300
    assert (rows.groupby("instance")["items"].sum() == 40).all()  # every item allocated


def test_run_allocates_a_smaller_last_batch():
    model = AllocationModel(mechanism="ranking", n_items=10, instances_per_step=3, rng=0)
    model.run(7)
    steps = model.datacollector.get_model_vars_dataframe()
    assert model.instances_done == 7 and steps["instances"].tolist() == [3, 3, 1]
    assert model.instance_frame()["instance"].tolist() == list(range(7))


def test_model_metrics_equal_a_direct_computation():
    model = AllocationModel(mechanism="pick-r", mechanism_params={"r": [0.4, 0.6]}, n_items=30,
                            instances_per_step=7, rng=3)
    model.step()
    # Replay the same draw outside the model.
    values = model.prior.sample(np.random.default_rng(3), 2, 30, batch=7)
    owner = mechanisms.get("pick-r", r=[0.4, 0.6]).allocate(values)
    u = utilities(values, owner)
    np.testing.assert_allclose(model.agent_frame().sort_values(["instance", "agent"])["utility"], u.ravel())


def test_liars_record_what_truth_would_have_got_them():
    model = AllocationModel(mechanism="welfare-max", n_agents=2, n_items=50,
                            strategies=[Exaggerate(), "truthful"], instances_per_step=20, rng=5)
    model.run(40)
    rows = model.agent_frame()
    liar, honest = rows[rows.agent == 0], rows[rows.agent == 1]
    assert (liar["gain"] > 0).all()  # wins every item it values, strictly more than the truth gives
    assert (honest["gain"] == 0).all()
    # The recorded truthful utility is what truth gives against the others' actual bids.
    values = model.prior.sample(np.random.default_rng(5), 2, 50, batch=20)
    u_truth = utilities(values, mechanisms.get("welfare-max").allocate(values))[:, 0]
    np.testing.assert_allclose(liar["truthful_utility"].to_numpy()[:20], u_truth)


def test_lying_never_pays_under_pick_r():
    model = AllocationModel(mechanism="pick-r", n_agents=3, n_items=30, strategies=["truthful", Reverse(), Reverse()],
                            instances_per_step=50, rng=9)
    model.run(100)
    assert (model.agent_frame()["gain"] <= 1e-12).all()


def test_same_seed_same_rows_different_seed_different_rows():
    def rows(seed):
        m = AllocationModel(mechanism="ranking", n_agents=2, n_items=20, instances_per_step=10, rng=seed)
        m.run(30)
        return m.agent_frame()

    assert rows(4).equals(rows(4))
    assert not rows(4).equals(rows(5))


def test_mesa_batch_run_works_on_the_model():
    results = mesa.batch_run(
        AllocationModel,
        parameters={"mechanism": ["pick-r", "ranking"], "n_items": [20], "instances_per_step": [5]},
        rng=[1, 2], max_steps=3, number_processes=1, display_progress=False,
    )
    assert len(results) >= 4
    assert {r["mechanism"] for r in results} == {"pick-r", "ranking"}
    assert all(0 < r["welfare_ratio"] <= 1 for r in results)


@pytest.mark.parametrize("kwargs, message", [
    ({"n_agents": 0}, "number of agents must be a positive integer"),
    ({"n_items": -3}, "number of items must be a positive integer"),
    ({"strategies": ["truthful"] * 3}, "3 strategies for 2 agents"),
    ({"strategies": "nope"}, "unknown strategy 'nope'"),
    ({"mechanism": "pick-r", "mechanism_params": {"r": [0.2, 0.2, 0.6]}}, "3 entries but there are 2 agents"),
    ({"prior": "uniform; uniform; uniform"}, "describes 3 agents"),
])
def test_bad_model_arguments_are_refused(kwargs, message):
    with pytest.raises(TfdError, match=message):
        AllocationModel(**kwargs)


def test_agents_act_and_the_datacollector_holds_what_each_round_gave():
    """Bidders report in their own step and learners learn in theirs; the DataCollector's rows per
    round are each agent's outcome of that round, read straight off the agents as a check."""
    import mesa

    from abm.learning import rounds_frame

    model = AllocationModel(mechanism="welfare-max", strategies=["hedge", "exaggerate"], n_items=6,
                            instances_per_step=5, rng=2, keep_rows=False)
    seen = []
    for _ in range(4):
        model.step()
        seen += [(b.index, float(b.gain.mean()), float(b.gain.max())) for b in model.bidders]
    assert all(isinstance(b, mesa.Agent) for b in model.bidders) and model.bidders[0].learns
    frame = rounds_frame(model)
    assert list(zip(frame["agent"], frame["gain"], frame["max_instance_gain"])) == seen
    assert frame["round"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    assert frame["regret"].notna().tolist() == [True, False] * 4  # the learner's column, empty for the other


def test_the_truthful_counterfactual_is_the_allocation_with_the_true_row():
    from abm import mechanisms
    from abm.metrics import truthful_utilities, utilities

    rng = np.random.default_rng(0)
    values = rng.random((7, 3, 5))
    bids = values.copy()
    bids[:, 1] *= rng.uniform(0.2, 3.0, (7, 5))  # agent 1 lies
    mech = mechanisms.get("welfare-max")
    owner = mech.allocate(bids)
    got = truthful_utilities(mech, values, bids, owner, utilities(values, owner), [1])
    honest = bids.copy()
    honest[:, 1] = values[:, 1]
    np.testing.assert_array_equal(got[:, 1], utilities(values, mech.allocate(honest))[:, 1])
    np.testing.assert_array_equal(got[:, [0, 2]], utilities(values, owner)[:, [0, 2]])  # truthful agents: as they got


def test_the_moran_process_is_a_mesa_model_of_individuals():
    import mesa

    from abm.population import MoranProcess, moran

    run = moran(generations=30, size=12, seed=4)
    assert run.counts.groupby("generation")["count"].sum().eq(12).all()
    last = run.counts[run.counts.generation == 30].set_index("strategy")["share"].to_dict()
    assert last == run.final
    assert issubclass(MoranProcess, mesa.Model)
