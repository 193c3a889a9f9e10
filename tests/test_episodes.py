"""Objective episode rules: on constructed series, and on the real snapshot's known events."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data import episodes as ep
from data.panel import Panel, build_panel


def synthetic_panel(
    spread: np.ndarray,
    move: np.ndarray,
    basis: list[str] | None = None,
    move_max: np.ndarray | None = None,
) -> Panel:
    weeks = pd.date_range("2010-01-06", periods=len(spread), freq="7D")
    frame = pd.DataFrame(
        {
            "funding_spread_max": spread,
            "move": move,
            "move_max": move if move_max is None else move_max,
        },
        index=weeks,
    )
    label = pd.Series(basis or ["SOFR-IORB"] * len(spread), index=weeks)
    return Panel(
        frame=frame,
        funding_basis=label,
        inputs=pd.DataFrame(),
        cutoff=weeks[-1],
        source="synthetic",
    )


def calm(n: int, rng_seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(rng_seed)
    return rng.integers(-3, 3, n).astype(float), 80 + rng.normal(0, 2, n)


def test_a_spike_after_calm_starts_one_funding_episode():
    spread, move = calm(80)
    spread[60] = 25.0  # ~25bp over a median of about -1
    found = ep.objective_episodes(synthetic_panel(spread, move))
    week_60 = pd.Timestamp("2010-01-06") + pd.Timedelta(weeks=60)
    assert [(e.start, e.end, e.peak_weeks) for e in found["funding"]] == [(week_60, week_60, 1)]
    assert found["volatility"] == []


def test_a_spike_just_under_the_excess_does_not_qualify():
    spread, move = np.zeros(80), np.full(80, 80.0)
    spread[60] = ep.FUNDING_EXCESS_BP - 1
    assert ep.objective_episodes(synthetic_panel(spread, move))["funding"] == []
    spread[60] = ep.FUNDING_EXCESS_BP
    assert len(ep.objective_episodes(synthetic_panel(spread, move))["funding"]) == 1


def test_chatter_within_the_calm_weeks_extends_the_episode_instead_of_starting_one():
    spread, move = np.zeros(120), np.full(120, 80.0)
    spread[[60, 60 + ep.CALM_WEEKS]] = 30.0  # the second is CALM_WEEKS - 1 calm weeks on
    spread[60 + 3 * ep.CALM_WEEKS] = 30.0  # far enough: a new episode
    found = ep.objective_episodes(synthetic_panel(spread, move))["funding"]
    weeks = synthetic_panel(spread, move).frame.index
    assert [(e.start, e.end) for e in found] == [
        (weeks[60], weeks[60 + ep.CALM_WEEKS]),
        (weeks[60 + 3 * ep.CALM_WEEKS], weeks[60 + 3 * ep.CALM_WEEKS]),
    ]
    assert found[0].peak_weeks == 2


def test_a_change_of_measured_pair_is_not_stress():
    """SOFR-IORB reads ~10bp above SOFR-top of range: the switch alone must not qualify."""
    spread = np.r_[np.full(60, -15.0), np.full(60, 0.0)]
    basis = ["SOFR-TOP"] * 60 + ["SOFR-IORB"] * 60
    found = ep.objective_episodes(synthetic_panel(spread, np.full(120, 80.0), basis))
    assert found["funding"] == []
    # without the same-basis rule the switch would have read as 15bp of stress
    assert (spread[60] - np.median(spread[8:60])) >= ep.FUNDING_EXCESS_BP


def test_a_move_jump_relative_to_its_recent_median_is_volatility_stress():
    spread = np.zeros(80)
    move = np.full(80, 80.0)
    high = move.copy()
    high[50] = 80 * ep.VOLATILITY_RATIO + 0.5
    found = ep.objective_episodes(synthetic_panel(spread, move, move_max=high))
    assert [e.start for e in found["volatility"]] == [synthetic_panel(spread, move).frame.index[50]]
    # a persistently high level is not a jump: once half the window sits at the new level
    # the median has caught up and the weeks stop qualifying
    level = np.r_[np.full(40, 80.0), np.full(40, 110.0)]
    found = ep.objective_episodes(synthetic_panel(spread, level))
    assert len(found["volatility"]) == 1
    assert found["volatility"][0].peak_weeks == ep.VOLATILITY_WINDOW_WEEKS // 2


def test_the_trailing_window_never_reads_a_future_week():
    spread, move = calm(150, rng_seed=3)
    spread[100], move[120] = 40.0, 140.0
    full = ep.flags(synthetic_panel(spread, move))
    for cut in (90, 101, 119, 121):
        spread_cut, move_cut = spread[:cut].copy(), move[:cut].copy()
        partial = ep.flags(synthetic_panel(spread_cut, move_cut))
        pd.testing.assert_frame_equal(partial, full.iloc[:cut])
    # and changing a later week leaves every earlier flag as it was
    spread_changed = spread.copy()
    spread_changed[130:] = 99.0
    changed = ep.flags(synthetic_panel(spread_changed, move))
    pd.testing.assert_frame_equal(changed.iloc[:130], full.iloc[:130])


def test_missing_weeks_never_qualify():
    spread, move = np.zeros(80), np.full(80, 80.0)
    spread[60] = np.nan
    move[61] = np.nan
    qualifying = ep.flags(synthetic_panel(spread, move))
    assert not qualifying.iloc[60:62].any().any()


# --- the real snapshot -----------------------------------------------------------------


@pytest.fixture(scope="module")
def real_episodes(panel):
    return ep.objective_episodes(panel)


def starts_near(episodes: list, date: str, weeks_before: int = 2, weeks_after: int = 4) -> bool:
    day = pd.Timestamp(date)
    return any(
        day - pd.Timedelta(weeks=weeks_before) <= e.start <= day + pd.Timedelta(weeks=weeks_after)
        or e.start <= day <= e.end
        for e in episodes
    )


@pytest.mark.parametrize(
    ("kind", "date", "what"),
    [
        ("funding", "2019-09-17", "September 2019 repo spike"),
        ("funding", "2020-03-16", "March 2020 dash for cash"),
        ("funding", "2025-10-31", "late-2025 repo pressure"),
        ("volatility", "2023-03-13", "SVB"),
        ("volatility", "2025-04-08", "April 2025 tariff shock"),
        ("volatility", "2020-03-09", "March 2020 dash for cash"),
        ("volatility", "2008-09-15", "Lehman"),
    ],
)
def test_the_rules_find_the_known_events(real_episodes, kind, date, what):
    assert starts_near(real_episodes[kind], date), what


def test_the_real_episodes_are_dated_with_data_known_then(snapshot, panel):
    """Built on the panel as known at 2020-06-24, the flags equal the full panel's then."""
    earlier = build_panel(snapshot, end="2020-06-24")
    before = ep.flags(earlier)
    pd.testing.assert_frame_equal(before, ep.flags(panel).loc[before.index])


def test_there_are_dozens_of_real_episodes(real_episodes):
    # the point of the rules: more onsets than the catalogue's nine, fewer than one a quarter
    assert 15 <= len(real_episodes["any"]) <= 60
