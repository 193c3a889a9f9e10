"""How the objective episodes relate to the catalogue: recall, lags and the extra episodes.

A reader should be able to see that the rules of :mod:`data.episodes` measure the same thing
as the catalogue before trusting skill measured on them: which counted events they find and
how many weeks from the catalogued start, and which episodes the catalogue does not count
(with the catalogue's own row when it lists the episode as not counted).
"""

from __future__ import annotations

import pandas as pd

from data.catalogue import liquidity_events, week_of
from data.episodes import EPISODE_KINDS, Episode, objective_episodes
from data.panel import Panel

#: An episode "finds" a catalogued event if it is under way in the event's weeks, or starts
#: at most this many weeks after the event's last week (a late signal still counts, with
#: its lag shown).
MATCH_WEEKS_AFTER = 4


def overlaps(episode: Episode, start: pd.Timestamp, end: pd.Timestamp) -> bool:
    return episode.start <= end + pd.Timedelta(weeks=MATCH_WEEKS_AFTER) and episode.end >= start


def catalogue_recall(panel: Panel) -> pd.DataFrame:
    """One row per counted catalogue event: the first matching episode of each kind."""
    found = objective_episodes(panel)
    rows = []
    for event in liquidity_events().itertuples():
        start, end = week_of(event.start), week_of(event.end)
        row = {"id": event.id, "event": event.name, "kind": event.kind, "start": str(start.date())}
        for kind in EPISODE_KINDS:
            match = next((e for e in found[kind] if overlaps(e, start, end)), None)
            row[f"{kind}_lag_weeks"] = (
                None if match is None else int((match.start - start).days // 7)
            )
        row["found"] = any(row[f"{k}_lag_weeks"] is not None for k in EPISODE_KINDS)
        rows.append(row)
    return pd.DataFrame(rows)


def extra_episodes(panel: Panel) -> pd.DataFrame:
    """Episodes (either kind) that overlap no counted event, with any uncounted catalogue row."""
    counted = liquidity_events()
    everything = liquidity_events(counted_only=False)
    uncounted = everything[everything["counts_as_event"] != "yes"]
    rows = []
    for episode in objective_episodes(panel)["any"]:
        if any(overlaps(episode, week_of(e.start), week_of(e.end)) for e in counted.itertuples()):
            continue
        listed = [
            f"{e.id} {e.name}"
            for e in uncounted.itertuples()
            if overlaps(episode, week_of(e.start), week_of(e.end))
        ]
        rows.append(
            {
                **episode.to_dict(),
                "kind": "+".join(kinds_of(panel, episode)),
                "catalogue_not_counted": "; ".join(listed),
            }
        )
    return pd.DataFrame(rows)


def kinds_of(panel: Panel, episode: Episode) -> list[str]:
    found = objective_episodes(panel)
    return [
        k
        for k in EPISODE_KINDS
        if any(e.start <= episode.end and e.end >= episode.start for e in found[k])
    ]


def per_year(panel: Panel) -> pd.DataFrame:
    """Episode onsets per calendar year and kind."""
    found = objective_episodes(panel)
    years = range(panel.frame.index[0].year, panel.frame.index[-1].year + 1)
    return pd.DataFrame(
        {
            kind: [sum(e.start.year == y for e in found[kind]) for y in years]
            for kind in (*EPISODE_KINDS, "any")
        },
        index=list(years),
    )


def markdown(panel: Panel) -> str:
    """The tables ``docs/backtest.md`` shows (``python -m diagnostics episodes``)."""
    found = objective_episodes(panel)
    counts = ", ".join(f"{kind} {len(found[kind])}" for kind in (*EPISODE_KINDS, "any"))
    parts = [
        f"Episodes on the panel to {panel.cutoff.date()}: {counts}.",
        "",
        "Recall of the catalogue's counted events (lag: weeks from the catalogued "
        "start to the episode's start; blank: not found):",
        "",
        catalogue_recall(panel).fillna("").to_markdown(index=False),
        "",
        "Episodes the catalogue does not count:",
        "",
        extra_episodes(panel).to_markdown(index=False),
        "",
        "Onsets per year:",
        "",
        per_year(panel).T.to_markdown(),
    ]
    return "\n".join(parts) + "\n"
