"""A refreshed download is a candidate: checked against what it would replace before it is
kept. One rule for every source (FRED series, CFTC, the Daily Treasury Statement, TIC, the
user's MOVE and swap-rate files).

Two ways a valid-looking file gives wrong numbers without an error anywhere else:

- **shrink**: fewer rows than before (a service that returns only its last page, a MOVE
  file of the last 400 closes). The first date later, the last date earlier, fewer rows, or
  fewer rows in any year the old history covered: the history that vanished would silently
  become "missing" in the model.
- **rescale**: a unit slip by a power of ten (millions for billions, a factor 10 in recent
  rows). Values the two histories share whose ratio is within :data:`SCALE_TOLERANCE` of
  10, 100 or 1000 (either way), or a level jump of that size at the first new row.

Either refuses the candidate with a message naming the source, the date and the size,
unless the user accepts it explicitly (``data refresh --accept-shrink`` /
``--accept-rescale``); an accepted change is recorded with the vintage.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from data.errors import DataError

POWERS = (10.0, 100.0, 1000.0)
#: A ratio within this factor of a power of ten (in log10 units) reads as a unit slip.
SCALE_TOLERANCE = 0.05
#: Shared values at a power-of-ten ratio needed to call it a rescale (one can be a typo fix).
MIN_RESCALED = 3
#: Rows on each side of the first new row compared for a level jump.
JUMP_ROWS = 4


@dataclass(frozen=True)
class Accepted:
    shrink: bool = False
    rescale: bool = False


def _dates(series: pd.Series) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(series.index.get_level_values(0))


def _groups(series: pd.Series):
    """(label, one dated series) per key of a stacked source (CFTC: contract and side)."""
    if series.index.nlevels == 1:
        yield "", series
        return
    levels = list(range(1, series.index.nlevels))
    for key, part in series.groupby(level=levels):
        yield f" {key}", part.droplevel(levels)


def shrink_problems(before: pd.Series, after: pd.Series) -> list[str]:
    old, new = _dates(before), _dates(after)
    problems = []
    if new.min() > old.min():
        problems.append(f"first date {new.min().date()} is later than before ({old.min().date()})")
    if new.max() < old.max():
        problems.append(f"last date {new.max().date()} is earlier than before ({old.max().date()})")
    if len(after) < len(before):
        problems.append(f"{len(after)} values against {len(before)} before")
    old_years = pd.Series(1, index=old).groupby(old.year).size()
    new_years = (
        pd.Series(1, index=new).groupby(new.year).size().reindex(old_years.index, fill_value=0)
    )
    fewer = (new_years < old_years)[old_years.index < old.max().year]
    if fewer.any():
        year = int(fewer[fewer].index[0])
        problems.append(f"{int(new_years[year])} values in {year} against {int(old_years[year])}")
    return problems


def _power_of_ten(ratio: np.ndarray) -> np.ndarray:
    """The power of ten each ratio sits at (0 where it is none of 1/1000 .. 1000 but 1)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(np.abs(ratio))
    nearest = np.round(logs)
    near = np.isfinite(logs) & (np.abs(logs - nearest) < SCALE_TOLERANCE) & (nearest != 0)
    return np.where(near & (np.abs(nearest) <= 3), nearest, 0)


def rescale_problems(before: pd.Series, after: pd.Series) -> list[str]:
    problems = []
    for label, old in _groups(before):
        new = dict(_groups(after)).get(label)
        if new is None or new.empty or old.empty:
            continue
        common = old.index.intersection(new.index)
        ratio = (new.loc[common] / old.loc[common].replace(0, np.nan)).to_numpy(float)
        powers = _power_of_ten(ratio)
        if (powers != 0).sum() >= MIN_RESCALED:
            first = common[np.flatnonzero(powers)[0]]
            factor = 10.0 ** powers[powers != 0][0]
            problems.append(
                f"{label.strip() + ': ' if label else ''}{int((powers != 0).sum())} shared "
                f"values changed by a factor {factor:g}, from {pd.Timestamp(first).date()}"
            )
        later = new[new.index > old.index.max()]
        if len(later):
            level_before = float(old.sort_index().iloc[-JUMP_ROWS:].median())
            level_after = float(later.sort_index().iloc[:JUMP_ROWS].median())
            jump = _power_of_ten(np.array([level_after / level_before if level_before else np.nan]))
            if jump[0]:
                problems.append(
                    f"{label.strip() + ': ' if label else ''}level jumps by a factor "
                    f"{10.0 ** jump[0]:g} at the first new row {later.index.min().date()} "
                    f"({level_before:g} -> {level_after:g})"
                )
    return problems


def check_candidate(
    source: str, before: pd.Series | None, after: pd.Series, accepted: Accepted = Accepted()
) -> dict[str, list[str]]:
    """Refuse a candidate that shrinks or rescales ``before`` unless accepted; returns what
    was accepted (for the vintage's record)."""
    if before is None or before.empty:
        return {}
    found = {"shrink": shrink_problems(before, after), "rescale": rescale_problems(before, after)}
    refused = [
        f"{kind}: {'; '.join(items)} (accept with --accept-{kind})"
        for kind, items in found.items()
        if items and not getattr(accepted, kind)
    ]
    if refused:
        raise DataError(source, "refresh refused, nothing stored: " + " | ".join(refused))
    return {kind: items for kind, items in found.items() if items}
