"""Source registry: every raw input the panel uses, with meaning, origin, units and lag.

The publication lag says when a value dated ``t`` became public. The panel builder uses it
to build the panel *as known on each Wednesday* (no look-ahead), so getting it right matters
more than any other field here.

Lags (sources: FRED release calendars and the agencies' own schedules):
- daily rates and market closes (SOFR, EFFR, IORB, VIX, MOVE): the next business day;
- H.4.1 weekly levels (WALCL, WTREGEN, WRESBAL, Wednesday-dated): Thursday, i.e. one day;
- ON RRP take-up (RRPONTSYD): published the afternoon of the operation; the next business
  day here, as for the other daily series;
- Daily Treasury Statement: published 4 p.m. the next business day;
- CFTC Traders in Financial Futures: Tuesday positions, published Friday (three days);
- St. Louis Fed FSI (Friday-dated): published the following Thursday (six days);
- Chicago Fed NFCI (Friday-dated): published the following Wednesday (five days);
- TIC monthly holdings: about seven weeks after month-end (we use month-end + 50 days,
  the usual mid-to-late second-month release).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from pandas.tseries.offsets import BDay, MonthEnd

KnownAt = Callable[[pd.DatetimeIndex], pd.DatetimeIndex]


def next_business_day(dates: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Daily series: a close or fixing dated t is public on the next business day."""
    return pd.DatetimeIndex(dates) + BDay(1)


def after_days(days: int) -> KnownAt:
    """A fixed calendar-day lag (weekly releases)."""

    def known_at(dates: pd.DatetimeIndex) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(dates) + pd.Timedelta(days=days)

    known_at.__doc__ = f"public {days} calendar days after the observation date"
    return known_at


def month_end_plus(days: int) -> KnownAt:
    """Monthly series dated on the 1st of the month they describe (end-of-month values)."""

    def known_at(dates: pd.DatetimeIndex) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(dates) + MonthEnd(0) + pd.Timedelta(days=days)

    known_at.__doc__ = f"public {days} days after the end of the month"
    return known_at


@dataclass(frozen=True)
class SeriesSpec:
    """One raw input.

    ``file`` is the snapshot file name; ``fred_id`` the FRED series (None when FRED does not
    carry it, e.g. MOVE and CFTC). ``plausible`` bounds catch unit mistakes (percent vs bp,
    millions vs billions); ``positive_level`` turns on the ~1000x unit-jump check.
    ``max_age_days`` is how old the last published value may be before the panel treats the
    week as missing (a stale value is not carried forward for ever).
    """

    id: str
    meaning: str
    file: str
    fred_id: str | None
    frequency: str
    units: str
    known_at: KnownAt
    lag_text: str
    plausible: tuple[float, float]
    max_age_days: int
    positive_level: bool = False
    #: FRED's value per unit of ``units`` (FRED publishes WRESBAL in millions, the panel
    #: and the snapshot read billions): a download is divided by it before any check.
    fred_per_unit: float = 1.0


SERIES: dict[str, SeriesSpec] = {
    s.id: s
    for s in [
        SeriesSpec(
            "SOFR",
            "Secured Overnight Financing Rate",
            "SOFR.csv",
            "SOFR",
            "daily",
            "percent",
            next_business_day,
            "next business day",
            (-1.0, 25.0),
            10,
        ),
        SeriesSpec(
            "IORB",
            "Interest rate on reserve balances (from 2021-07-29)",
            "IORB.csv",
            "IORB",
            "daily",
            "percent",
            next_business_day,
            "next business day",
            (-1.0, 25.0),
            10,
        ),
        SeriesSpec(
            "IOER",
            "Interest rate on excess reserves (2008-10-09..2021-07-28)",
            "IOER.csv",
            "IOER",
            "daily",
            "percent",
            next_business_day,
            "next business day",
            (-1.0, 25.0),
            10,
        ),
        SeriesSpec(
            "EFFR",
            "Effective federal funds rate (business days)",
            "EFFR.csv",
            "EFFR",
            "daily",
            "percent",
            next_business_day,
            "next business day",
            (-1.0, 25.0),
            10,
        ),
        SeriesSpec(
            "DFF",
            "Effective federal funds rate (7-day)",
            "DFF.csv",
            "DFF",
            "daily",
            "percent",
            next_business_day,
            "next business day",
            (-1.0, 25.0),
            10,
        ),
        SeriesSpec(
            "DFEDTARU",
            "Fed funds target (single target to 2008-12-15, then top of the range)",
            "DFEDTARU.csv",
            "DFEDTARU",
            "daily",
            "percent",
            next_business_day,
            "next business day",
            (-1.0, 25.0),
            10,
        ),
        SeriesSpec(
            "DGS10",
            "10-year Treasury constant-maturity yield",
            "DGS10.csv",
            "DGS10",
            "daily",
            "percent",
            next_business_day,
            "next business day",
            (-1.0, 20.0),
            10,
        ),
        SeriesSpec(
            "SWAP10Y",
            "10-year swap rate (user-supplied file; the seed's gauge is the SOFR swap)",
            "SWAP10Y.csv",
            None,
            "daily",
            "percent",
            next_business_day,
            "next business day",
            (-1.0, 20.0),
            10,
        ),
        SeriesSpec(
            "MOVE",
            "ICE BofA MOVE index (Treasury implied volatility)",
            "MOVE.csv",
            None,
            "daily",
            "index points",
            next_business_day,
            "next business day",
            (20.0, 400.0),
            10,
            positive_level=True,
        ),
        SeriesSpec(
            "VIXCLS",
            "CBOE VIX close",
            "VIXCLS.csv",
            "VIXCLS",
            "daily",
            "index points",
            next_business_day,
            "next business day",
            (5.0, 150.0),
            10,
            positive_level=True,
        ),
        SeriesSpec(
            "WTREGEN",
            "Treasury General Account, week average (Wednesday)",
            "WTREGEN.csv",
            "WTREGEN",
            "weekly",
            "millions USD",
            after_days(1),
            "Thursday (H.4.1)",
            (0.0, 3.0e6),
            14,
            positive_level=True,
        ),
        SeriesSpec(
            "WALCL",
            "Fed total assets, Wednesday level",
            "WALCL.csv",
            "WALCL",
            "weekly",
            "millions USD",
            after_days(1),
            "Thursday (H.4.1)",
            (3.0e5, 1.5e7),
            14,
            positive_level=True,
        ),
        SeriesSpec(
            "WRESBAL",
            "Reserve balances with Federal Reserve Banks, week average (Wednesday)",
            "WRESBAL.csv",
            "WRESBAL",
            "weekly",
            "billions USD",
            after_days(1),
            "Thursday (H.4.1)",
            (1.0, 10_000.0),
            14,
            positive_level=True,
            fred_per_unit=1000.0,
        ),
        SeriesSpec(
            "RRPONTSYD",
            "Overnight reverse repos: Treasuries sold by the Fed (ON RRP take-up)",
            "RRPONTSYD.csv",
            "RRPONTSYD",
            "daily",
            "billions USD",
            next_business_day,
            "next business day",
            (0.0, 5_000.0),
            10,
        ),
        SeriesSpec(
            "STLFSI4",
            "St. Louis Fed Financial Stress Index v4",
            "STLFSI4.csv",
            "STLFSI4",
            "weekly",
            "index (0 = normal)",
            after_days(6),
            "following Thursday",
            (-10.0, 30.0),
            21,
        ),
        SeriesSpec(
            "NFCI",
            "Chicago Fed National Financial Conditions Index",
            "NFCI.csv",
            "NFCI",
            "weekly",
            "index (std dev, >0 tighter)",
            after_days(5),
            "following Wednesday",
            (-10.0, 30.0),
            21,
        ),
    ]
}


@dataclass(frozen=True)
class FileSpec:
    """A wide snapshot file that is not a plain FRED series."""

    id: str
    meaning: str
    file: str
    frequency: str
    units: str
    lag_text: str
    known_at: KnownAt
    max_age_days: int


FILES: dict[str, FileSpec] = {
    f.id: f
    for f in [
        FileSpec(
            "CFTC_TFF",
            "CFTC Traders in Financial Futures, Treasury futures "
            "(futures only), selected by CFTC contract code",
            "CFTC_TFF_UST.csv + CFTC_TFF_UST_extra.csv",
            "weekly (Tuesday)",
            "contracts",
            "Friday after the Tuesday",
            after_days(3),
            15,
        ),
        FileSpec(
            "TIC_MFH",
            "TIC Major Foreign Holders: total and official foreign holdings "
            "of Treasuries (month-end)",
            "TIC_MFH_foreign_holdings.csv",
            "monthly",
            "billions USD",
            "month-end + 50 days",
            month_end_plus(50),
            125,
        ),
        FileSpec(
            "TGA_DTS",
            "Daily Treasury Statement: TGA opening balance",
            "TGA_DTS_daily.csv",
            "daily (business days)",
            "millions USD",
            "next business day",
            next_business_day,
            14,
        ),
    ]
}
