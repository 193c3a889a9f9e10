"""Read and validate raw files: the only place that parses CSV text.

Each reader returns observations indexed by *observation date*, sorted, unique, numeric and
in the file's stated units. Anything else raises :class:`DataError` naming the file, the row
or date, and what was expected. Nothing is filled, interpolated or dropped silently except
empty cells, which in FRED downloads mean "no observation".
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from data.errors import DataError
from data.registry import SeriesSpec

T = TypeVar("T", pd.Series, pd.DataFrame)

#: Parsed files kept by :func:`read_once` (a backtest builds a panel at every origin from
#: the same files: parsing them is about half of building one).
_PARSED: OrderedDict[tuple, pd.Series | pd.DataFrame] = OrderedDict()
PARSED_FILES_KEPT = 64


def file_stamps(paths: tuple[Path, ...]) -> tuple:
    """Each file's identity as last written (path, inode, size, modification time in ns):
    any change to a file makes a new stamp."""
    stamps = []
    for path in paths:
        st = Path(path).stat()
        stamps.append((str(Path(path).resolve()), st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(stamps)


def read_once(key: tuple, paths: tuple[Path, ...], read: Callable[[], T]) -> T:
    """``read()`` (a parse of ``paths``), or a copy of its result when the same files, unchanged
    since, were read with the same ``key``. A read that raises keeps nothing, so bad input
    fails the same way every time; a file that cannot be stat'ed is read (and fails) anew."""
    try:
        stamp = (key, file_stamps(paths))
    except OSError:
        return read()
    if stamp in _PARSED:
        _PARSED.move_to_end(stamp)
        return _PARSED[stamp].copy()
    value = read()
    _PARSED[stamp] = value.copy()
    while len(_PARSED) > PARSED_FILES_KEPT:
        _PARSED.popitem(last=False)
    return value


#: Two consecutive observations further apart than this factor signal a unit change
#: (the raw sources mix millions and billions: a 1000x step).
UNIT_JUMP_FACTOR = 100.0


def read_csv_checked(path: Path, required: list[str]) -> pd.DataFrame:
    """Read a CSV as text columns and check the required columns exist."""
    if not path.is_file():
        raise DataError(str(path), "file not found", expected="a readable CSV file")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError as exc:
        raise DataError(str(path), "empty file", expected="a header and data rows") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(str(path), f"cannot parse CSV ({exc})") from exc
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(
            str(path),
            f"missing column(s) {missing}",
            expected=f"columns {required}; found {list(frame.columns)}",
        )
    if frame.empty:
        # a header-only file would otherwise pass as "no observations" and let the panel
        # substitute another series for it (IORB -> top of range) without a word
        raise DataError(str(path), "no data rows", expected="at least one observation")
    return frame


def parse_dates(frame: pd.DataFrame, column: str, source: str) -> pd.DatetimeIndex:
    """ISO dates only; the first bad row is reported with its line number."""
    parsed = pd.to_datetime(frame[column], format="%Y-%m-%d", errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            source,
            f"unparsable date {frame[column].iloc[row]!r} in column {column!r}",
            where=f"line {row + 2}",
            expected="YYYY-MM-DD",
        )
    future = np.flatnonzero(parsed > pd.Timestamp.now().normalize() + pd.Timedelta(days=1))
    if len(future):
        # an observation cannot be dated after today: a typo or a forward-dated row would
        # move the default cut-off and add empty weeks that a fit starts from
        row = int(future[0])
        raise DataError(
            source,
            f"date {frame[column].iloc[row]} is in the future",
            where=f"line {row + 2}",
            expected="observations dated today or earlier",
        )
    return pd.DatetimeIndex(parsed)


def parse_numbers(text: pd.Series, dates: pd.DatetimeIndex, source: str) -> np.ndarray:
    """Numbers, with '' and '.' (FRED's missing marker) as NaN; anything else is an error."""
    stripped = text.str.strip()
    empty = stripped.isin(["", "."])
    values = pd.to_numeric(stripped.where(~empty), errors="coerce")
    bad = values.isna() & ~empty
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            source,
            f"non-numeric value {text.iloc[row]!r}",
            where=f"{dates[row].date()} (line {row + 2})",
            expected="a number",
        )
    return values.to_numpy(dtype=float)


def check_dates_unique_sorted(dates: pd.DatetimeIndex, source: str) -> None:
    """Duplicated or out-of-order dates mean a broken splice; refuse them."""
    dup = dates.duplicated()
    if dup.any():
        raise DataError(
            source, "duplicate date", where=str(dates[dup][0].date()), expected="one row per date"
        )
    if not dates.is_monotonic_increasing:
        i = int(np.flatnonzero(np.diff(dates.asi8) < 0)[0])
        raise DataError(
            source,
            "dates not sorted",
            where=f"{dates[i + 1].date()} after {dates[i].date()}",
            expected="increasing dates",
        )


def check_values(
    series: pd.Series, source: str, plausible: tuple[float, float], positive_level: bool, units: str
) -> None:
    """Plausible range and the ~1000x unit-jump check."""
    lo, hi = plausible
    outside = series[(series < lo) | (series > hi)]
    if len(outside):
        raise DataError(
            source,
            f"value {outside.iloc[0]:g} outside the plausible range [{lo:g}, {hi:g}] {units}",
            where=str(outside.index[0].date()),
            expected=f"values in {units}",
        )
    if positive_level:
        clean = series.dropna()
        ratio = (clean / clean.shift(1)).iloc[1:]
        jumps = ratio[(ratio > UNIT_JUMP_FACTOR) | (ratio < 1 / UNIT_JUMP_FACTOR)]
        if len(jumps):
            when = jumps.index[0]
            prev = clean.index[clean.index.get_loc(when) - 1]
            raise DataError(
                source,
                f"unit jump: {clean[prev]:g} on {prev.date()} to "
                f"{clean[when]:g} (x{jumps.iloc[0]:.3g})",
                where=str(when.date()),
                expected=f"consistent units ({units}); millions vs billions?",
            )


def read_series_file(directory: Path, spec: SeriesSpec) -> pd.Series:
    """A ``date,value`` snapshot file, validated against its spec."""
    path = directory / spec.file
    frame = read_csv_checked(path, ["date", "value"])
    source = f"{path} [{spec.id}]"
    dates = parse_dates(frame, "date", source)
    values = parse_numbers(frame["value"], dates, source)
    series = pd.Series(values, index=dates, name=spec.id).dropna()
    return validate_series(series, spec, source)


def validate_series(series: pd.Series, spec: SeriesSpec, source: str) -> pd.Series:
    """Checks shared by the snapshot and FRED paths (so both fail the same way)."""
    check_dates_unique_sorted(pd.DatetimeIndex(series.index), source)
    check_values(series, source, spec.plausible, spec.positive_level, spec.units)
    series.index.name = "date"
    return series.astype(float)
