"""Mutants nobody chose: the catalogue's DSIC rules, mutated by Cosmic Ray's operators.

The hand-written zoo (:mod:`abm.mutants.dsic`) holds flaws somebody thought of. Here a
mutation-testing tool writes them: every operator of Cosmic Ray's core set (arithmetic,
comparison and unary operators swapped, ``and``/``or``, ``True``/``False``, numbers changed,
``break``/``continue``, loops that run zero times, decorators removed, exceptions replaced)
at every place it applies, in the lines of ``abm/mechanisms/`` that the DSIC rules' ``allocate``
actually runs (traced, not listed). Cosmic Ray was chosen over mutmut because it exposes its
operators as a library (``mutate_code(source, operator, occurrence)``): a mutant is a source
text we load and audit in-process, with no test runner and no rewrite of the tree on disk.

Each mutant is loaded as a private copy of its module (the package itself, and the audit's own
helpers, stay unmutated) and judged per rule that runs the mutated line:

* **ground truth** by enumeration at m = 4 and 5: on profiles drawn from the rule's prior (half
  rounded to quarter levels, for ties and zeros), every strict ranking and every report over
  four levels is tried for every agent. A report that gains on profiles drawn from the prior
  proves the mutant *manipulable*; one that gains only on the rounded profiles, *manipulable
  only with ties* (the audit's continuous priors never draw those, so these are listed, not
  counted in the kill rate). Allocations identical to the original's on all of it make it
  *equivalent*; otherwise, with no gain found, it is *still truthful* at those sizes. A
  mutant that raises, returns no valid allocation, allocates a profile differently in a
  batch than alone, or runs past :data:`TIME_LIMIT` is *broken* and discarded (counted).
* **the audit**, for manipulable mutants: :func:`abm.audit.dsic_audit` at the zoo's budget
  (m = 50, 200 profiles, everything else at its defaults). *Caught* when it reports a
  violation whose witness replays through the mutant. For one it does not catch, a referee
  searches the same size with ten times the budget on every pair: a lie it finds makes the
  mutant *missed* (and a *false proof* if the audit certified it, ``exact``); none found,
  *no lie at the audited size* (a flaw of small m only, by the evidence: the kill rate is
  given with and without these).
"""

from __future__ import annotations

import dataclasses
import importlib
import signal
import sys
import time
import types
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from abm.spec import whole
from abm.mutants.parameters import ZOO

__all__ = ["Mutant", "RULES", "generate", "run_mutant", "run_generated", "traced_lines"]

#: seconds a mutant may take for its ground truth and its audit together before it counts as broken
TIME_LIMIT = 60.0
CORRELATED = "copula(uniform, beta(a=2, b=5), rho=0.5)"


@dataclass(frozen=True)
class Rule:
    """A DSIC rule of the catalogue, built from a module (the original or a mutant) for m items."""

    label: str
    module: str
    agents: int
    prior: str
    build: object  # (module, m) -> Mechanism


def _composition(mod, m):
    cut = m // 2
    return mod.Composition([mod.Component(tuple(range(cut)), mod.Picking(0, sizes=[max(1, cut // 2)])),
                            mod.Component(tuple(range(cut, m)), mod.Exchange(list(range(0, m - cut, 2))))])


#: the DSIC rules of the catalogue, by the module that defines them (the zoo's controls)
RULES = [
    Rule("pick-r", "abm.mechanisms.picking", 2, "uniform", lambda mod, m: mod.PickR([0.3, 0.7])),
    Rule("pick-r-3", "abm.mechanisms.picking", 3, "uniform", lambda mod, m: mod.PickR()),
    Rule("serial-dictatorship", "abm.mechanisms.picking", 2, "uniform", lambda mod, m: mod.SerialDictatorship()),
    Rule("picking", "abm.mechanisms.menus", 2, "uniform",
         lambda mod, m: mod.Picking(1, sizes=[max(1, m // 5), max(1, m // 2)])),
    Rule("exchange", "abm.mechanisms.menus", 2, "uniform", lambda mod, m: mod.Exchange(list(range(0, m, 2)))),
    Rule("composition", "abm.mechanisms.menus", 2, "uniform", _composition),
    Rule("pick-correlated", "abm.mechanisms.presets", 2, CORRELATED,
         lambda mod, m: mod.PickCorrelated(prior=CORRELATED)),
    Rule("pick-optimal", "abm.mechanisms.presets", 3, "beta(a=2, b=5)",
         lambda mod, m: mod.PickOptimal(prior="beta(a=2, b=5)")),
]
_BY_LABEL = {r.label: r for r in RULES}


@dataclass(frozen=True)
class Mutant:
    module: str
    operator: str
    occurrence: int  # the operator's occurrence in the module, in Cosmic Ray's walk order
    line: int
    rules: tuple  # labels of the rules whose allocate runs this line

    @property
    def name(self) -> str:
        return f"{self.module.rsplit('.', 1)[-1]}:{self.line} {self.operator.split('/')[-1]} #{self.occurrence}"


def _source(module: str) -> tuple[str, str]:
    path = importlib.import_module(module).__file__
    return path, Path(path).read_text()


def traced_lines(rule: Rule) -> set[int]:
    """Lines of the rule's module that its ``allocate`` runs, on profiles of 5, 6 and 50 items
    with and without ties (``sys.settrace``: the code that decides allocations, found, not listed)."""
    from abm.priors import parse_prior

    module = importlib.import_module(rule.module)
    path = module.__file__
    lines: set[int] = set()

    def local(frame, event, arg):
        if event == "line":
            lines.add(frame.f_lineno)
        return local

    def tracer(frame, event, arg):
        return local if frame.f_code.co_filename == path else None

    rng = np.random.default_rng(0)
    prior = parse_prior(rule.prior)
    cases = []
    for m in (5, 6, 50):
        mech = rule.build(module, m)
        values = prior.sample(rng, rule.agents, m, batch=8)
        cases += [(mech, values), (mech, np.round(values * 4) / 4)]
    sys.settrace(tracer)
    try:
        for mech, values in cases:
            mech.allocate(values)
            mech.allocate(values[0])
    finally:
        sys.settrace(None)
    return lines


def _operators() -> list[str]:
    import cosmic_ray.plugins

    return [n for n in cosmic_ray.plugins.operator_names()
            if not cosmic_ray.plugins.get_operator(n).arguments()]  # those needing arguments are per-project


def generate(modules=None) -> list[Mutant]:
    """Every mutant of every no-argument Cosmic Ray operator on the traced lines of ``modules``
    (default: every module that defines a DSIC rule), in a fixed order."""
    import cosmic_ray.plugins
    from cosmic_ray.ast import ast_nodes, get_ast

    wanted = sorted({r.module for r in RULES} if modules is None else set(modules))
    out = []
    for module in wanted:
        runs = {r.label: traced_lines(r) for r in RULES if r.module == module}
        _, text = _source(module)
        nodes = list(ast_nodes(get_ast(text)))
        for op_name in _operators():
            op = cosmic_ray.plugins.get_operator(op_name)()
            occurrence = 0
            for node in nodes:
                for _ in op.mutation_positions(node):
                    line = node.start_pos[0]
                    rules = tuple(label for label, lines in runs.items() if line in lines)
                    if rules:
                        out.append(Mutant(module, op_name, occurrence, line, rules))
                    occurrence += 1
    return out


def load(mutant: Mutant) -> tuple[types.ModuleType, str]:
    """The mutated module as a private module object (not left in ``sys.modules``), and the changed
    line's text. Raises SyntaxError (and whatever executing it raises) for a broken mutant."""
    import cosmic_ray.plugins
    from cosmic_ray.mutating import mutate_code

    path, text = _source(mutant.module)
    mutated = mutate_code(text, cosmic_ray.plugins.get_operator(mutant.operator)(), mutant.occurrence)
    if mutated is None:
        raise LookupError(f"{mutant.name}: the operator has no such occurrence")
    module = types.ModuleType(f"{mutant.module}__mutant", f"mutant of {mutant.module}")
    module.__file__ = path
    module.__package__ = mutant.module.rsplit(".", 1)[0]
    # under its private name only while it runs: dataclasses look their module up there
    sys.modules[module.__name__] = module
    try:
        exec(compile(mutated, f"<mutant {mutant.name}>", "exec"), module.__dict__)  # noqa: S102 - our code, mutated
    finally:
        del sys.modules[module.__name__]
    changed = mutated.splitlines()[mutant.line - 1].strip() if mutant.line <= len(mutated.splitlines()) else ""
    return module, changed


def ground_truth(rule: Rule, mutated, original, rng, profiles: int = 24) -> tuple[str, str]:
    """("manipulable" | "manipulable only with ties" | "equivalent" | "still truthful", detail) by
    enumeration at m = 4 and 5: first on profiles drawn from the rule's prior (what the audit
    draws), then on the same profiles rounded to quarter levels (ties and zeros, which a
    continuous prior never draws). Raises for a broken mutant, including one whose allocation
    of a profile depends on the other profiles of its batch (no mechanism at all)."""
    from abm.audit.search import report_grid
    from abm.audit.properties import check_batching
    from abm.mechanisms.base import allocation
    from abm.metrics import gain_counts, utilities
    from abm.priors import parse_prior

    prior = parse_prior(rule.prior)
    differs = False
    drawn = {m: prior.sample(rng, rule.agents, m, batch=profiles) for m in (4, 5)}
    for kind in ("drawn", "tied"):
        for m in (4, 5):
            mech, orig = rule.build(mutated, m), rule.build(original, m)
            values = drawn[m].copy()
            top = np.maximum(values.max(axis=(-2, -1), keepdims=True), np.finfo(float).tiny)
            if kind == "tied":
                values = np.round(values / top * 4) / 4 * top
            check_batching(mech, values)
            family = report_grid(m, top[:, 0, 0])  # (P, C, m)
            truthful = utilities(values, allocation(mech, values))
            differs |= bool((allocation(orig, values) != allocation(mech, values)).any())
            for i in range(rule.agents):
                batch = np.repeat(values[:, None], family.shape[1], axis=1)
                batch[:, :, i, :] = family
                owner = allocation(mech, batch)
                differs |= bool((owner != allocation(orig, batch)).any())
                u = np.where(owner == i, values[:, None, i, :], 0.0).sum(axis=-1)
                gain = u.max(axis=-1) - truthful[:, i]
                won = gain_counts(gain, values[:, i, :])
                if won.any():
                    k = int(np.argmax(won))
                    verdict = "manipulable" if kind == "drawn" else "manipulable only with ties"
                    return verdict, f"agent {i} gains {gain[k]:.4g} at m = {m} (profile {k}, {kind} values)"
    return ("still truthful", "allocations differ from the original's, no report gains") if differs else (
        "equivalent", "allocations identical to the original's on every report tried")


#: the referee's local-search evaluations per pair (the audit's default is 200), on every pair
REFEREE_BUDGET = 2000


def _referee(mech, rule: Rule, n_items: int, profiles: int, seed: int) -> str:
    """For a mutant the audit did not catch: a search at the audited size with ten times the
    budget on every (profile, agent) pair, proven or not, on other profiles. A lie it finds (and
    replays) shows the flaw is there at this size, so the audit missed it; none found says the
    flaw the enumeration proved at m = 4, 5 may not exist at m = n_items (evidence, not proof).
    Returns the lie in words, or ""."""
    from abm.audit import dsic_audit
    from abm.audit.witness import gain_of
    from abm.metrics import gain_counts

    a = dsic_audit(mech, rule.prior, rule.agents, n_items, profiles=profiles, seed=seed + 1, shrink=False,
                   budget=REFEREE_BUDGET, cross_check=profiles * rule.agents)
    if not a.summary["violations"] or a.witness is None:
        return ""
    w = a.witness
    values = np.asarray(w.values)
    g = gain_of(mech, values, w.agent, np.asarray(w.misreport))[0]
    return f"the referee finds agent {w.agent} gaining {g:.4g}" if gain_counts(g, values[w.agent]) else ""


class _TimedOut(Exception):
    pass


def _alarm(signum, frame):
    raise _TimedOut()


def run_mutant(mutant: Mutant | dict, n_items: int = 50, profiles: int = 200, seed: int = 0) -> list[dict]:
    """One row per rule the mutant reaches: its ground truth, and for a manipulable one the audit's
    outcome (caught, missed, false proof)."""
    from abm.audit import dsic_audit
    from abm.audit.witness import gain_of
    from abm.metrics import gain_counts

    mutant = Mutant(**mutant) if isinstance(mutant, dict) else mutant
    key = zlib.crc32(f"{mutant.module}|{mutant.operator}|{mutant.occurrence}".encode())
    rows = []
    base = {"mutant": mutant.name, "module": mutant.module, "line": mutant.line, "operator": mutant.operator,
            "occurrence": mutant.occurrence}
    t0 = time.perf_counter()
    try:
        mutated, changed = load(mutant)
    except Exception as exc:  # noqa: BLE001 - a mutant that does not even load is broken, and counted
        return [{**base, "rule": label, "changed": "", "truth": "broken", "outcome": "discarded",
                 "detail": f"does not load: {type(exc).__name__}", "false_proof": False,
                 "seconds": round(time.perf_counter() - t0, 3)} for label in mutant.rules]
    original = importlib.import_module(mutant.module)
    for label in mutant.rules:
        rule = _BY_LABEL[label]
        t0 = time.perf_counter()
        row = {**base, "rule": label, "changed": changed, "false_proof": False}
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT)
        try:
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(key, 1)))
            truth, detail = ground_truth(rule, mutated, original, rng)
            row.update(truth=truth, detail=detail)
            if truth != "manipulable":
                row["outcome"] = "not audited"
            else:
                job_seed = int(np.random.SeedSequence(seed, spawn_key=(key, 2)).generate_state(1)[0])
                mech = rule.build(mutated, n_items)
                s_audit = dsic_audit(mech, rule.prior, rule.agents, n_items, profiles=profiles, seed=job_seed,
                                     shrink=False)
                s = s_audit.summary
                caught = s["violations"] > 0 and s_audit.witness is not None
                if caught:
                    w = s_audit.witness
                    values = np.asarray(w.values)
                    caught = bool(gain_counts(gain_of(mech, values, w.agent, np.asarray(w.misreport))[0],
                                              values[w.agent]))
                row["audit"] = (f"{s['violations']} of {s['pairs']} pairs violated; proven {s['proven_pairs']}; "
                                f"{s['proof_note']}")
                if caught:
                    row["outcome"] = "caught"
                else:  # is there a lie at this size at all? a referee with far more search says
                    lie = _referee(mech, rule, n_items, profiles, job_seed)
                    row["outcome"] = "missed" if lie else "no lie at the audited size"
                    row["false_proof"] = bool(lie and s["exact"])
                    row["referee"] = lie or (f"no lie found on any of {profiles * rule.agents} pairs with "
                                             f"{REFEREE_BUDGET} evaluations each")
        except _TimedOut:
            row.update(truth="broken", outcome="discarded", detail=f"ran past {TIME_LIMIT:g} s")
        except Exception as exc:  # noqa: BLE001 - a mutant that raises is broken: discarded and counted
            row.update(truth="broken", outcome="discarded",
                       detail=f"raises {type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        row["seconds"] = round(time.perf_counter() - t0, 3)
        rows.append(row)
    return rows


@ZOO.checked
def run_generated(n_items: int = 50, profiles: int = 200, seed: int = 0, workers: int = 2, sample: int | None = None,
                  modules=None, progress=None) -> tuple[pd.DataFrame, dict]:
    """Generate the mutants (or a seeded ``sample`` of them), judge and audit each; returns one row
    per (mutant, rule) and the counts."""
    from abm.batch.executors import execute
    from abm.errors import TfdError

    try:
        import cosmic_ray  # noqa: F401
    except ImportError:
        raise TfdError("generated mutants need Cosmic Ray, the [mutants] extra: pip install 'tfd-testbed[mutants]'") \
            from None
    t0 = time.perf_counter()
    mutants = generate(modules)
    generated = len(mutants)
    if sample is not None:
        whole(sample, "sample (a number of mutants)")
        pick = np.random.default_rng(seed).choice(generated, size=min(sample, generated), replace=False)
        mutants = [mutants[k] for k in sorted(pick)]
    jobs = [(dataclasses.asdict(m), n_items, profiles, seed) for m in mutants]
    rows = []
    for _, result in execute(run_mutant, jobs, "processes" if workers > 1 and len(jobs) > 1 else "serial", workers):
        rows += result
        if progress is not None:
            progress(result)
    frame = pd.DataFrame(rows).sort_values(["module", "line", "operator", "occurrence", "rule"], ignore_index=True)
    return frame, summarize(frame, generated, len(mutants), n_items, profiles, seed, time.perf_counter() - t0)


def summarize(frame: pd.DataFrame, generated: int, run: int, n_items: int, profiles: int, seed: int,
              seconds: float) -> dict:
    pairs = len(frame)
    count = lambda mask: int(mask.sum())  # noqa: E731
    manipulable = frame.truth == "manipulable"
    caught = count(frame.outcome == "caught")
    missed = frame[frame.outcome == "missed"]
    absent = frame[frame.outcome == "no lie at the audited size"]
    return {
        "generated": generated, "mutants_run": run, "mutant_rule_pairs": pairs, "items": n_items,
        "profiles": profiles, "seed": seed,
        "discarded": count(frame.truth == "broken"), "equivalent": count(frame.truth == "equivalent"),
        "manipulable_only_with_ties": count(frame.truth == "manipulable only with ties"),
        "still_truthful": count(frame.truth.isin(["still truthful", "equivalent"])),
        "manipulable": count(manipulable), "caught": caught, "missed": len(missed),
        "no_lie_at_audited_size": len(absent),
        "kill_rate": caught / count(manipulable) if manipulable.any() else None,
        "kill_rate_where_a_lie_exists": caught / (caught + len(missed)) if caught + len(missed) else None,
        "false_proofs": count(frame.false_proof),
        "discard_reasons": frame.loc[frame.truth == "broken", "detail"].str.split(":").str[0].value_counts().to_dict(),
        "missed_mutants": [f"{r.mutant} on {r.rule}: {r.changed}" for r in missed.itertuples()],
        "no_lie_at_audited_size_mutants": [f"{r.mutant} on {r.rule}: {r.changed}" for r in absent.itertuples()],
        "seconds": round(seconds, 1),
    }
