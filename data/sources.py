"""Where raw data comes from: a snapshot directory, or FRED (through ``fredapi``) with a cache.

Resolution order for the default source (``resolve_source``):
1. ``--data DIR`` or the ``LIQSHOCK_DATA`` environment variable: a snapshot directory;
2. the snapshot beside the repository, ``../shared/data/raw``;
3. the FRED cache (``.cache/fred``, git-ignored), refreshed from FRED when ``FRED_API_KEY``
   is set (``python -m data refresh``) and usable offline afterwards.

MOVE, CFTC TFF, TIC and the Daily Treasury Statement are not FRED series. Each is read from
its newest refreshed vintage (``.cache/sources``, :mod:`data.vintages`, filled by ``python
-m data refresh``) when there is one, else from the snapshot directory: refreshed cache
first, then the snapshot, per source, and the source's description says which.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, quote_plus

import pandas as pd

from data import cftc, services, treasury_files
from data.atomic import atomic_write_text
from data.candidate import Accepted
from data.defaults import DEFAULT_CACHE, DEFAULT_SNAPSHOT, REPO_ROOT  # noqa: F401 (re-exported)
from data.errors import DataError
from data.readers import read_once, read_series_file, validate_series
from data.registry import SERIES
from data.vintages import Vintage, VintageStore

#: FRED splits the target series at the move to a range; the snapshot file is pre-spliced.
FRED_SPLICES: dict[str, tuple[tuple[str, str | None, str | None], ...]] = {
    "DFEDTARU": (("DFEDTAR", None, "2008-12-15"), ("DFEDTARU", "2008-12-16", None)),
}


class DataSource(Protocol):
    """What the panel builder needs from any source."""

    description: str

    def series(self, series_id: str) -> pd.Series: ...
    def has(self, series_id: str) -> bool: ...
    def cftc_positions(self) -> pd.DataFrame: ...
    def tic(self) -> pd.DataFrame: ...
    def tga_dts(self) -> pd.Series | None:
        """Daily TGA closing balances; None when the source has no Daily Treasury Statement
        (FRED alone), never when its file is bad."""
        ...


@dataclass
class SnapshotSource:
    """Reads the files of a snapshot directory (see its PROVENANCE.md), each non-FRED
    source from its refreshed vintage instead where one is given (``vintages``: source name
    of :data:`data.services.FILES` -> vintage)."""

    directory: Path
    vintages: dict[str, Vintage] = field(default_factory=dict)
    description: str = field(init=False)

    def __post_init__(self) -> None:
        self.directory = Path(self.directory)
        if not self.directory.is_dir():
            raise DataError(
                str(self.directory),
                "snapshot directory not found",
                expected="a directory of raw CSV files (see README)",
            )
        self.description = f"snapshot {self.directory}" + "".join(
            f"; {name} from refreshed vintage {v.vintage_id}" for name, v in self.vintages.items()
        )

    def origin(self) -> dict[str, str]:
        """Where each non-FRED source is read from: a vintage id, or "snapshot"."""

        def where(name: str) -> str:
            if name in self.vintages:
                return self.vintages[name].vintage_id
            files = services.FILES[name]
            return "snapshot" if (self.directory / files[0]).is_file() else "not supplied"

        return {name: where(name) for name in services.FILES}

    def _dir(self, name: str) -> Path:
        return self.vintages[name].path if name in self.vintages else self.directory

    def series(self, series_id: str) -> pd.Series:
        spec = SERIES[series_id]
        owner = next((n for n, files in services.FILES.items() if spec.file in files), None)
        directory = self._dir(owner) if owner else self.directory
        return read_once(
            ("series", spec), (directory / spec.file,), lambda: read_series_file(directory, spec)
        )

    def has(self, series_id: str) -> bool:
        """Whether an optional input (the user's swap rates) exists at all: a missing file
        means "not supplied"; a bad one is still an error when read."""
        spec = SERIES[series_id]
        owner = next((n for n, files in services.FILES.items() if spec.file in files), None)
        return ((self._dir(owner) if owner else self.directory) / spec.file).is_file()

    def cftc_positions(self) -> pd.DataFrame:
        directory = self._dir("cftc")
        files = services.FILES["cftc"] if "cftc" in self.vintages else cftc.CFTC_FILES
        paths = tuple(directory / name for name in files)
        return read_once(("cftc", files), paths, lambda: cftc.read_positions(directory, files))

    def tic(self) -> pd.DataFrame:
        return treasury_files.read_tic(self._dir("tic"))

    def tga_dts(self) -> pd.Series:
        return treasury_files.read_tga_dts(self._dir("dts"))


@dataclass
class FredSource:
    """FRED series through ``fredapi``, cached as CSV so later runs work offline.

    ``root_url`` exists so tests can point fredapi at a local server.
    """

    cache_dir: Path = DEFAULT_CACHE
    api_key: str | None = None
    root_url: str | None = None
    refresh: bool = False
    snapshot: SnapshotSource | None = None
    #: what the user accepted of a refresh that shrinks or rescales a cached series
    accepted: Accepted = field(default_factory=Accepted)
    description: str = field(init=False)

    def __post_init__(self) -> None:
        self.cache_dir = Path(self.cache_dir)
        self.api_key = self.api_key or os.environ.get("FRED_API_KEY")
        self.description = f"FRED (cache {self.cache_dir})"
        if self.snapshot is not None:
            self.description += f" + non-FRED files from {self.snapshot.directory}"

    def _client(self):
        if not self.api_key:
            return None
        from fredapi import Fred

        client = Fred(api_key=self.api_key)
        if self.root_url:
            client.root_url = self.root_url.rstrip("/")
        return client

    def download(self, fred_id: str) -> tuple[pd.Series, bool]:
        """One FRED series and whether it is a new download (not yet in the cache): from the
        cache unless ``refresh``. A new download is kept only by :meth:`keep`, after the
        series built from it passed its checks, so a bad download never replaces the cache."""
        cached = self.cache_dir / f"{fred_id}.csv"
        if cached.is_file() and not self.refresh:
            return self.cached(fred_id), False
        client = self._client()
        if client is None:
            raise DataError(
                f"FRED {fred_id}",
                "not in the cache and FRED_API_KEY is not set",
                where=str(cached),
                expected="FRED_API_KEY or a snapshot (--data)",
            )
        try:
            raw = client.get_series(fred_id)
        except Exception as exc:  # noqa: BLE001 - any client failure is a failed download
            raise DataError(
                f"FRED {fred_id}", f"download failed: {redact(str(exc), self.api_key)}"
            ) from None
        raw = raw.dropna()
        raw.index = pd.DatetimeIndex(raw.index).normalize()
        raw.index.name = "date"
        return raw, True

    def cached(self, fred_id: str) -> pd.Series:
        cached = self.cache_dir / f"{fred_id}.csv"
        try:
            frame = pd.read_csv(cached, parse_dates=["date"], index_col="date")
            return pd.to_numeric(frame["value"], errors="raise")
        except (ValueError, KeyError, pd.errors.ParserError) as exc:
            raise DataError(
                str(cached),
                f"unreadable FRED cache file ({exc.__class__.__name__}: {exc})",
                expected="run `python -m data refresh --source fred` to download it again",
            ) from None

    def keep(self, fred_id: str, raw: pd.Series) -> None:
        """Write a checked download into the cache, after the candidate rule
        (:mod:`data.candidate`) against the copy it replaces."""
        from data.candidate import check_candidate

        cached = self.cache_dir / f"{fred_id}.csv"
        before = self.cached(fred_id) if cached.is_file() else None
        accepted = check_candidate(f"FRED {fred_id}", before, raw, self.accepted)
        atomic_write_text(cached, raw.rename("value").to_csv(float_format="%.10g"))
        atomic_write_text(
            cached.with_suffix(".json"),
            json.dumps(
                {
                    "series": fred_id,
                    "downloaded_at": datetime.now(UTC).isoformat(),
                    "root_url": self.root_url or "FRED API",
                    "rows": int(len(raw)),
                    "accepted": accepted,
                },
                indent=1,
            ),
        )

    def series(self, series_id: str) -> pd.Series:
        spec = SERIES[series_id]
        if spec.fred_id is None:
            return self._from_snapshot(series_id).series(series_id)
        pieces = FRED_SPLICES.get(series_id, ((spec.fred_id, None, None),))
        downloads = {fid: self.download(fid) for fid, _, _ in pieces}
        parts = [downloads[fid][0].loc[start:end] for fid, start, end in pieces]
        joined = (pd.concat(parts).astype(float) / spec.fred_per_unit).rename(series_id)
        checked = validate_series(joined, spec, f"FRED {spec.fred_id} [{series_id}]")
        for fid, (raw, fresh) in downloads.items():
            if fresh:
                self.keep(fid, raw)
        return checked

    def _from_snapshot(self, what: str) -> SnapshotSource:
        if self.snapshot is None:
            raise DataError(
                what,
                "is not a FRED series and no snapshot directory is set",
                expected="--data DIR or LIQSHOCK_DATA pointing at a snapshot",
            )
        return self.snapshot

    def has(self, series_id: str) -> bool:
        if SERIES[series_id].fred_id is not None:
            return True
        return self.snapshot is not None and self.snapshot.has(series_id)

    def cftc_positions(self) -> pd.DataFrame:
        return self._from_snapshot("CFTC TFF").cftc_positions()

    def tic(self) -> pd.DataFrame:
        return self._from_snapshot("TIC holdings").tic()

    def tga_dts(self) -> pd.Series | None:
        # FRED holds WTREGEN only; without a snapshot the TGA ends at WTREGEN's last week
        return None if self.snapshot is None else self.snapshot.tga_dts()


def redact(text: str, key: str | None = None) -> str:
    """``text`` without the FRED API key: the key itself wherever it appears (a malformed
    key may hold spaces) and any ``api_key=...`` of a URL. fredapi's errors carry the
    request URL, and messages end up in cron logs."""
    if key:
        for form in {key, quote(key), quote_plus(key)}:
            text = text.replace(form, "***")
    return re.sub(r"api_key=[^&\s'\"]*", "api_key=***", text)


def refreshed_vintages(
    store: VintageStore | None, named: dict[str, str] | None = None
) -> dict[str, Vintage]:
    """The vintage each refreshed source is read from: the one ``named`` for it, else its
    newest; sources never refreshed are absent (read from the snapshot)."""
    if store is None:
        return {}
    named = named or {}
    out = {}
    for name in services.FILES:
        try:
            chosen = store.named(name, named[name]) if name in named else store.latest(name)
        except KeyError as exc:
            raise DataError(f"vintage of {name}", str(exc.args[0])) from None
        if chosen is not None:
            changed = chosen.changed_file()
            if changed is not None:
                raise DataError(
                    changed,
                    f"vintage {chosen.vintage_id} of {name} differs from the digest recorded "
                    "when it was downloaded (edited or damaged since)",
                    expected="refresh the source again, or name an intact vintage with --vintage",
                )
            out[name] = chosen
    return out


def resolve_source(
    data_dir: str | Path | None = None,
    *,
    use_fred: bool = False,
    store: VintageStore | None = None,
    named: dict[str, str] | None = None,
) -> DataSource:
    """The source a CLI run uses (see the module docstring for the order). ``store``: the
    refreshed vintages to read before the snapshot (default: the project's cache; pass
    ``VintageStore`` of an empty folder for the snapshot alone)."""
    chosen = data_dir or os.environ.get("LIQSHOCK_DATA")
    vintages = refreshed_vintages(store if store is not None else VintageStore(), named)
    snapshot = None
    if chosen:
        snapshot = SnapshotSource(Path(chosen), vintages)
    elif DEFAULT_SNAPSHOT.is_dir():
        snapshot = SnapshotSource(DEFAULT_SNAPSHOT, vintages)
    if use_fred or snapshot is None:
        return FredSource(snapshot=snapshot)
    return snapshot
