"""Event catalogue: every row sourced; strict and broad QE-restart definitions as documented."""

from __future__ import annotations

import pandas as pd
import pytest

from data.catalogue import liquidity_event_weeks, liquidity_events, policy_events, qe_weeks
from data.errors import DataError

WEEKS = pd.date_range("2006-01-04", "2026-08-19", freq="W-WED")


def test_every_row_has_a_source_and_valid_dates():
    events = liquidity_events(counted_only=False)
    assert (events["source"].str.len() > 5).all()
    assert (events["end"] >= events["start"]).all()
    assert set(events["kind"]) >= {"funding", "market_functioning", "both"}
    assert (policy_events()["source"].str.len() > 5).all()


def test_strict_restarts_are_the_coupon_programmes():
    q = qe_weeks(WEEKS, "strict")
    restarts = list(q.index[q["restart"] == 1].strftime("%Y-%m-%d"))
    assert restarts == ["2008-11-26", "2010-11-03", "2012-09-19", "2020-03-18"]
    # While buying, not at risk; the restart week itself is at risk.
    assert q.loc["2021-06-02", "buying"] == 1 and q.loc["2021-06-02", "at_risk"] == 0
    assert q.loc["2020-03-18", "at_risk"] == 1
    # The 2025 bill purchases are not QE under the strict definition.
    assert q.loc["2026-01-07", "at_risk"] == 1


def test_broad_adds_the_bill_purchases_of_2019_and_2025():
    q = qe_weeks(WEEKS, "broad")
    restarts = list(q.index[q["restart"] == 1].strftime("%Y-%m-%d"))
    assert restarts == ["2008-11-26", "2010-11-03", "2012-09-19", "2019-10-16", "2025-12-10"]
    # March 2020 is not a broad restart: bill purchases were already running.
    assert q.loc["2020-03-18", "buying"] == 1
    assert q.loc["2026-08-19", "at_risk"] == 0


def test_unknown_definition_is_refused():
    with pytest.raises(DataError, match="unknown definition 'loose'"):
        qe_weeks(WEEKS, "loose")


def test_event_weeks_by_kind():
    e = liquidity_event_weeks(WEEKS)
    assert e.loc["2019-09-18", "funding"] == 1 and e.loc["2019-09-18", "market_functioning"] == 0
    assert e.loc["2025-04-09", "market_functioning"] == 1 and e.loc["2025-04-09", "funding"] == 0
    assert e.loc["2020-03-18", ["funding", "market_functioning"]].sum() == 2
    assert e.loc["2017-06-07", "any"] == 0
    # a handful of episodes in twenty years
    starts = (e["any"].diff() == 1).sum()
    assert 6 <= starts <= 12


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("counts_as_event", "Yes", r"counts_as_event 'Yes' at row B11 \(expected one of yes, no\)"),
        ("kind", "liquidity", r"kind 'liquidity' at row B11"),
        ("end", "2019-01-01", r"end 2019-01-01 is before start 2020-03-\d\d at row B11"),
    ],
)
def test_a_bad_catalogue_row_is_refused_not_dropped(monkeypatch, tmp_path, column, value, message):
    """Before, an unknown kind dropped the event silently, 'Yes' did not count, and an end
    before the start covered no week; each is now an error naming the row."""
    import csv

    from data import catalogue

    rows = list(csv.DictReader(catalogue.LIQUIDITY_FILE.open()))
    for row in rows:
        if row["id"] == "B11":
            row[column] = value
    path = tmp_path / "liquidity_events.csv"
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    monkeypatch.setattr(catalogue, "LIQUIDITY_FILE", path)
    with pytest.raises(DataError, match=message):
        catalogue.liquidity_events()
