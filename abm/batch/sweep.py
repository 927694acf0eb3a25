"""Sweeps: a grid of runs described in a TOML or YAML file (safely loaded) or on the command line.

```toml
seed = 7                 # base seed; run k draws from SeedSequence(seed, spawn_key=(k,))
instances = 100          # instances per run
instances_per_step = 1   # optional: learners update after every step (default: memory-sized steps)
replications = 2
agents = [2, 3]
items = [100, 1000]
priors = ["uniform", "beta(a=2, b=5)"]
strategies = ["truthful"]          # each entry: one strategy for all agents, or a list per agent
mechanisms = ["pick-r(r=[0.3, 0.7])", "ranking"]
```

A mechanism is written as everywhere else, ``pick-r(r=[0.3, 0.7])``. A table entry (``name =
"pick-r"`` with its parameters as fields) also reads, and there a list of vectors sweeps them.

Runs are the Cartesian product, in a fixed order, so a run's position (its ``run``
number) and hence its seed do not depend on how or where it is executed.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from abm.errors import TfdError

__all__ = ["Sweep", "Run", "load_sweep", "SweepError"]


class SweepError(TfdError):
    """A malformed sweep; the message names the field."""


@dataclass(frozen=True)
class Run:
    run: int
    replication: int
    mechanism: dict
    prior: str
    n_agents: int
    n_items: int
    strategies: tuple
    instances: int
    instances_per_step: int | None = None


FIELDS = {"seed", "instances", "instances_per_step", "replications", "agents", "items", "priors", "strategies",
          "mechanisms"}


def _declared(name: str, value):
    """``value`` checked by the field's declaration (:data:`abm.batch.parameters.SWEEP`), the
    message the command line gives for the same value, said of the file's field."""
    from abm.batch.parameters import SWEEP

    option = SWEEP[name]
    try:
        return option.check(value)
    except TfdError as exc:
        said = str(exc)
        raise SweepError(f"sweep field '{name}' {said[len(option.label) + 1:]}" if said.startswith(option.label + " ")
                         else f"sweep field '{name}': {said}") from None


def _from_text(text: str, k: int) -> dict:
    """A mechanism entry written in the one grammar, ``"pick-r(r=[0.3, 0.7])"``, as the table entry
    it stands for (exact fractions kept as "a/b" text, which the mechanisms read exactly)."""
    from fractions import Fraction

    from abm.mechanisms import grammar

    try:
        name, params = grammar.read(text)
    except TfdError as exc:
        raise SweepError(f"sweep field 'mechanisms[{k}]': {str(exc).splitlines()[0]}") from None

    def plain(v):
        if isinstance(v, Fraction):
            return f"{v.numerator}/{v.denominator}" if v.denominator != 1 else v.numerator
        return [plain(x) for x in v] if isinstance(v, list) else v

    entry = {"name": name, **{key: plain(v) for key, v in params.items()}}
    for key, v in entry.items():  # a vector in the text is one value, not a sweep of numbers
        if isinstance(v, list):
            entry[key] = [v]
    return entry


def _scalar(v) -> bool:
    return isinstance(v, (int, float, str)) and (not isinstance(v, float) or math.isfinite(v))


def _expand(entry: dict, k: int) -> list[dict]:
    """A mechanism entry's parameters: a number, text, true/false, or a vector (a list of
    numbers) each give one value; a list of vectors sweeps them (``r = [[0.3, 0.7], [0.5,
    0.5]]`` is two mechanisms). The prior is the sweep's own field, never a parameter."""
    grid = {}
    for key, v in entry.items():
        where = f"sweep field 'mechanisms[{k}].{key}'"
        if key == "name":
            continue
        if key in ("prior", "priors"):
            raise SweepError(f"{where}: a mechanism entry takes the mechanism's parameters; give the prior in the "
                             "sweep's 'priors' field")
        if _scalar(v) or (isinstance(v, list) and v and all(_scalar(x) for x in v)):
            grid[key] = [v]
        elif isinstance(v, list) and v and all(isinstance(x, list) and x and all(_scalar(y) for y in x) for x in v):
            grid[key] = list(v)  # a list of vectors: one mechanism per vector
        else:
            raise SweepError(f"{where} must be a number, text, true/false, a list of numbers (a vector) or a list of "
                             f"vectors (swept); got {json.dumps(v, default=str)[:60]}")
    keys = list(grid)
    return [{"name": entry["name"], **dict(zip(keys, combo))} for combo in itertools.product(*grid.values())]


@dataclass
class Sweep:
    mechanisms: list = field(default_factory=lambda: [{"name": "pick-r"}])
    priors: list = field(default_factory=lambda: ["uniform"])
    agents: list = field(default_factory=lambda: [2])
    items: list = field(default_factory=lambda: [100])
    strategies: list = field(default_factory=lambda: ["truthful"])
    instances: int = 10
    replications: int = 1
    seed: int = 0
    #: instances per step; learners update after every step, so 1 makes every instance a
    #: round of repeated play. Default: as many as fit a step's memory budget.
    instances_per_step: int | None = None

    @classmethod
    def from_dict(cls, data: dict) -> "Sweep":
        if not isinstance(data, dict):
            raise SweepError("a sweep must be a table of fields (seed, instances, mechanisms, ...)")
        unknown = sorted(set(data) - FIELDS)
        if unknown:
            raise SweepError(f"unknown sweep field '{unknown[0]}'; accepted: {', '.join(sorted(FIELDS))}")
        s = cls()
        for name in ("seed", "instances", "replications", "instances_per_step", "agents", "items"):
            if name in data:
                value = data[name]
                if name in ("agents", "items") and not isinstance(value, (list, tuple)):
                    value = [value]  # one count may be written without brackets
                setattr(s, name, _declared(name, value))
        if "priors" in data:
            priors = data["priors"] if isinstance(data["priors"], list) else [data["priors"]]
            if not priors or not all(isinstance(p, str) and p.strip() for p in priors):
                raise SweepError("sweep field 'priors' must be a list of prior specs (strings)")
            s.priors = priors
        if "strategies" in data:
            strats = data["strategies"] if isinstance(data["strategies"], list) else [data["strategies"]]
            for k, st in enumerate(strats):
                ok = isinstance(st, str) or (isinstance(st, list) and st and all(isinstance(x, str) for x in st))
                if not ok:
                    raise SweepError(f"sweep field 'strategies[{k}]' must be a strategy name or a list of names")
            if not strats:
                raise SweepError("sweep field 'strategies' is empty")
            s.strategies = strats
        if "mechanisms" in data:
            mechs = data["mechanisms"] if isinstance(data["mechanisms"], list) else [data["mechanisms"]]
            if not mechs:
                raise SweepError("sweep field 'mechanisms' is empty")
            expanded = []
            for k, m in enumerate(mechs):
                if isinstance(m, str):
                    m = _from_text(m, k)
                elif not (isinstance(m, dict) and isinstance(m.get("name"), str)):
                    raise SweepError(f"sweep field 'mechanisms[{k}]' needs a 'name' (e.g. name = \"pick-r\")")
                expanded += _expand(m, k)
            s.mechanisms = expanded
        s.validate()
        return s

    def to_dict(self) -> dict:
        return asdict(self)

    def size(self) -> int:
        return (len(self.mechanisms) * len(self.priors) * len(self.agents) * len(self.items) * len(self.strategies)
                * self.replications)

    def runs(self) -> list[Run]:
        from abm.sizes import check_fits

        check_fits(1000.0 * self.size(), f"a sweep of {self.size():,} runs (its run list)",
                   "use fewer replications or a smaller grid, or split it into several sweeps")
        out = []
        grid = itertools.product(range(len(self.mechanisms)), self.priors, self.agents, self.items,
                                 range(len(self.strategies)), range(self.replications))
        for k, (mi, prior, n, m, si, rep) in enumerate(grid):
            st = self.strategies[si]
            st = tuple(st) if isinstance(st, list) else (st,)
            out.append(Run(k, rep, dict(self.mechanisms[mi]), prior, n, m, st, self.instances,
                           self.instances_per_step))
        return out

    def validate(self) -> None:
        """Build every (mechanism, prior, agents) once, so a bad combination fails before any run."""
        import strategies as strategy_registry
        from abm import mechanisms as M
        from abm.priors import parse_prior

        from abm.model import default_batch
        from abm.sizes import check_step

        for n in self.agents:
            for m in self.items:
                step = self.instances_per_step or default_batch(n, m, self.instances)
                try:
                    check_step(n, m, step, "use fewer items or agents, or a smaller instances_per_step")
                except TfdError as exc:
                    raise SweepError(f"sweep fields 'agents' and 'items': {exc}") from None
        priors = {}
        for k, p in enumerate(self.priors):
            try:
                priors[p] = parse_prior(p)
            except TfdError as exc:
                raise SweepError(f"sweep field 'priors[{k}]': {exc}") from None
        for k, spec in enumerate(self.mechanisms):
            params = {kk: v for kk, v in spec.items() if kk != "name"}
            for p, prior in priors.items():
                for n in self.agents:
                    try:
                        prior.check_agents(n)
                        mech = M.get(spec["name"], prior=prior, **params)
                        mech.check_agents(n)
                    except (TfdError, TypeError, ValueError) as exc:
                        raise SweepError(f"sweep field 'mechanisms[{k}]' ({spec['name']}) with prior {p!r} and "
                                         f"{n} agents: {str(exc).splitlines()[0] if str(exc) else exc!r}") from None
        for k, st in enumerate(self.strategies):
            names = st if isinstance(st, list) else [st]
            parsed = []
            for name in names:
                try:
                    parsed.append(strategy_registry.parse(name))
                except TfdError as exc:
                    raise SweepError(f"sweep field 'strategies[{k}]': {exc}") from None
            seers = sum(bool(x.classifier.get("clairvoyant")) for x in parsed)
            if seers > 1 or (seers and not isinstance(st, list) and max(self.agents) > 1):
                raise SweepError(f"sweep field 'strategies[{k}]': at most one agent may play a clairvoyant strategy "
                                 "(one that reads the others' reports); list one strategy per agent")
            if isinstance(st, list) and any(len(st) != n for n in self.agents):
                raise SweepError(f"sweep field 'strategies[{k}]' lists {len(st)} strategies but agents are "
                                 f"{self.agents}; give one name for all agents or one per agent")

    def fingerprint(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


def _yaml(text: str):
    """``yaml.safe_load`` without aliases: an alias (``*name``) repeats a node by reference, and a
    few lines of nested aliases expand to billions of values (the "billion laughs"), so a sweep
    file must write its values out."""
    import yaml

    class NoAliases(yaml.SafeLoader):
        def compose_node(self, parent, index):
            if self.check_event(yaml.events.AliasEvent):
                mark = self.peek_event().start_mark
                raise SweepError(f"line {mark.line + 1}: YAML aliases (*name) are not accepted in sweep files; "
                                 "write the values out")
            return super().compose_node(parent, index)

    from abm.readers import refuse_duplicate_keys

    return yaml.load(text, Loader=refuse_duplicate_keys(NoAliases, SweepError))  # noqa: S506 - a SafeLoader subclass


def load_sweep(path) -> Sweep:
    """Read a sweep from ``.toml`` (tomllib) or ``.yaml``/``.yml`` (yaml's safe loader, no aliases)."""
    import tomllib

    import yaml

    path = Path(path)
    if not path.exists():
        raise SweepError(f"no sweep file at {str(path)!r}")
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml"):
        raise SweepError(f"sweep files must end in .toml, .yaml or .yml, got {path.name!r}")
    try:
        text = path.read_text()
        data = tomllib.loads(text) if suffix == ".toml" else _yaml(text)
    except SweepError as exc:
        raise SweepError(f"cannot read {path.name}: {exc}") from None
    except (tomllib.TOMLDecodeError, yaml.YAMLError, UnicodeDecodeError, RecursionError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SweepError(f"cannot parse {path.name}: {first}") from None
    return Sweep.from_dict(data)
