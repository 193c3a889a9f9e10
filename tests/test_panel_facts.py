"""The panel built from the real snapshot shows facts a market participant knows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from data.panel import DRIVERS, OBSERVABLES, OPTIONAL_DRIVERS


def test_sofr_print_of_september_2019_is_a_spike_in_the_week_of_the_18th(panel):
    # SOFR printed 5.25% on 2019-09-17 (top of range 2.25%): +300bp, public on the 18th.
    week = panel.frame.loc["2019-09-18"]
    assert week["funding_spread_max"] == 300.0
    before = panel.frame.loc["2019-06-01":"2019-09-11", "funding_spread_max"]
    assert before.max() < 40


def test_move_above_150_in_march_2020(panel):
    march = panel.frame.loc["2020-03-01":"2020-03-31", "move_max"]
    assert march.max() > 150
    assert panel.frame.loc["2019-01-01":"2019-12-31", "move_max"].max() < 100


def test_tga_near_1_8_trillion_in_july_2020(panel):
    july = panel.frame.loc["2020-07-01":"2020-07-31", "tga_level"]
    assert 1700 < july.max() < 1900


def test_leveraged_shorts_larger_in_2026_than_early_2020(panel):
    early_2020 = panel.frame.loc["2020-01-01":"2020-02-29", "basis_short"].dropna()
    in_2026 = panel.frame.loc["2026-01-01":, "basis_short"].dropna()
    assert len(early_2020) >= 6 and len(in_2026) >= 10
    assert in_2026.min() > early_2020.max()


def test_weeks_are_wednesdays_and_columns_documented(panel):
    assert (panel.frame.index.day_of_week == 2).all()
    assert list(panel.frame.columns) == [*DRIVERS, *OBSERVABLES, *OPTIONAL_DRIVERS]
    # no swap-rate file in the snapshot: the optional driver is empty and said to be
    assert panel.frame["swap_spread_10y"].isna().all()
    assert any("no swap-rate file" in note for note in panel.notes)
    assert panel.frame.index.is_unique and panel.frame.index.is_monotonic_increasing


def test_cftc_gaps_stay_missing(panel):
    basis = panel.frame["basis_short"]
    # Nothing before 2015 and nothing in the 2025-05..2025-12 gap: NaN, never filled.
    assert basis.loc[:"2014-12-31"].isna().all()
    assert basis.loc["2025-06-01":"2025-12-31"].isna().all()
    assert not panel.mask.loc["2025-06-04", "basis_short"]
    cov = panel.coverage().loc["basis_short", "coverage"]
    assert 0.3 < cov < 0.6


def test_no_value_is_interpolated_across_the_2016_gap(panel):
    # 2016 has no CFTC file: the weeks in it must be NaN, not a straight line.
    gap = panel.frame.loc["2016-03-01":"2016-11-30", "basis_short"]
    assert gap.isna().all()


def test_digest_changes_with_the_data(panel):
    other = panel.frame.copy()
    other.iloc[100, 0] = np.nan if pd.notna(other.iloc[100, 0]) else 1.0
    from data.panel import Panel

    changed = Panel(other, panel.funding_basis, panel.inputs, panel.cutoff, panel.source)
    assert changed.digest() != panel.digest()
