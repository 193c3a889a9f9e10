"""Refreshed data kept as vintages: every download is kept, none is overwritten.

Layout (git-ignored): ``<cache>/sources/<source>/<vintage-id>/`` holds the source's files in
the snapshot's own format (so the snapshot's readers and checks apply unchanged) and
``fetch.json``: what was fetched (first and last date, rows, a content digest, fetch time,
the address without any key or token). A vintage id is the fetch time and the digest's
first characters, so ids sort by time. A download identical to the newest vintage adds
nothing. The panel reads the newest vintage of each source, or a named one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from data.atomic import atomic_write_text
from data.defaults import DEFAULT_CACHE

#: Where refreshed sources are kept (beside the FRED cache); ``LIQSHOCK_VINTAGES`` moves it.
DEFAULT_VINTAGES = DEFAULT_CACHE.parent / "sources"
META = "fetch.json"


@dataclass(frozen=True)
class Vintage:
    source: str
    vintage_id: str
    path: Path
    meta: dict

    def changed_file(self) -> str | None:
        """The first file that no longer matches the digest recorded at download (edited
        or damaged since), or None when all match."""
        names = sorted(p.name for p in self.path.iterdir() if p.is_file() and p.name != META)
        try:
            files = {name: (self.path / name).read_bytes().decode("utf-8") for name in names}
        except (OSError, UnicodeDecodeError):
            return str(self.path)
        if digest(files) == self.meta.get("digest"):
            return None
        return str(self.path / names[0]) if len(names) == 1 else f"{self.path} ({', '.join(names)})"


def digest(files: dict[str, str]) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    return h.hexdigest()


class VintageStore:
    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root or os.environ.get("LIQSHOCK_VINTAGES") or DEFAULT_VINTAGES)

    def vintages(self, source: str) -> list[Vintage]:
        """All complete vintages of ``source``, oldest first."""
        out = []
        for meta in sorted((self.root / source).glob(f"*/{META}")):
            if meta.parent.name.startswith("."):
                continue
            try:
                out.append(
                    Vintage(source, meta.parent.name, meta.parent, json.loads(meta.read_text()))
                )
            except (OSError, ValueError):
                continue  # a damaged record is skipped, never used
        return out

    def latest(self, source: str) -> Vintage | None:
        found = self.vintages(source)
        return found[-1] if found else None

    def named(self, source: str, vintage_id: str) -> Vintage:
        for v in self.vintages(source):
            if v.vintage_id == vintage_id:
                return v
        known = ", ".join(v.vintage_id for v in self.vintages(source)) or "none"
        raise KeyError(f"{source}: no vintage {vintage_id!r} (known: {known})")

    def save(self, source: str, files: dict[str, str], meta: dict) -> tuple[Vintage, bool]:
        """Store a download; ``(vintage, created)``. Identical to the newest: not stored.

        Written into a hidden temporary directory and renamed into place, so a vintage is
        either complete or absent, and nothing stored before is touched."""
        content = digest(files)
        newest = self.latest(source)
        if newest is not None and newest.meta.get("digest") == content:
            return newest, False
        fetched = datetime.now(UTC)
        vintage_id = f"{fetched:%Y%m%dT%H%M%S%fZ}_{content[:8]}"
        parent = self.root / source
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=parent))
        try:
            for name, text in files.items():
                atomic_write_text(staging / name, text)
            record = {**meta, "digest": content, "fetched_at": fetched.isoformat()}
            atomic_write_text(staging / META, json.dumps(record, indent=1))
            os.chmod(staging, 0o755)
            os.rename(staging, parent / vintage_id)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return Vintage(source, vintage_id, parent / vintage_id, record), True
