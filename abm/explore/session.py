"""The Mesa model behind the explorer page.

SolaraViz rebuilds the model from the page's inputs on Reset, calling
``Explorer(**inputs)``. The inputs are text and sliders; here they are parsed (never
evaluated) with the testbed's own parsers, and what they describe runs through an
:class:`~abm.model.AllocationModel`. Bad input does not raise: the model keeps the
one-line message in :attr:`Explorer.error` and does nothing, so the page shows the
message where a traceback would otherwise be. Anything else that goes wrong is a bug:
:attr:`Explorer.internal` keeps the one line :func:`abm.errors.internal_error` gives (its
traceback saved to a file) and the page shows it on an error card.
"""

from __future__ import annotations

import threading

import mesa

from abm import mechanisms as M
from abm.explore.instance import instance_table
from abm.errors import AuditCancelled, TfdError, internal_error
from abm.explore.prediction import Prediction, welfare_prediction
from abm.model import AllocationModel

from abm.explore.parameters import PAGE

#: an audit on the page is refused when estimated past this (the CLI's guard, at a page's patience)
PAGE_AUDIT_LIMIT_SECONDS = 120.0
#: the page's two tables, one row per step (history) and per agent and step (gains), kept by the
#: Explorer's Mesa DataCollector
HISTORY_COLUMNS = ["step", "instances", "welfare_ratio", "ratio_low", "ratio_high", "prediction",
                   *(f"{k}_{part}" for k in ("ef", "ef1", "prop") for part in ("rate", "low", "high"))]
GAIN_COLUMNS = ["step", "instances", "agent", "strategy", "mean_gain", "gain_low", "gain_high"]


def parse_params(text: str, mechanism: str | None = None) -> dict:
    """The page's parameter field, the inside of the mechanism's parentheses in the one grammar
    (``r=[0.3, 0.7]`` for ``pick-r(r=[0.3, 0.7])``, :mod:`abm.mechanisms.grammar`), read by the
    kinds ``mechanism`` declares."""
    from abm.mechanisms import grammar

    text = str(text or "").strip()
    if not text:
        return {}
    return grammar.read(f"{mechanism or 'pick-r'}({text})")[1]


def split_mechanism(text: str) -> tuple[str, str]:
    """``"pick-r(r=[0.3, 0.7])"`` as the page's two fields, ``("pick-r", "r=[0.3, 0.7]")``."""
    text = str(text).strip()
    name, paren, rest = text.partition("(")
    if not paren or not rest.rstrip().endswith(")"):
        return text, ""
    return name.strip(), rest.rstrip()[:-1].strip()


def parameter_help(info) -> str:
    """The run card's line on what the chosen mechanism takes, from its own declaration
    (:class:`abm.mechanisms.MechanismInfo`): ``"parameters: r (vector): shares ..."``."""
    typed = [f"{k} ({p.kind}): {p.help}" for k, p in info.parameters.items() if p.kind != "object"]
    return "parameters: " + ("; ".join(typed) if typed else "none from this page")


def _field(name: str, value):
    """A field of the page checked by its declaration (:data:`abm.explore.parameters.PAGE`); a
    text field's text read as the command line reads it."""
    option = PAGE[name]
    return option.read(value) if isinstance(value, str) and option.base in (int, float) else option.check(value)


class Explorer(mesa.Model):
    """One explorer session: the settings of the page, the run, and its history.

    Every step allocates ``instances_per_step`` instances and appends one row of the
    cumulative estimates (welfare ratio of expectations with its delta-method interval,
    EF/EF1/PROP rates with Clopper-Pearson intervals, each agent's mean gain over truthful
    play with its t interval) to the tables of its Mesa DataCollector, read as :attr:`history`
    and :attr:`gains`.
    """

    def __init__(self, mechanism: str = "pick-r", params: str = "", prior: str = "uniform", n_agents: int = 2,
                 n_items: int = 20, strategies: str = "truthful", instances_per_step: int = 50, seed="0",
                 confidence: float = 0.95, rng=None):
        self.error: str | None = None  # bad input, in one line
        self.internal: str | None = None  # a bug, in one line, with where its traceback was saved
        self.allocation: AllocationModel | None = None
        self.prediction = Prediction(None, "")
        self.confidence = confidence
        self._lock = threading.Lock()  # the page's Step button and its autoplay may both step
        started = False
        try:
            seed_value = _field("seed", seed)
            super().__init__(rng=seed_value)
            started = True
            from abm.spec import split_top_level

            n = _field("n_agents", n_agents)
            m = _field("n_items", n_items)
            per_step = _field("instances_per_step", instances_per_step)
            chosen = split_top_level(strategies or "truthful")
            self.allocation = AllocationModel(mechanism=mechanism, mechanism_params=parse_params(params, mechanism), prior=prior,
                                       n_agents=n, n_items=m, strategies=chosen[0] if len(chosen) == 1 else chosen,
                                       instances_per_step=per_step, rng=seed_value, keep_rows=False,
                                       keep_instance=True)
        except Exception as exc:  # noqa: BLE001 - the page must show something either way
            if not started:
                super().__init__(rng=0)
            self._collector()
            self._fail(exc)
            return
        self._collector()
        self.seed_value = seed_value
        self.prediction = welfare_prediction(self.allocation.mechanism, self.allocation.prior, n, m)

    def _collector(self) -> None:
        self.datacollector = mesa.DataCollector(tables={"history": HISTORY_COLUMNS, "gains": GAIN_COLUMNS})

    def _rows(self, table: str) -> list[dict]:
        columns = self.datacollector.tables[table]
        return [dict(zip(columns, row)) for row in zip(*columns.values())]

    @property
    def history(self) -> list[dict]:
        """One row per step: the cumulative estimates with their intervals (the DataCollector's table)."""
        return self._rows("history")

    @property
    def gains(self) -> list[dict]:
        """One row per agent and step: its mean gain over truthful play with its t interval."""
        return self._rows("gains")

    @property
    def mechanism(self) -> M.Mechanism | None:
        return None if self.allocation is None else self.allocation.mechanism

    def _fail(self, exc: Exception) -> None:
        """Bad input (a TfdError) becomes :attr:`error`; anything else, a bug, :attr:`internal`."""
        if isinstance(exc, TfdError):
            self.error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        else:
            self.internal = internal_error(exc, "tfd explore")[0]
        self.allocation = None
        self.running = False

    def step(self) -> None:
        if self.allocation is None:
            return
        with self._lock:
            try:
                self.allocation.step()
            except Exception as exc:  # noqa: BLE001 - a rule that breaks mid-run: say so on the page
                self._fail(exc)
                return
            s = self.allocation.summary(self.confidence)
            step = len(self.datacollector.tables["history"]["step"]) + 1
            row = {"step": step, "instances": s["instances"], "welfare_ratio": s["welfare_ratio"],
                   "ratio_low": s["welfare_ratio_ci"][0], "ratio_high": s["welfare_ratio_ci"][1],
                   "prediction": self.prediction.value}
            for key in ("ef", "ef1", "prop"):
                row[f"{key}_rate"] = s[f"{key}_rate"]
                row[f"{key}_low"], row[f"{key}_high"] = s[f"{key}_rate_ci"]
            self.datacollector.add_table_row("history", row)
            for a in s["agents"]:
                self.datacollector.add_table_row("gains", {
                    "step": step, "instances": s["instances"], "agent": a["agent"] + 1,
                    "strategy": a["strategy"].split("(")[0], "mean_gain": a["mean_gain"],
                    "gain_low": a["mean_gain_ci"][0], "gain_high": a["mean_gain_ci"][1]})

    def frames(self):
        """(history, gains) as DataFrames, copied under the lock: the page draws while steps run."""
        with self._lock:
            return (self.datacollector.get_table_dataframe("history").copy(),
                    self.datacollector.get_table_dataframe("gains").copy())

    def instance(self):
        """The last step's first instance as :func:`~abm.explore.instance.instance_table`, or None."""
        if self.allocation is None or self.allocation.instance is None:
            return None
        with self._lock:
            last = dict(self.allocation.instance)
        a = self.allocation
        return instance_table(a.mechanism, a.prior, last["values"], last["bids"], last["owner"])

    def audit(self, kind: str | None = None, progress=None, stop=None,
              limit_seconds: float = PAGE_AUDIT_LIMIT_SECONDS):
        """The audit panel's result (:class:`~abm.explore.audit.AuditView`) on these settings.

        Refused (a TfdError) when estimated past ``limit_seconds``, as the CLI refuses; ``stop``,
        a callable, is asked at every checkpoint of the audit, and when it says so the audit ends
        with :class:`~abm.errors.AuditCancelled` (the page's Cancel button, or its tab closed).
        """
        from abm.explore.audit import default_kind, run_audit

        if self.allocation is None:
            return None
        kind = kind or default_kind(self.allocation.mechanism)
        a = self.allocation

        def checkpoint(fraction):
            if stop is not None and stop():
                raise AuditCancelled("the audit was cancelled")
            if progress is not None:
                progress(fraction)

        return run_audit(kind, a.mechanism, a.prior, a.n_agents, a.n_items, seed=self.seed_value,
                         progress=checkpoint, limit_seconds=limit_seconds)
