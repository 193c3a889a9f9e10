"""No value enters the panel before its publication date (CFTC and TIC checked row by row)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from data import cftc, treasury_files
from data.panel import build_panel, log_change_12m
from data.registry import FILES


def test_cftc_values_appear_only_after_the_friday_release(panel, snapshot_dir):
    net = cftc.net_short_10y_equivalent(cftc.read_positions(snapshot_dir))
    by_value = {round(v, 12): d for d, v in net.items()}
    checked = 0
    for week, value in panel.frame["basis_short"].dropna().items():
        report = by_value[round(value, 12)]
        assert report + pd.Timedelta(days=3) <= week, (week, report)
        # and it is the latest report public then
        public = net[net.index + pd.Timedelta(days=3) <= week]
        assert public.index.max() == report
        checked += 1
    assert checked > 400


def test_tic_values_appear_only_seven_weeks_after_month_end(panel, snapshot_dir):
    tic = treasury_files.read_tic(snapshot_dir)
    change = log_change_12m(tic["foreign_total_bn"])
    known = FILES["TIC_MFH"].known_at(pd.DatetimeIndex(change.index))
    for week, value in panel.frame["foreign_demand_12m"].dropna().items():
        month = change.index[np.isclose(change.to_numpy(), value, rtol=0, atol=1e-12)]
        assert len(month) >= 1
        assert known[change.index.get_loc(month[0])] <= week
    # December 2025 holdings become public on 2026-02-19 (month-end + 50 days): the panel
    # still shows November's change on 2026-02-18 and December's from 2026-02-25.
    frame = panel.frame["foreign_demand_12m"]
    dec = change.loc["2025-12-01"]
    assert frame.loc["2026-02-18"] == change.loc["2025-11-01"] != dec
    assert frame.loc["2026-02-25"] == dec


def test_a_panel_cut_off_earlier_equals_the_full_panel_up_to_that_date(snapshot, panel):
    cut = build_panel(snapshot, end="2020-03-11")
    assert cut.cutoff == pd.Timestamp("2020-03-11")
    full = panel.frame.loc[:"2020-03-11"]
    pd.testing.assert_frame_equal(cut.frame, full)
