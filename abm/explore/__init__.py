"""``tfd explore``: the testbed in the browser, on Mesa's SolaraViz page.

* :mod:`~abm.explore.session` -- :class:`Explorer`, the Mesa model behind the page: the
  page's text inputs parsed (never evaluated) into an :class:`~abm.model.AllocationModel`,
  bad input kept as a message for the page instead of raised, and the cumulative
  history the charts draw;
* :mod:`~abm.explore.instance` -- one instance as a table: who got which item, in which
  order (Pick-r's and round robin's picks) or at which rank (Ranking's deadlines);
* :mod:`~abm.explore.prediction` -- the theory's welfare ratio for the chosen rule;
* :mod:`~abm.explore.audit` -- the audit panel's DSIC or BIC audit at a page-sized budget;
* :mod:`~abm.explore.charts` -- the charts as ECharts options (plain dicts);
* :mod:`~abm.explore.app` -- the page, with ``echart.vue`` and ``assets/custom.js``;
  :mod:`~abm.explore.serve` -- starts solara's server;

Only ``app`` and ``serve`` need the ``viz`` extra (solara); the rest runs on the core
install, so it is tested without a browser too.
"""
