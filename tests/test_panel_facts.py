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


def test_reserve_buffer_is_reserves_plus_the_same_weeks_on_rrp_as_known_a_week_later(
    panel, snapshot_dir
):
    """The buffer of the H.4.1 week ending 2019-09-18 (reserves at their repo-spike low,
    1,394bn; ON RRP about zero) is public on Thursday the 19th, so it is the panel's value
    of the week of the 25th; written out by hand from the two raw files."""
    reserves = pd.read_csv(snapshot_dir / "WRESBAL.csv", index_col="date", parse_dates=True)
    rrp = pd.read_csv(snapshot_dir / "RRPONTSYD.csv", index_col="date", parse_dates=True)
    week = rrp.loc["2019-09-12":"2019-09-18", "value"]
    by_hand = reserves.loc["2019-09-18", "value"] + week.mean()
    assert abs(reserves.loc["2019-09-18", "value"] - 1394) < 1
    assert panel.frame.loc["2019-09-25", "reserve_buffer_level"] == by_hand
    assert panel.frame.loc["2019-09-18", "reserve_buffer_level"] != by_hand
    # log points below the highest week of the previous three years, by hand
    levels = panel.frame["reserve_buffer_level"].loc["2016-09-01":"2019-09-25"]
    peak = levels.dropna().iloc[-156:].max()
    np.testing.assert_allclose(
        panel.frame.loc["2019-09-25", "reserve_buffer"], 100 * np.log(by_hand / peak)
    )


def test_reserve_buffer_before_the_on_rrp_facility_counts_no_operation_as_zero(panel):
    """Before 2013-09-23 a day without an ON RRP operation had no take-up; the buffer is
    then reserves alone in most weeks, and it is missing before WRESBAL starts (2009) plus
    the year the peak needs: never back-filled."""
    frame = panel.frame
    assert frame.loc[:"2009-01-07", "reserve_buffer_level"].isna().all()
    assert frame.loc[:"2010-01-05", "reserve_buffer"].isna().all()
    assert frame.loc["2011-01-01":"2013-09-01", "reserve_buffer_level"].notna().all()
    # the 2019 and 2025 bill-purchase restarts came with the buffer far below its peak
    assert frame.loc["2019-09-25", "reserve_buffer"] < -40
    assert frame.loc["2025-12-10", "reserve_buffer"] < -40
    assert frame.loc["2013-09-01":"2014-06-01", "reserve_buffer"].max() == 0.0
