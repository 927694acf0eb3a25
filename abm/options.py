"""The parameters that several entry points share, declared once (:mod:`abm.declare`).

An entry point takes one of these as it is, or with another default or help
(``AGENTS.with_(default=3)``); its range and its messages stay the ones declared here.
"""

from __future__ import annotations

from pathlib import Path

from abm import declare as d
from abm.errors import TfdError

__all__ = ["AGENTS", "ITEMS", "SEED", "PRIOR", "MECHANISM", "STRATEGIES", "INSTANCES", "INSTANCES_PER_STEP",
           "CONFIDENCE", "JSON", "OUT", "NO_PROGRESS", "CSV", "check_folder", "check_file"]

def _prior(value) -> None:
    from abm.priors import parse_prior

    parse_prior(value)


def _mechanism(value) -> None:
    from abm.mechanisms import Mechanism, grammar

    if not isinstance(value, Mechanism):
        grammar.read(value)


def _strategies(value) -> None:
    import strategies

    from abm.spec import split_top_level

    if isinstance(value, strategies.Strategy):
        return
    items = split_top_level(value) if isinstance(value, str) else list(value)
    if not items or any(isinstance(s, str) and not s.strip() for s in items):
        raise TfdError(f"strategies must name at least one strategy, with none left empty, got {value!r}")
    for s in items:
        if isinstance(s, str):
            strategies.parse(s)
        elif not isinstance(s, strategies.Strategy):
            raise TfdError(f"strategies must be names or Strategy objects, got {type(s).__name__}")


def check_folder(value: str) -> None:
    """An output folder: a name, not an existing file, in a place where files can be created
    (a temporary file is made there and removed). The folder itself is made when there is
    something to write."""
    import tempfile

    from abm import files

    if not value.strip():
        raise TfdError("expected a folder name, got an empty string")
    path = Path(value)
    try:
        if path.exists() and not path.is_dir():
            raise TfdError(f"{value!r} is a file; expected a folder (new or existing)")
        folder = path
        while not folder.exists():
            folder = folder.parent
        if not folder.is_dir():
            raise TfdError(f"{str(folder)!r} is a file, so nothing can be written under it")
        try:
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as exc:
            raise TfdError(f"cannot write in {str(folder)!r}: {exc.strerror or exc}") from None
    except OSError as exc:  # a name too long even to look up, a folder without write permission
        raise TfdError(files.describe(exc)) from None


def check_file(value: str) -> None:
    """An input file: it must exist and be a file."""
    if not value.strip():
        raise TfdError("expected a file name, got an empty string")
    path = Path(value)
    if path.is_dir():
        raise TfdError(f"{value!r} is a folder; expected a file")
    if not path.exists():
        raise TfdError(f"no file at {value!r}")


def _is_prior(value) -> bool:
    from abm.priors import Prior

    return isinstance(value, Prior)


def _is_mechanism(value) -> bool:
    from abm.mechanisms import Mechanism

    return isinstance(value, Mechanism)


def _are_strategies(value) -> bool:
    import strategies

    return isinstance(value, (list, tuple, strategies.Strategy))


AGENTS = d.Option("n_agents", d.whole(1), "number of agents n", default=2, flag="--agents")
ITEMS = d.Option("n_items", d.whole(1), "number of items m", default=1000, flag="--items")
SEED = d.Option("seed", d.whole(0), "random seed; the same seed gives the same output", default=0)
PRIOR = d.Option("prior", d.text(_prior, "a prior such as uniform, 'beta(a=2, b=5)' or 'uniform; beta(a=1, b=3)'",
                                        also=_is_prior),
                 "value prior, e.g. uniform, 'beta(a=2, b=5)', 'uniform; beta(a=2, b=5)' (one per agent), "
                 "'copula(uniform, rho=0.5)', 'hard(p=0.01, delta=0.001)'", default="uniform")
MECHANISM = d.Option("mechanism", d.text(_mechanism, "a mechanism such as pick-r or 'pick-r(r=[0.3, 0.7])'",
                                                 also=_is_mechanism),
                     "a mechanism with its parameters, e.g. pick-r, 'pick-r(r=[0.3, 0.7])', "
                     "'picking(picker=0, sizes=[3, 5])' or 'package.module:ClassName(threshold=0.7)' for your own "
                     "(tfd mechanisms lists them)", default="pick-r")
STRATEGIES = d.Option("strategies", d.text(_strategies, "one strategy, or one per agent separated by commas",
                                                also=_are_strategies),
                      "one strategy for all agents or a comma-separated list, one per agent (tfd strategies "
                      "lists them)", default="truthful")
INSTANCES = d.Option("instances", d.whole(1), "number of instances K", default=1000)
INSTANCES_PER_STEP = d.Option("instances_per_step", d.whole(1),
                              "instances per model step (default: as many as fit a step's memory budget)")
CONFIDENCE = d.Option("confidence", d.real(0, 1, open_low=True, open_high=True), "confidence level of intervals",
                      default=0.95)
JSON = d.Option("json", d.switch(), "print one JSON object instead of a table", default=False)
OUT = d.Option("out", d.text(check_folder, "a folder name (new or existing) in a writable place"),
               "folder for the results")
NO_PROGRESS = d.Option("no_progress", d.switch(), "hide the progress bar", default=False)
CSV = d.Option("csv", d.switch(), "with --out: also write the rows as CSV", default=False)


def _items_of(value, what: str) -> list:
    """A comma list (text) or a Python list, each entry non-empty and none given twice."""
    from abm.spec import split_top_level

    items = split_top_level(value) if isinstance(value, str) else list(value)
    if not items or any(isinstance(x, str) and not x.strip() for x in items):
        raise TfdError(f"{what} must list at least one entry, separated by commas, with none empty; got {value!r}")
    seen = set()
    for x in items:
        key = x.strip() if isinstance(x, str) else repr(x)
        if key in seen:
            raise TfdError(f"{what} names {key} twice; give each once")
        seen.add(key)
    return items


def _mechanism_list(value) -> None:
    for x in _items_of(value, "mechanisms"):
        _mechanism(x)


def strategy_menu(name: str, help: str, default=None) -> d.Option:
    """A list of strategies each named once (a tournament's players, an evolving population's menu)."""

    def check(value) -> None:
        import strategies

        built = []
        for x in _items_of(value, name):
            _strategies(x)
            one = strategies.parse(x) if isinstance(x, str) else x
            if one in built:  # "truthful" and "truthful()" are one strategy
                raise TfdError(f"{name} names {one!r} twice; give each strategy once")
            built.append(one)

    return d.Option(name, d.text(check, "strategies separated by commas, each named once", also=_is_list), help,
                    default=default)


def _is_list(value) -> bool:
    return isinstance(value, (list, tuple))


MECHANISMS = d.Option("mechanisms", d.text(_mechanism_list, "mechanisms in the one grammar separated by commas",
                                           also=_is_list),
                      "comma-separated mechanisms in the one grammar, e.g. 'pick-r(r=[0.3, 0.7]),ranking'")
WORKERS = d.Option("workers", d.whole(1, 256), "worker processes", default=2)
WITNESS = d.Option("witness", d.text(check_file, "the name of an existing file"),
                   "witness.json from an audit's --out folder", default=d.REQUIRED, positional=True)
