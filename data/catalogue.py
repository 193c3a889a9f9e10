"""Event catalogue: liquidity events and Fed balance-sheet events, and their weekly labels.

Facts only, each row with a source (``data/catalogue/*.csv``, compiled from the project's
research notes). Definitions (also in the README):

*Liquidity event*: a catalogued episode with ``counts_as_event == yes``: overnight funding
traded well above the Fed's administered rates with an official liquidity response
(``funding``), or Treasury-market functioning broke down (``market_functioning``), or both.
Equity-led shocks, flights to quality and pure repricings are catalogued but do not count.

*QE restart* (selectable by name):
- ``strict``: the announcement of resumed coupon or MBS purchases (``purchase_kind ==
  coupon``) when the Fed was not already making them;
- ``broad``: the announcement of any resumption of net Treasury purchases after a pause or
  QT, bills included (``purchase_kind in {coupon, bills}``) -- this adds the 2019 and 2025
  reserve-management bill purchases that the Fed itself called "not QE".
The at-risk set for a restart is every week in which the Fed is not already buying under the
same definition.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from data.defaults import QE_DEFINITION_NAMES
from data.errors import DataError

CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"
LIQUIDITY_FILE = CATALOGUE_DIR / "liquidity_events.csv"
POLICY_FILE = CATALOGUE_DIR / "policy_events.csv"

QE_DEFINITIONS: dict[str, tuple[str, ...]] = {
    "strict": ("coupon",),
    "broad": ("coupon", "bills"),
}
#: What each definition counts as a restart, in the committee's words.
QE_DEFINITION_WORDS: dict[str, str] = {
    "strict": "coupon or MBS purchases (QE proper)",
    "broad": "any restart of balance-sheet growth: bill purchases after a pause or QT count",
}
EVENT_KINDS = ("funding", "market_functioning")
assert tuple(QE_DEFINITIONS) == QE_DEFINITION_NAMES == tuple(QE_DEFINITION_WORDS)


def _read(path: Path, dates: list[str], required: list[str]) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(str(path), "catalogue file not found")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(str(path), f"missing column(s) {missing}")
    for column in dates:
        text = frame[column].str.strip()
        parsed = pd.to_datetime(text.where(text != ""), format="%Y-%m-%d", errors="coerce")
        bad = parsed.isna() & (text != "")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                str(path),
                f"unparsable date {text.iloc[row]!r} in {column}",
                where=f"row {frame['id'].iloc[row]}",
                expected="YYYY-MM-DD",
            )
        frame[column] = parsed
    no_source = frame["source"].str.strip() == ""
    if no_source.any():
        raise DataError(
            str(path), "row without a source", where=f"row {frame.loc[no_source, 'id'].iloc[0]}"
        )
    return frame


def liquidity_events(counted_only: bool = True) -> pd.DataFrame:
    """The liquidity-event table (counted events only by default)."""
    frame = _read(
        LIQUIDITY_FILE,
        ["start", "end"],
        ["id", "name", "start", "end", "kind", "counts_as_event", "source"],
    )
    check_values(frame, LIQUIDITY_FILE, "counts_as_event", ("yes", "no"))
    counted = frame["counts_as_event"] == "yes"
    check_values(frame[counted], LIQUIDITY_FILE, "kind", (*EVENT_KINDS, "both"))
    check_order(frame, LIQUIDITY_FILE, "start", "end")
    if counted_only:
        frame = frame[counted]
    return frame.sort_values("start").reset_index(drop=True)


def check_values(frame: pd.DataFrame, path: Path, column: str, allowed: tuple[str, ...]) -> None:
    """Refuse a value outside ``allowed`` (exact spelling): a counted event of an unknown
    kind was dropped without a word, and "Yes" did not count where "yes" did."""
    bad = ~frame[column].isin(allowed)
    if bad.any():
        row = frame[bad].iloc[0]
        raise DataError(
            str(path),
            f"{column} {row[column]!r}",
            where=f"row {row['id']}",
            expected=f"one of {', '.join(allowed)}",
        )


def check_order(frame: pd.DataFrame, path: Path, first: str, last: str) -> None:
    """Refuse a row that ends before it starts (it would cover no week at all)."""
    bad = frame[last].notna() & (frame[last] < frame[first])
    if bad.any():
        row = frame[bad].iloc[0]
        raise DataError(
            str(path),
            f"{last} {row[last].date()} is before {first} {row[first].date()}",
            where=f"row {row['id']}",
        )


def policy_events() -> pd.DataFrame:
    frame = _read(
        POLICY_FILE,
        ["announced", "effective", "end"],
        ["id", "programme", "type", "announced", "end", "purchase_kind", "source"],
    )
    check_values(frame, POLICY_FILE, "purchase_kind", ("coupon", "bills", "none"))
    check_order(frame, POLICY_FILE, "announced", "end")
    return frame


def week_of(date: pd.Timestamp) -> pd.Timestamp:
    """The panel week (ending Wednesday) that contains ``date``."""
    return date + pd.Timedelta(days=(2 - date.day_of_week) % 7)


def liquidity_event_weeks(weeks: pd.DatetimeIndex) -> pd.DataFrame:
    """Per week: 1 if a counted event of that kind was under way, else 0.

    Columns ``funding``, ``market_functioning`` and ``any``; ``both`` events set both kinds.
    """
    out = pd.DataFrame(0, index=weeks, columns=[*EVENT_KINDS, "any"], dtype=np.int8)
    for event in liquidity_events().itertuples():
        in_event = (weeks >= week_of(event.start)) & (weeks <= week_of(event.end))
        kinds = EVENT_KINDS if event.kind == "both" else (event.kind,)
        for kind in kinds:
            out.loc[in_event, kind] = 1
        out.loc[in_event, "any"] = 1
    return out


def purchase_spells(definition: str) -> list[tuple[pd.Timestamp, pd.Timestamp | None]]:
    """Merged [announced, end] spells of net purchases (end None: still buying)."""
    if definition not in QE_DEFINITIONS:
        raise DataError(
            "--qe-definition",
            f"unknown definition {definition!r}",
            expected=f"one of {sorted(QE_DEFINITIONS)}",
        )
    rows = policy_events()
    rows = rows[rows["purchase_kind"].isin(QE_DEFINITIONS[definition])].sort_values("announced")
    spells: list[list] = []
    for row in rows.itertuples():
        end = None if pd.isna(row.end) else row.end
        if spells and (spells[-1][1] is None or row.announced <= spells[-1][1]):
            last_end = spells[-1][1]
            spells[-1][1] = None if (last_end is None or end is None) else max(last_end, end)
        else:
            spells.append([row.announced, end])
    return [(start, end) for start, end in spells]


def qe_weeks(weeks: pd.DatetimeIndex, definition: str) -> pd.DataFrame:
    """Per week: ``buying`` (Fed already buying), ``at_risk`` and ``restart`` (0/1).

    The restart week is the week of the announcement; it is at risk (the hazard of starting
    that week), and the weeks after it, while purchases run, are not.
    """
    buying = np.zeros(len(weeks), dtype=bool)
    restart = np.zeros(len(weeks), dtype=bool)
    for start, end in purchase_spells(definition):
        first = week_of(start)
        stop = weeks.max() if end is None else week_of(end)
        buying |= np.asarray((weeks > first) & (weeks <= stop))
        restart |= np.asarray(weeks == first)
    return pd.DataFrame(
        {
            "buying": buying.astype(np.int8),
            "at_risk": (~buying).astype(np.int8),
            "restart": restart.astype(np.int8),
        },
        index=weeks,
    )
