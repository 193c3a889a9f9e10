"""Shared fixtures: the real snapshot (tests skip with a reason when it is absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from data.sources import DEFAULT_SNAPSHOT, SnapshotSource

SNAPSHOT = Path(os.environ.get("LIQSHOCK_DATA", DEFAULT_SNAPSHOT))


def require_snapshot() -> Path:
    if not SNAPSHOT.is_dir():
        pytest.skip(f"data snapshot not found at {SNAPSHOT} (set LIQSHOCK_DATA)")
    return SNAPSHOT


@pytest.fixture(scope="session")
def snapshot_dir() -> Path:
    return require_snapshot()


@pytest.fixture(scope="session")
def snapshot(snapshot_dir: Path) -> SnapshotSource:
    return SnapshotSource(snapshot_dir)


@pytest.fixture(scope="session")
def panel(snapshot: SnapshotSource):
    from data.panel import build_panel

    return build_panel(snapshot)


@pytest.fixture
def snapshot_copy(snapshot_dir: Path, tmp_path: Path):
    """A scratch snapshot: symlinks to the real files, so a test can replace one of them."""

    def make(replace: dict[str, str] | None = None) -> Path:
        target = tmp_path / "raw"
        target.mkdir(exist_ok=True)
        for f in snapshot_dir.iterdir():
            link = target / f.name
            if not link.exists():
                link.symlink_to(f)
        for name, text in (replace or {}).items():
            (target / name).unlink(missing_ok=True)
            (target / name).write_text(text)
        return target

    return make
