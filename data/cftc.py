"""Basis-trade size from CFTC Traders in Financial Futures (TFF), Treasury futures.

Rows are selected by CFTC contract market code, never by market name: the names changed in
February 2022 ("10-YEAR U.S. TREASURY NOTES" became "UST 10Y NOTE").

Driver: leveraged-fund net short = short - long (spread positions are hedged by definition
and excluded), summed over the six contracts after converting each to 10-year-note
equivalents by relative DV01:

    weight_k = face_k * D_k / (face_10Y * D_10Y)

Face values are the CME contract sizes ($200k for the 2-year note, $100k otherwise).
``D_k`` is a round modified duration of each contract's typical cheapest-to-deliver issue
(2Y ~1.9, 5Y ~4.0, 10Y ~6.0, Ultra 10Y ~8.6, Bond ~12, Ultra Bond ~18 years). The weights
are fixed through time: true DV01s drift with yield levels and CTD switches, but the model
standardizes the driver, so a fixed, documented conversion is preferred over a time-varying
estimate we cannot source. The Ultra 10Y weight (1.44) matches the usual "about 44% more
DV01 than TY".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from data.errors import DataError
from data.readers import check_dates_unique_sorted, parse_dates, parse_numbers, read_csv_checked

CFTC_FILES = ("CFTC_TFF_UST.csv", "CFTC_TFF_UST_extra.csv")
DATE_COLUMN = "Report_Date_as_YYYY-MM-DD"
CODE_COLUMN = "CFTC_Contract_Market_Code"
LONG_COLUMN = "Lev_Money_Positions_Long_All"
SHORT_COLUMN = "Lev_Money_Positions_Short_All"


@dataclass(frozen=True)
class Contract:
    code: str
    name: str
    face_usd: float
    duration_years: float
    listed: str  # first trading date: before it the contract contributes zero, not "missing"


CONTRACTS: tuple[Contract, ...] = (
    Contract("042601", "2-year note", 200_000, 1.9, "1990-06-22"),
    Contract("044601", "5-year note", 100_000, 4.0, "1988-05-20"),
    Contract("043602", "10-year note", 100_000, 6.0, "1982-05-03"),
    Contract("043607", "Ultra 10-year note", 100_000, 8.6, "2016-01-11"),
    Contract("020601", "Treasury bond", 100_000, 12.0, "1977-08-22"),
    Contract("020604", "Ultra Treasury bond", 100_000, 18.0, "2010-01-11"),
)
_TEN_YEAR = next(c for c in CONTRACTS if c.code == "043602")


def ten_year_weights() -> dict[str, float]:
    """Contracts -> 10-year-note equivalents (relative DV01)."""
    base = _TEN_YEAR.face_usd * _TEN_YEAR.duration_years
    return {c.code: c.face_usd * c.duration_years / base for c in CONTRACTS}


def read_positions(directory: Path, files: tuple[str, ...] = CFTC_FILES) -> pd.DataFrame:
    """Leveraged-fund long/short per report date and contract code (long format).

    ``files``: the snapshot's two files, or the one full-history file of a refresh."""
    parts = []
    for name in files:
        path = directory / name
        frame = read_csv_checked(path, [DATE_COLUMN, CODE_COLUMN, LONG_COLUMN, SHORT_COLUMN])
        source = str(path)
        dates = parse_dates(frame, DATE_COLUMN, source)
        codes = frame[CODE_COLUMN].str.strip().str.zfill(6)
        keep = codes.isin([c.code for c in CONTRACTS]).to_numpy()
        part = pd.DataFrame(
            {
                "date": dates[keep],
                "code": codes[keep].to_numpy(),
                "long": parse_numbers(frame.loc[keep, LONG_COLUMN], dates[keep], source),
                "short": parse_numbers(frame.loc[keep, SHORT_COLUMN], dates[keep], source),
                "file": name,
            }
        )
        parts.append(part)
    rows = pd.concat(parts, ignore_index=True)
    dup = rows.duplicated(["date", "code"], keep=False)
    if dup.any():
        first = rows[dup].iloc[0]
        raise DataError(
            " + ".join(str(directory / f) for f in files),
            f"contract {first.code} reported twice",
            where=str(first.date.date()),
            expected="one row per week and contract",
        )
    negative = rows[(rows["long"] < 0) | (rows["short"] < 0)]
    if len(negative):
        bad = negative.iloc[0]
        raise DataError(
            bad.file,
            f"negative position for contract {bad.code}",
            where=str(bad.date.date()),
            expected="non-negative contract counts",
        )
    return rows.sort_values(["date", "code"]).reset_index(drop=True)


def net_short_10y_equivalent(positions: pd.DataFrame) -> pd.Series:
    """Leveraged-fund net short, millions of 10-year-note equivalents, per report date.

    A week where a listed contract is absent is missing (NaN), not a partial sum.
    """
    weights = ten_year_weights()
    listed = {c.code: pd.Timestamp(c.listed) for c in CONTRACTS}
    wide_short = positions.pivot(index="date", columns="code", values="short")
    wide_long = positions.pivot(index="date", columns="code", values="long")
    net = (wide_short - wide_long).reindex(columns=[c.code for c in CONTRACTS])
    for code in net.columns:
        not_yet_listed = net.index < listed[code]
        net.loc[not_yet_listed, code] = 0.0
    total = pd.Series(
        np.where(
            net.isna().any(axis=1), np.nan, (net * pd.Series(weights)).sum(axis=1, min_count=1)
        )
        / 1e6,
        index=net.index,
        name="basis_short_10ye",
    )
    check_dates_unique_sorted(pd.DatetimeIndex(total.index), "CFTC TFF")
    return total.dropna()


def ten_year_leveraged_short(positions: pd.DataFrame) -> pd.Series:
    """The 10-year note alone (contracts): a raw check against published figures."""
    ten = positions[positions["code"] == _TEN_YEAR.code]
    return ten.set_index("date")["short"]
