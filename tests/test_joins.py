"""The documented bridges of the funding spread and the TGA hold on the real data."""

from __future__ import annotations

import numpy as np
import pandas as pd

from data.panel import daily_funding_spread, dts_week_average


def test_ioer_equals_top_of_range_where_both_exist(snapshot):
    # The bridge "EFFR - top of range" for 2017-2018 rests on IOER = top of range, which is
    # what the Fed set from December 2008 until its June-2018 technical adjustment.
    ioer = snapshot.series("IOER").loc["2008-12-16":]
    top = snapshot.series("DFEDTARU").reindex(ioer.index)
    assert len(ioer) > 2900
    differ = ioer.index[~np.isclose(ioer.to_numpy(), top.to_numpy())]
    # Only on FOMC decision days, when the new range applies the same day and IOER the next.
    range_changed = top.index[top.diff().fillna(0) != 0]
    assert set(differ) <= set(range_changed)
    assert len(differ) <= 3


def test_sofr_and_effr_spreads_agree_on_their_overlap(snapshot):
    # Where both overnight rates exist (2018-04..2021-12) the SOFR- and EFFR-based spreads
    # against the same administered rate differ by a few bp, not by a unit or a sign.
    top = snapshot.series("DFEDTARU")
    sofr = (snapshot.series("SOFR") - top).dropna().loc["2018-04-03":"2021-07-28"]
    effr = (snapshot.series("EFFR") - top).dropna().reindex(sofr.index).dropna()
    diff = (sofr.reindex(effr.index) - effr) * 100
    assert len(diff) > 700
    assert abs(diff.median()) < 10
    assert diff.abs().quantile(0.9) < 20


def test_funding_pieces_join_in_documented_order(snapshot):
    spread, label = daily_funding_spread(snapshot)
    first_use = label.groupby(label).apply(lambda s: s.index.min())
    assert (
        first_use["EFFR-TARGET"]
        < first_use["EFFR-IOER"]
        < first_use["SOFR-TOP"]
        < first_use["SOFR-IORB"]
    )
    assert first_use["SOFR-IORB"] == pd.Timestamp("2021-07-29")
    assert spread.index.is_unique
    assert label.loc["2019-09-17"] == "SOFR-TOP" and spread.loc["2019-09-17"] == 300.0


def test_dts_week_average_matches_wtregen_on_the_overlap(snapshot):
    wtregen = snapshot.series("WTREGEN") / 1000
    dts = dts_week_average(snapshot.tga_dts() / 1000)
    both = pd.concat([wtregen, dts], axis=1, keys=["wtregen", "dts"]).dropna()
    assert len(both) > 200
    rel = (both["dts"] - both["wtregen"]).abs() / both["wtregen"]
    assert rel.median() < 0.01
    assert rel.quantile(0.95) < 0.05
