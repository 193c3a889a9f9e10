"""The evaluation: one record per origin, target and forecaster, and the scores read from it.

``records.py`` turns the backtest's per-origin JSON into the long table every score reads
(each row carries its target, horizon, vintage, refit and forecast); ``tables.py`` scores
it (per forecaster on its own origins, paired differences on the intersection, circular
block bootstrap); ``report.py`` draws and writes what a reader sees. Like Prophet's
``cross_validation`` and ``performance_metrics``: the metrics never assume a horizon or an
origin set, they read them from the rows.
"""
