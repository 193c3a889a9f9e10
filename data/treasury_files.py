"""Readers for the two Treasury files that are not FRED series: TIC holdings and the DTS.

Both are validated like the simple series (dates, numbers, ranges, unit jumps).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from data.errors import DataError
from data.readers import (
    check_dates_unique_sorted,
    check_values,
    parse_dates,
    parse_numbers,
    read_csv_checked,
)

TIC_FILE = "TIC_MFH_foreign_holdings.csv"
DTS_FILE = "TGA_DTS_daily.csv"


def read_tic(directory: Path) -> pd.DataFrame:
    """Month-end foreign holdings of Treasuries, $bn, one row per month (dated the 1st).

    Rows flagged ``superseded_prior_series_comparison_only`` are the pre-benchmark values
    kept by Treasury for comparison: dropped, as PROVENANCE.md instructs.
    """
    path = directory / TIC_FILE
    columns = ["date", "grand_total_bn", "foreign_official_bn", "series_note"]
    frame = read_csv_checked(path, columns)
    frame = frame[frame["series_note"].str.strip() == ""].reset_index(drop=True)
    source = str(path)
    dates = parse_dates(frame, "date", source)
    check_dates_unique_sorted(dates, source)
    out = pd.DataFrame(
        {
            "foreign_total_bn": parse_numbers(frame["grand_total_bn"], dates, source),
            "foreign_official_bn": parse_numbers(frame["foreign_official_bn"], dates, source),
        },
        index=dates,
    )
    for column in out.columns:
        check_values(out[column], f"{source} [{column}]", (50.0, 20_000.0), True, "billions USD")
    out.index.name = "date"
    return out


def read_tga_dts(directory: Path) -> pd.Series:
    """TGA balance at the *close* of each business day, $ millions.

    The DTS reports the opening balance of day t, which equals the closing balance of the
    previous business day; we shift it back one business day. Where the DTS also reports a
    closing balance, the two must agree (a check of the file, not a fill).
    """
    path = directory / DTS_FILE
    frame = read_csv_checked(path, ["date", "tga_opening_balance_mn", "tga_closing_balance_mn"])
    source = str(path)
    dates = parse_dates(frame, "date", source)
    check_dates_unique_sorted(dates, source)
    opening = pd.Series(parse_numbers(frame["tga_opening_balance_mn"], dates, source), index=dates)
    closing = pd.Series(parse_numbers(frame["tga_closing_balance_mn"], dates, source), index=dates)
    check_values(
        opening.dropna(), f"{source} [tga_opening_balance_mn]", (0.0, 3.0e6), True, "millions USD"
    )
    # closing(t) = opening(t+1): shift the opening balances back by one row.
    implied_close = pd.Series(opening.shift(-1).to_numpy(), index=dates).dropna()
    both = pd.concat([closing, implied_close], axis=1, keys=["reported", "implied"]).dropna()
    mismatch = both[np.abs(both["reported"] - both["implied"]) > 1.0]
    if len(mismatch) > 0.02 * max(len(both), 1):
        raise DataError(
            source,
            "closing balance disagrees with next day's opening balance",
            where=str(mismatch.index[0].date()),
            expected="closing(t)=opening(t+1)",
        )
    implied_close.name = "TGA_DTS"
    implied_close.index.name = "date"
    return implied_close
