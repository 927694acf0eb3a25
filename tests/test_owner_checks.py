"""What a mechanism returns is checked where the audit, the model and the CLI receive it: a rule
whose owners are out of range, negative, missing, of the wrong shape or not integers is refused
with one line naming the rule and the first bad entry, never audited as clean."""

import numpy as np
import pytest

import planted
from abm.audit import dsic_audit
from abm.cli import main
from abm.errors import MechanismError
from abm.model import AllocationModel

BROKEN = [("OwnerOutOfRange", "returned owner 7 at index"), ("NegativeOwner", "returned owner -1 at index"),
          ("MissingOwner", "returned owner None at index"), ("WrongShape", "of shape"),
          ("FloatOwners", "of dtype float64")]


@pytest.mark.parametrize("name, message", BROKEN)
def test_the_audit_refuses_a_rule_that_returns_no_valid_allocation(name, message):
    with pytest.raises(MechanismError, match=message) as info:
        dsic_audit(getattr(planted, name)(), "uniform", 3, 5, profiles=5, seed=1)
    assert f"planted:{name}" in str(info.value)


@pytest.mark.parametrize("name, message", BROKEN)
def test_the_model_refuses_it(name, message):
    model = AllocationModel(getattr(planted, name)(), "uniform", n_agents=2, n_items=4, rng=3)
    with pytest.raises(MechanismError, match=message):
        model.step()


@pytest.mark.parametrize("command", [["audit", "dsic"], ["simulate"]])
@pytest.mark.parametrize("name, message", BROKEN)
def test_the_cli_refuses_it_in_one_line(capsys, command, name, message):
    code = main(command + ["--mechanism", f"planted:{name}", "--agents", "2", "--items", "5", "--no-progress"]
                + (["--profiles", "4"] if command[0] == "audit" else ["--instances", "3"]))
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err and "Traceback" not in err


def test_a_valid_allocation_of_any_integer_dtype_is_accepted():
    from abm.mechanisms.base import check_owner

    for dtype in (np.int8, np.uint16, np.int64):
        out = check_owner(planted.OwnerOutOfRange(), np.array([[0, 1, 2]], dtype=dtype), (1, 3, 3))
        assert out.dtype == np.int64 and out.tolist() == [[0, 1, 2]]
