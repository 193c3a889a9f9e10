"""Early-warning targets: the onset of a new event within h weeks, and who gets scored on it.

An origin is **scored for onset** only when no event is under way at it and none ended in
the ``post_weeks`` weeks before it; its outcome is 1 when an event starts in weeks
(origin, origin + horizon]. Origins inside an event or just after one are reported apart:
"will a new event start" is not the question a committee asks in the middle of one, and a
forecaster that carries an event on would otherwise score on hindsight of its own week.

Two event definitions share this rule:

- ``catalogue``: counted liquidity events of ``data/catalogue`` (dated ex post: an event's
  weeks up to the origin are taken as known then, which is the one piece of hindsight);
- ``objective``: episodes of either kind from the rules of :mod:`data.episodes`, which read
  only data known at each week.

``any_event_week`` (any event week within the horizon, ongoing events included) is kept as a
secondary target for continuity with the earlier backtests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from data.catalogue import liquidity_event_weeks
from data.episodes import episode_weeks
from data.panel import Panel
from diagnostics.evaluation.outcomes import window_indicator

EVENT_SOURCES = ("catalogue", "objective")
#: Weeks after an event's last week during which an origin is not scored for onset.
POST_EVENT_WEEKS = 13


def event_weeks(panel: Panel, source: str) -> pd.Series:
    """1 in every week an event of ``source`` is under way (0/1, int)."""
    weeks = pd.DatetimeIndex(panel.frame.index)
    if source == "catalogue":
        return liquidity_event_weeks(weeks)["any"].astype(int)
    if source == "objective":
        return episode_weeks(panel)["any"].astype(int)
    raise ValueError(f"unknown event source {source!r}; use one of {EVENT_SOURCES}")


def onsets(under_way: np.ndarray) -> np.ndarray:
    """1 in the first week of each run of event weeks."""
    under_way = np.asarray(under_way, dtype=int)
    previous = np.r_[0, under_way[:-1]]
    return ((under_way == 1) & (previous == 0)).astype(int)


def weeks_since_event(under_way: np.ndarray) -> np.ndarray:
    """Weeks since the last event week (0 inside an event, a large number before any)."""
    out = np.empty(len(under_way))
    last = -(10**6)
    for t, flag in enumerate(under_way):
        if flag:
            last = t
        out[t] = t - last
    return out


@dataclass(frozen=True)
class Targets:
    """Per week: onset-within-h outcome, whether the week is scored for onset, any-week."""

    frame: pd.DataFrame  # columns onset, scored, any_event_week, under_way

    def at(self, origin: pd.Timestamp) -> dict:
        row = self.frame.loc[origin]
        return {
            "onset": None if not row["scored"] or np.isnan(row["onset"]) else int(row["onset"]),
            "scored_for_onset": bool(row["scored"]),
            "any_event_week": None
            if np.isnan(row["any_event_week"])
            else int(row["any_event_week"]),
            "under_way": bool(row["under_way"]),
        }


def onset_targets(
    under_way: pd.Series, horizon: int, post_weeks: int = POST_EVENT_WEEKS
) -> Targets:
    """The onset and any-week targets for every week of ``under_way``.

    NaN where the window runs past the data (not yet known).
    """
    flags = under_way.to_numpy(dtype=int)
    onset_next = window_indicator(onsets(flags), horizon)
    any_next = window_indicator(flags, horizon)
    scored = weeks_since_event(flags) > post_weeks
    frame = pd.DataFrame(
        {
            "onset": onset_next,
            "scored": scored,
            "any_event_week": any_next,
            "under_way": flags.astype(bool),
        },
        index=under_way.index,
    )
    return Targets(frame)


def known_onset_history(
    under_way: pd.Series, horizon: int, origin: pd.Timestamp, post_weeks: int = POST_EVENT_WEEKS
) -> pd.DataFrame:
    """Past scored weeks whose onset window had closed by ``origin`` (for training/climatology).

    Computed from the event weeks up to ``origin`` only, so nothing after it is read.
    """
    known = under_way.loc[:origin]
    targets = onset_targets(known, horizon, post_weeks).frame
    return targets[targets["scored"] & targets["onset"].notna()]
