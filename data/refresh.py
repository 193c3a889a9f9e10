"""``python -m data refresh``: bring every source to its latest published value.

For each source: download, write the files in the snapshot's format into a scratch folder,
read them back with the snapshot's own readers (the same checks as the snapshot: dates,
duplicates, units, ranges), compare with what the panel read before (the newest vintage,
else the snapshot) to report revisions, then keep the download as a new vintage
(:mod:`data.vintages`). A source that fails (network, schema change, validation) is
reported with its reason; the others still refresh and nothing kept before is touched.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from data import cftc, services, treasury_files
from data.candidate import Accepted, check_candidate
from data.errors import DataError
from data.readers import read_series_file
from data.registry import SERIES
from data.vintages import VintageStore

SOURCES = ("fred", *services.FILES)


def values(name: str, directory: Path) -> pd.Series:
    """The numbers a source contributes, read and checked by the snapshot's readers,
    indexed so two vintages can be compared value by value."""
    if name == "cftc":
        files = (
            services.FILES["cftc"] if (directory / services.FILES["cftc"][0]).is_file() else None
        )
        positions = cftc.read_positions(directory, files or cftc.CFTC_FILES)
        cftc.net_short_10y_equivalent(positions)  # the driver must build from it
        stacked = positions.set_index(["date", "code"])[["long", "short"]].stack()
        return stacked.rename("value")
    if name == "dts":
        return treasury_files.read_tga_dts(directory)
    if name == "tic":
        return treasury_files.read_tic(directory)["foreign_total_bn"]
    if name == "move":
        return read_series_file(directory, SERIES["MOVE"])
    if name == "swap":
        return read_series_file(directory, SERIES["SWAP10Y"])
    raise ValueError(name)


@dataclass
class Revisions:
    compared: int = 0
    revised: int = 0
    largest: tuple | None = None  # (key, before, after)

    def line(self) -> str:
        if not self.revised:
            return f"no revisions in {self.compared} common values"
        key, before, after = self.largest
        return (
            f"{self.revised} of {self.compared} common values revised; largest at {key}: "
            f"{before:g} -> {after:g}"
        )


def revisions(before: pd.Series, after: pd.Series) -> Revisions:
    common = before.index.intersection(after.index)
    diff = (after.loc[common] - before.loc[common]).abs()
    changed = diff[diff > 1e-9]
    if changed.empty:
        return Revisions(len(common))
    key = changed.idxmax()
    return Revisions(
        len(common), len(changed), (key, float(before.loc[key]), float(after.loc[key]))
    )


@dataclass
class Outcome:
    source: str
    ok: bool
    message: str
    vintage_id: str | None = None
    revisions: Revisions = field(default_factory=Revisions)
    #: a valid download refused by the candidate rule (shrink, rescale), not a bad file
    refused: bool = False


def span(series: pd.Series) -> dict:
    dates = series.index.get_level_values(0)
    return {"first": str(dates.min().date()), "last": str(dates.max().date()), "rows": len(series)}


def refresh_one(
    name: str,
    fetch: Callable[[], dict[str, str]],
    store: VintageStore,
    snapshot: Path | None,
    address: str,
    accepted: Accepted = Accepted(),
) -> Outcome:
    """Download, validate, check against what it replaces (:mod:`data.candidate`), compare
    and keep one source."""
    try:
        files = fetch()
        with tempfile.TemporaryDirectory() as scratch:
            for file_name, text in files.items():
                (Path(scratch) / file_name).write_text(text)
            new = values(name, Path(scratch))
        previous = store.latest(name)
        base = previous.path if previous else snapshot
        comparable = base is not None and all((base / f).is_file() for f in services.FILES[name])
        before = values(name, base) if comparable else None
    except DataError as exc:
        return Outcome(name, False, str(exc))
    try:
        kept = check_candidate(name, before, new, accepted)
    except DataError as exc:
        return Outcome(name, False, str(exc), refused=True)
    try:
        meta = {"source": name, "address": address, **span(new)}
        vintage, created = store.save(name, files, {**meta, "accepted": kept} if kept else meta)
    except DataError as exc:
        return Outcome(name, False, str(exc))
    report = revisions(before, new) if before is not None else Revisions()
    against = (
        f"vintage {previous.vintage_id}"
        if previous
        else "the snapshot"
        if before is not None
        else "nothing before"
    )
    state = "new vintage" if created else "unchanged, kept"
    return Outcome(
        name,
        True,
        f"{state} {vintage.vintage_id}: {new.index.get_level_values(0).min().date()} .. "
        f"{new.index.get_level_values(0).max().date()}, {len(new)} values; vs {against}: "
        f"{report.line()}",
        vintage.vintage_id,
        report,
    )


def fetchers(
    snapshot: Path | None,
    move_file: Path | None,
    urls: dict[str, str],
    swap_file: Path | None = None,
) -> dict[str, tuple[Callable[[], dict[str, str]], str]]:
    """source -> (download function, address shown in the record)."""
    cftc_url = urls.get("cftc", services.CFTC_URL)
    dts_url = urls.get("dts", services.DTS_URL)
    tic_url = urls.get("tic", services.TIC_URL)
    out = {
        "cftc": (lambda: services.fetch_cftc(cftc_url), cftc_url),
        "dts": (lambda: services.fetch_dts(dts_url), dts_url),
        "tic": (lambda: services.fetch_tic(tic_url, snapshot), tic_url),
    }
    if move_file is not None:
        out["move"] = (lambda: services.import_move(move_file), str(move_file))
    if swap_file is not None:
        out["swap"] = (lambda: services.import_swap_rates(swap_file), str(swap_file))
    return out
