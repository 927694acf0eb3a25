"""The explorer page's fields, declared once (:mod:`abm.declare`): the page's form
(:func:`abm.explore.app.model_params`), the session's checks (:class:`abm.explore.session.Explorer`)
and the flags of ``tfd explore`` are made from these, so a bad value gets one message on the
page and on the command line. Kept free of Mesa and Solara, so the command line reads it cheaply."""

from __future__ import annotations

from abm import declare as d
from abm import options as o

__all__ = ["PAGE", "EXPLORE", "MAX_AGENTS", "MAX_ITEMS", "MAX_INSTANCES_PER_STEP"]

#: largest sizes the page offers: a step must stay well under the play interval
MAX_AGENTS, MAX_ITEMS, MAX_INSTANCES_PER_STEP = 6, 200, 500

#: the page's fields, in the sidebar's order; each is an argument of ``Explorer``
PAGE = d.Entry("the explorer page", (
    o.MECHANISM.with_(flag="", help="mechanism"),
    d.Option("params", d.text(words="the mechanism's parameters in the one grammar, like r=[0.3, 0.7]"),
             "mechanism parameters, e.g. r=[0.3, 0.7] (the run card lists what the mechanism takes)", default="",
             flag=""),
    o.PRIOR.with_(flag="", help="prior, e.g. beta(a=2, b=5), or one per agent: uniform; beta(a=1, b=3)"),
    d.Option("n_agents", d.whole(1, MAX_AGENTS), "agents n", default=2, flag=""),
    d.Option("n_items", d.whole(1, MAX_ITEMS), "items m", default=20, flag=""),
    o.STRATEGIES.with_(flag="", help="strategies: one, or one per agent (e.g. hedge,truthful)"),
    d.Option("instances_per_step", d.whole(1, MAX_INSTANCES_PER_STEP), "instances per step", default=50, flag=""),
    o.SEED.with_(flag="", help="seed")), "the explorer page's settings")
# a field on the page always has a value: None is refused, not read as "unset"
PAGE = d.Entry(PAGE.name, tuple(x.with_(nullable=False) for x in PAGE.options), PAGE.summary)

_FLAGS = {"mechanism": "--mechanism", "prior": "--prior", "n_agents": "--agents", "n_items": "--items",
          "strategies": "--strategies", "instances_per_step": "--instances-per-step", "seed": "--seed"}

#: ``tfd explore``: where to serve, and the page's starting settings (the mechanism in the one grammar)
EXPLORE = d.Entry("tfd explore", (
    d.Option("host", d.text(words="an address such as 127.0.0.1"), "address to listen on (127.0.0.1: this "
             "machine only)", default="127.0.0.1"),
    d.Option("port", d.whole(0, 65535), "port (0 for any free port)", default=8765),
    d.Option("no_open", d.switch(), "do not open a browser window", default=False),
    *(PAGE[name].with_(flag=flag, help="starting " + PAGE[name].help) for name, flag in _FLAGS.items())),
    "open the interactive explorer in the browser")
