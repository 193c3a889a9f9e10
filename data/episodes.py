"""Objective stress episodes: rules on the panel that date funding and volatility stress.

The catalogue (``data/catalogue``) counts nine liquidity events in twenty years, too few to
tell forecasters apart. These rules date stress from the data themselves, so skill can be
measured on more episodes. They were fixed before any forecaster was scored on them, and
their reasons are in ``docs/backtest.md`` ("Objective episodes"); changing a number here is
a new rule version (:data:`RULES_VERSION`), and the earlier version's scores stay reported.

- **funding**: the week's maximum daily funding spread (overnight rate minus administered
  rate, ``funding_spread_max``) is at least :data:`FUNDING_EXCESS_BP` above its median over
  the previous :data:`FUNDING_WINDOW_WEEKS` weeks *measured on the same basis* (SOFR or fed
  funds, against IORB, IOER, the top of the range or the single target). Comparing like with
  like keeps a change of measured pair (SOFR replacing EFFR in 2018, IORB replacing the top of
  the range in 2021) from reading as stress; a median rather than a high quantile keeps one
  earlier spike (September 2019) from hiding the next (March 2020).
- **volatility**: the week's maximum MOVE close (``move_max``) is at least
  :data:`VOLATILITY_RATIO` times the median weekly mean MOVE of the previous
  :data:`VOLATILITY_WINDOW_WEEKS` weeks: a jump relative to the recent level, so a long
  high-volatility period (2022-2024) is not one endless episode.
- **episodes**: a qualifying week opens an episode when the previous
  :data:`CALM_WEEKS` weeks did not qualify; the episode ends at its last qualifying week
  followed by :data:`CALM_WEEKS` weeks that do not. The same number both ways, so any two
  episodes of a kind are at least that many calm weeks apart. A week whose value or trailing
  window is not known does not qualify (it is never filled).

Only rows up to week t enter week t's flag, and every panel row holds only what was public on
its Wednesday, so an episode's dating uses data known at each week (tested).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from data.panel import Panel

RULES_VERSION = "1"
FUNDING_EXCESS_BP = 10.0
FUNDING_WINDOW_WEEKS = 52
FUNDING_MIN_WEEKS = 26
VOLATILITY_RATIO = 1.3
VOLATILITY_WINDOW_WEEKS = 26
VOLATILITY_MIN_WEEKS = 13
CALM_WEEKS = 8

EPISODE_KINDS = ("funding", "volatility")


def basis_group(label: pd.Series) -> pd.Series:
    """Comparable funding measurements: SOFR vs fed funds (EFFR and DFF alike) x admin rate.

    DFF stands in for EFFR on a few holiday weeks; it is the same overnight market, so the
    two share a group. A missing label (no spread that week) stays missing.
    """
    text = label.astype("string")
    overnight = text.str.split("-").str[0].replace({"DFF": "FF", "EFFR": "FF"})
    administered = text.str.split("-").str[1]
    return overnight + "-" + administered


def trailing_median(values: pd.Series, window: int, min_weeks: int) -> pd.Series:
    """Median of the previous ``window`` weeks (week t itself excluded)."""
    return values.shift(1).rolling(window, min_periods=min_weeks).median()


def funding_flags(panel: Panel) -> pd.Series:
    """Weeks whose funding spread is far above its recent normal on the same basis."""
    spread = panel.frame["funding_spread_max"]
    groups = basis_group(panel.funding_basis.reindex(spread.index))
    normal = pd.Series(np.nan, index=spread.index)
    for group in groups.dropna().unique():
        # each basis's own history: the window slides over that basis's weeks only
        same = spread.where(groups == group)
        normal = normal.where(
            groups != group, trailing_median(same, FUNDING_WINDOW_WEEKS, FUNDING_MIN_WEEKS)
        )
    return pd.Series(funding_qualifies(spread.to_numpy(), normal.to_numpy()), index=spread.index)


def volatility_flags(panel: Panel) -> pd.Series:
    """Weeks whose highest MOVE close jumps well above the recent median level."""
    normal = trailing_median(panel.frame["move"], VOLATILITY_WINDOW_WEEKS, VOLATILITY_MIN_WEEKS)
    qualifies = volatility_qualifies(panel.frame["move_max"].to_numpy(), normal.to_numpy())
    return pd.Series(qualifies, index=normal.index)


def funding_qualifies(spread_max: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """The funding rule on arrays: the week's maximum spread at least
    :data:`FUNDING_EXCESS_BP` above its normal (False where either is unknown). The panel's
    flags and the forecast's simulated paths both read it here."""
    with np.errstate(invalid="ignore"):
        return np.asarray(spread_max >= normal + FUNDING_EXCESS_BP) & np.isfinite(normal)


def volatility_qualifies(move_max: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """The volatility rule on arrays: the week's highest MOVE close at least
    :data:`VOLATILITY_RATIO` times its normal level (False where either is unknown)."""
    with np.errstate(invalid="ignore"):
        return np.asarray(move_max >= VOLATILITY_RATIO * normal) & np.isfinite(normal)


def opening_weeks(qualifying: np.ndarray, calm_weeks: int = CALM_WEEKS) -> np.ndarray:
    """(..., T) True where a week opens an episode: it qualifies, none of the
    ``calm_weeks`` weeks before it did, and that many weeks precede it (the calm before the
    first weeks of a sample is not known). The same openings as
    :func:`episodes_from_flags` (tested on the real panel)."""
    qualifying = np.asarray(qualifying, dtype=bool)
    padded = np.concatenate(
        [np.ones((*qualifying.shape[:-1], calm_weeks), dtype=bool), qualifying], axis=-1
    )
    windows = np.lib.stride_tricks.sliding_window_view(padded, calm_weeks, axis=-1)
    before = windows[..., : qualifying.shape[-1], :].any(axis=-1)
    return qualifying & ~before


@dataclass(frozen=True)
class Episode:
    kind: str
    start: pd.Timestamp
    end: pd.Timestamp
    peak_weeks: int  # qualifying weeks inside the episode

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "start": str(self.start.date()),
            "end": str(self.end.date()),
            "qualifying_weeks": self.peak_weeks,
        }


def episodes_from_flags(flags: pd.Series, kind: str, calm_weeks: int = CALM_WEEKS) -> list[Episode]:
    """Group qualifying weeks into episodes separated by at least ``calm_weeks`` calm weeks.

    The first qualifying week of the sample opens an episode only if ``calm_weeks`` weeks of
    data precede it (otherwise the calm before it is not known).
    """
    weeks = flags.index
    hits = np.flatnonzero(flags.to_numpy())
    episodes: list[Episode] = []
    group: list[int] = []
    for t in hits:
        if group and t - group[-1] > calm_weeks:
            episodes.append(Episode(kind, weeks[group[0]], weeks[group[-1]], len(group)))
            group = []
        if not group and not episodes and t < calm_weeks:
            continue
        group.append(t)
    if group:
        episodes.append(Episode(kind, weeks[group[0]], weeks[group[-1]], len(group)))
    return episodes


def flags(panel: Panel) -> pd.DataFrame:
    """Qualifying weeks per kind and for either kind (``any``)."""
    out = pd.DataFrame({"funding": funding_flags(panel), "volatility": volatility_flags(panel)})
    out["any"] = out["funding"] | out["volatility"]
    return out


def objective_episodes(panel: Panel) -> dict[str, list[Episode]]:
    """Episodes per kind, and ``any``: the union of both kinds' qualifying weeks."""
    qualifying = flags(panel)
    return {kind: episodes_from_flags(qualifying[kind], kind) for kind in (*EPISODE_KINDS, "any")}


def episode_weeks(panel: Panel) -> pd.DataFrame:
    """Per week: 1 while an episode of that kind is under way (start..end), else 0.

    Columns ``funding``, ``volatility`` and ``any``, the same layout as
    :func:`data.catalogue.liquidity_event_weeks` so either can label the model's events.
    """
    weeks = panel.frame.index
    out = pd.DataFrame(0, index=weeks, columns=[*EPISODE_KINDS, "any"], dtype=np.int8)
    for kind, episodes in objective_episodes(panel).items():
        for episode in episodes:
            out.loc[(weeks >= episode.start) & (weeks <= episode.end), kind] = 1
    return out
