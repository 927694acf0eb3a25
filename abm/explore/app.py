"""The explorer page: Mesa's SolaraViz around an :class:`~abm.explore.session.Explorer`.

Served by ``tfd explore`` (``solara run abm.explore.app``). The sidebar is Mesa's: its
controls (Reset, play, Step) and the model parameters below, which take effect on Reset.
The main view has a status card (the settings, or the parser's message for bad input),
the welfare ratio against the theory's line, the fairness rates, each agent's gain over
truthful play, one instance drawn as a picture, and the audit panel.

A fresh model plays its first :data:`WARM_UP_STEPS` steps by itself, so the charts move
as soon as the page opens; Mesa's controls take over from there.
"""

from __future__ import annotations

import html
import threading
import json
import os
import time

import ipyvuetify
import solara
import traitlets
from mesa.visualization import SolaraViz
from mesa.visualization.utils import force_update, update_counter

from abm import mechanisms
from abm.explore import charts
from abm.explore.parameters import PAGE
from abm.explore.session import Explorer, parameter_help

#: steps a fresh model plays by itself, one every WARM_UP_INTERVAL seconds
WARM_UP_STEPS, WARM_UP_INTERVAL = 40, 0.1
#: environment variable through which ``tfd explore`` passes its starting settings (JSON)
DEFAULTS_VARIABLE = "TFD_EXPLORE_DEFAULTS"

DEFAULTS = {opt.name: (str(opt.default) if opt.name == "seed" else opt.default) for opt in PAGE.options}


def starting_settings() -> dict:
    """DEFAULTS, overridden by the JSON object ``tfd explore`` put in the environment."""
    given = json.loads(os.environ.get(DEFAULTS_VARIABLE, "{}") or "{}")
    return {**DEFAULTS, **{k: v for k, v in given.items() if k in DEFAULTS}}


#: the mechanism menu, read once (available() scans the installed packages' entry points)
MECHANISM_NAMES = [info.name for info in mechanisms.available()]


def model_params(settings: dict) -> dict:
    """Mesa's input descriptions for the sidebar, starting at ``settings``, made from the page's
    declaration (:data:`abm.explore.parameters.PAGE`): a bounded whole number is a slider over its
    declared range, the mechanism a menu of the registered ones, every other field a text box."""
    names = MECHANISM_NAMES + ([settings["mechanism"]] if settings["mechanism"] not in MECHANISM_NAMES else [])
    out = {}
    for option in PAGE.options:
        low, high, _, _ = option.bounds
        value = settings[option.name]
        if option.name == "mechanism":
            out[option.name] = {"type": "Select", "value": value, "values": names, "label": option.help}
        elif option.base is int and low is not None and high is not None:
            out[option.name] = {"type": "SliderInt", "value": value, "min": low, "max": high, "step": 1,
                                "label": option.help}
        else:
            out[option.name] = {"type": "InputText", "value": str(value), "label": option.help}
    return out


def _page_watch():
    """A callable that says whether a browser page is still connected to this session: a
    closed tab's session lives on for the cull timeout, and its warm-up should not."""
    try:
        from solara.server import kernel_context

        context = kernel_context.get_current_context()
        connected = kernel_context.PageStatus.CONNECTED
    except RuntimeError:  # no kernel context: not served by solara (a notebook, a test), assume a page
        return lambda: True
    return lambda: not context.page_status or connected in context.page_status.values()


@solara.component
def Status(model: Explorer):
    """The run's settings and progress, or the input error; plays the warm-up steps."""
    update_counter.get()

    def warm_up(cancel):
        pause = 0.0  # the first step at once
        page = _page_watch()
        for _ in range(WARM_UP_STEPS):
            # rest at least as long as the last re-render took, so a slow machine (or a big m)
            # is not sent steps faster than it can show them
            if cancel.wait(pause) or model.allocation is None or not page():
                return
            model.step()
            start = time.perf_counter()
            force_update()  # re-renders the components in this thread
            pause = max(WARM_UP_INTERVAL, time.perf_counter() - start)

    solara.use_thread(warm_up, dependencies=[id(model)], intrusive_cancel=False)
    with solara.Card("Run", classes=["tfd-status"]):
        if model.internal:
            ErrorCard(model.internal)
            return
        if model.error:
            solara.Error(f"Input not accepted: {model.error}. Change it in the sidebar and press Reset.",
                         classes=["tfd-error"])
            return
        a = model.allocation
        info = a.mechanism.info
        instances = model.history[-1]["instances"] if model.history else 0
        _lines(f"{a.mechanism.name} ({info.reference}); claim: {info.claim}",
               f"prior {a.prior.spec}; {a.n_agents} agents x {a.n_items} items; "
               f"strategies: {', '.join(b.label.split('(')[0] for b in a.bidders)}",
               f"step {len(model.history)}, {instances:,} instances; theory: {model.prediction.label}",
               parameter_help(info), bold_first=True, classes=["tfd-run"])


class EChart(ipyvuetify.VuetifyTemplate):
    """An ECharts figure drawn in the browser from an option dict (see ``echart.vue``)."""

    template_file = (__file__, "echart.vue")
    option = traitlets.Dict({}).tag(sync=True)
    height = traitlets.Unicode("300px").tag(sync=True)
    #: the ECharts build solara-assets ships (solara's own FigureEcharts loads the same)
    version = traitlets.Unicode("5.4.0").tag(sync=True)


def _figure(option: dict, name: str, height: int = 300):
    # the class names the chart (for people's CSS and for the browser test)
    with solara.Column(classes=["tfd-chart", f"tfd-{name}"]) as column:
        EChart.element(option=option, height=f"{height}px")
    return column


# Each chart is a component of its own, not a plain function: Mesa wraps plain functions in a
# new component at every render of its grid, which remounts them (and reloads ECharts) when
# the page settles after opening. Components keep their widgets; update_counter redraws them.


def _waiting(name: str, height: int = 300):
    # an empty chart, not text: the browser loads ECharts while the first step runs
    return _figure(charts.placeholder(name), name, height)


def _history_view(model: Explorer, name: str, draw):
    """A chart of the run's history: ``draw(history, gains)`` gives its option."""
    update_counter.get()
    history, gains = model.frames()
    if history.empty:
        return _waiting(name)
    return _figure(draw(history, gains), name)


@solara.component
def Welfare(model: Explorer):
    return _history_view(model, "welfare", lambda h, g: charts.welfare_chart(h, model.prediction, model.confidence))


@solara.component
def Rates(model: Explorer):
    return _history_view(model, "rates", lambda h, g: charts.rates_chart(h, model.confidence))


@solara.component
def Gains(model: Explorer):
    return _history_view(model, "gains", lambda h, g: charts.gains_chart(g, model.confidence))


@solara.component
def Instance(model: Explorer):
    update_counter.get()
    table = model.instance()
    n = model.allocation.n_agents if model.allocation is not None else 1
    if table is None:
        return _waiting("instance", height=170 + 34 * n)
    return _figure(charts.instance_chart(table, n), "instance", height=170 + 34 * n)


def _lines(*lines: str, bold_first: bool = False, classes=()):
    """Plain lines as HTML, escaped (solara's Markdown would fetch KaTeX from a CDN)."""
    parts = [html.escape(line) for line in lines]
    if bold_first and parts:
        parts[0] = f"<b>{parts[0]}</b>"
    solara.HTML(tag="div", unsafe_innerHTML="<br>".join(parts), classes=list(classes))


def ErrorCard(line: str):
    """A bug, shown as a card with its one line (which names the saved traceback), never as a
    traceback page."""
    with solara.Card("Internal error", classes=["tfd-internal-error"]):
        solara.Error(f"{line}. The page still works: change the settings and press Reset.")


def audit_outcome(error: BaseException) -> tuple[str, str]:
    """How the page shows an audit that ended with ``error``: (kind, one line), where kind is
    "cancelled", "refused" (bad input, or past the work guard) or "internal" (a bug)."""
    from abm.errors import AuditCancelled, TfdError, internal_error

    if isinstance(error, AuditCancelled):
        return "cancelled", "audit cancelled"
    if isinstance(error, TfdError):
        return "refused", f"audit refused: {str(error).splitlines()[0]}"
    return "internal", internal_error(error, "tfd explore audit")[0]


@solara.component
def AuditPanel(model: Explorer):
    """Runs the DSIC or BIC audit of the current settings on request, in a thread; Cancel, or
    closing the tab, stops it at its next checkpoint."""
    kind, set_kind = solara.use_state("auto")
    request, set_request = solara.use_state(0)
    cancel = solara.use_memo(threading.Event, [])

    def work():
        if request == 0 or model.allocation is None:
            return None
        cancel.clear()
        page = _page_watch()
        return model.audit(None if kind == "auto" else kind, stop=lambda: cancel.is_set() or not page())

    result = solara.use_thread(work, dependencies=[request, id(model)])
    with solara.Card("Audit: can an agent gain by lying here?", classes=["tfd-audit"]):
        with solara.Row():
            solara.ToggleButtonsSingle(value=kind, on_value=set_kind, values=["auto", "DSIC", "BIC"])
            solara.Button("Run audit", color="primary", on_click=lambda: set_request(request + 1),
                          disabled=model.allocation is None or result.state == solara.ResultState.RUNNING,
                          classes=["tfd-run-audit"])
            solara.Button("Cancel", on_click=cancel.set, disabled=result.state != solara.ResultState.RUNNING,
                          classes=["tfd-cancel-audit"])
        if result.state == solara.ResultState.RUNNING:
            solara.ProgressLinear(True)
            solara.Text("auditing ...")
        elif result.state == solara.ResultState.ERROR:
            outcome, line = audit_outcome(result.error)
            if outcome == "internal":
                ErrorCard(line)
            elif outcome == "cancelled":
                solara.Info(line)
            else:
                solara.Error(line)
        elif result.value is not None:
            v = result.value
            with solara.Column(classes=["tfd-audit-result"]):
                _lines(f"{v.kind}: {v.verdict}", v.status, *v.details, f"({v.seconds:.1f} s)", bold_first=True,
                       classes=["tfd-verdict"])
                if v.witness is not None:
                    solara.Text("Shrunk witness (agents and items numbered from 1):")
                    solara.DataFrame(v.witness.round(3), items_per_page=10)
        else:
            solara.Text("auto: BIC for rules that claim only BIC (Ranking), DSIC otherwise.")


@solara.component
def Page():
    # one model per browser session: two tabs do not step each other's runs
    settings = solara.use_memo(starting_settings, [])
    model = solara.use_memo(lambda: Explorer(**settings), [])
    SolaraViz(model, components=[Status, Welfare, Rates, Gains, Instance, AuditPanel],
              model_params=model_params(settings), name="tfd explore: truthful fair division")
