"""What happened after a forecast origin, and what was known before it (catalogue only).

Two targets, both over the forecast weeks (origin, origin + horizon]:

- ``liquidity_event``: any week of a counted catalogued liquidity event (an event already
  under way at the origin that continues into the window counts, as in the forecast);
- ``qe_restart``: an announced restart (selected definition) in the window; only defined
  when the Fed is not already buying at the origin (``qe_at_risk``), as in the model.

Climatology uses only weeks whose whole window ended by the origin, so it is known then.
The catalogue is dated ex post: an event's weeks before an origin are taken as known at the
origin; that is the one piece of hindsight in the backtest, and it is stated in the report.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from data.catalogue import liquidity_event_weeks, qe_weeks

TARGETS = ("liquidity_event", "qe_restart")


def window_weeks(origin: pd.Timestamp, horizon: int) -> pd.DatetimeIndex:
    return pd.date_range(origin + pd.Timedelta(weeks=1), periods=horizon, freq="7D")


def realized(origin: pd.Timestamp, horizon: int, qe_definition: str) -> dict:
    """Outcomes in the window after ``origin``; ``qe_restart`` is None when not at risk."""
    weeks = window_weeks(origin, horizon)
    events = liquidity_event_weeks(weeks)
    qe_at_origin = qe_weeks(pd.DatetimeIndex([origin]), qe_definition)
    at_risk = bool(qe_at_origin["at_risk"].iloc[0]) and not qe_at_origin["restart"].iloc[0]
    restarts = qe_weeks(weeks, qe_definition)["restart"]
    return {
        "liquidity_event": int(events["any"].max()),
        "qe_at_risk": at_risk,
        "qe_restart": int(restarts.max()) if at_risk else None,
    }


def window_indicator(indicator: np.ndarray, horizon: int) -> np.ndarray:
    """out[t] = 1 if indicator is 1 in any of weeks t+1..t+horizon (NaN when not all seen)."""
    n = len(indicator)
    out = np.full(n, np.nan)
    for t in range(n - horizon):
        out[t] = float(indicator[t + 1 : t + 1 + horizon].max())
    return out


def history_targets(weeks: pd.DatetimeIndex, horizon: int, qe_definition: str) -> pd.DataFrame:
    """Per week up to the origin: whether each target happened in the next ``horizon`` weeks.

    NaN where the window runs past the last week (not yet known at the origin), and for
    ``qe_restart`` where the Fed was buying (not at risk).
    """
    events = liquidity_event_weeks(weeks)["any"].to_numpy()
    qe = qe_weeks(weeks, qe_definition)
    restart_next = window_indicator(qe["restart"].to_numpy(), horizon)
    at_risk = (qe["at_risk"].to_numpy() > 0) & (qe["restart"].to_numpy() == 0)
    restart_next[~at_risk] = np.nan
    return pd.DataFrame(
        {"liquidity_event": window_indicator(events, horizon), "qe_restart": restart_next},
        index=weeks,
    )


def climatology(weeks: pd.DatetimeIndex, horizon: int, qe_definition: str) -> dict[str, float]:
    """Share of past windows (fully observed by the last week) in which each target happened.

    A +1/+2 (Laplace) correction keeps a target never seen so far at a small positive rate
    instead of an impossible zero.
    """
    targets = history_targets(weeks, horizon, qe_definition)
    out = {}
    for name in TARGETS:
        known = targets[name].dropna()
        out[name] = float((known.sum() + 1) / (len(known) + 2))
    return out
