"""Shared fixtures: the real snapshot (tests skip with a reason when it is absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from model.inference.runtime import configure

configure()  # what every command does first: XLA devices, headless plots, quiet warnings

from data.sources import DEFAULT_SNAPSHOT, SnapshotSource  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]


def repo_env(**extra: str) -> dict[str, str]:
    """The environment for a child process that imports the project from the repository
    (it is not installed into site-packages): the repository first on ``PYTHONPATH``."""
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, **extra}


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


@pytest.fixture(scope="session")
def small_real_fit(tmp_path_factory, snapshot):
    """A short real-data fit (2018-2020, small draws, relaxed gate) for forecast tests."""
    from model.inference.fitting import run_fit
    from model.inference.settings import GateThresholds, SamplerSettings
    from model.records.store import load_fit

    fits_dir = tmp_path_factory.mktemp("small_fit")
    result = run_fit(
        snapshot,
        end="2020-12-30",
        config=_short_config(),
        settings=SamplerSettings(draws=150, tune=150, chains=2, seed=5),
        thresholds=GateThresholds(1.1, 30, 30, 20),
        fits_dir=fits_dir,
        progressbar=False,
        prior_draws=100,
    )
    return load_fit(result.path)


def _short_config():
    from model.equations.config import ModelConfig

    return ModelConfig(start="2018-01-03")
