"""The fit store: ``latest`` follows the newest data under concurrency, nothing is lost."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from data.atomic import atomic_write_text
from model.records.store import LATEST, FitError, check_store, list_fits, point_latest


def fake_fit(fits_dir: Path, fit_id: str, cutoff: str, passed: bool = True) -> None:
    """A fit directory with a manifest only (the store's pointer logic reads no draws)."""
    (fits_dir / fit_id).mkdir(parents=True)
    manifest = {
        "fit_id": fit_id,
        "created_at": f"{cutoff}T00:00:00",
        "data": {"cutoff": cutoff},
        "convergence": {"passed": passed},
    }
    (fits_dir / fit_id / "manifest.json").write_text(json.dumps(manifest))


def test_latest_never_moves_to_a_fit_of_older_data(tmp_path):
    fake_fit(tmp_path, "new", "2026-08-19")
    fake_fit(tmp_path, "old", "2020-03-11")
    fake_fit(tmp_path, "rerun", "2026-08-19")
    assert point_latest(tmp_path, "new")
    assert not point_latest(tmp_path, "old")  # a backtest or --end rerun of an old vintage
    assert os.readlink(tmp_path / LATEST) == "new"
    assert point_latest(tmp_path, "rerun")  # same data, made later: the newer fit
    assert os.readlink(tmp_path / LATEST) == "rerun"


def _point(args: tuple[str, str]) -> bool:
    return point_latest(Path(args[0]), args[1])


@pytest.mark.slow
def test_concurrent_writers_leave_latest_at_the_newest_vintage_and_no_temp_files(tmp_path):
    cutoffs = [f"20{y:02d}-06-{d:02d}" for y in range(10, 26) for d in (3, 17)]
    for i, cutoff in enumerate(cutoffs):
        fake_fit(tmp_path, f"fit{i:02d}", cutoff)
    jobs = [(str(tmp_path), f"fit{i:02d}") for i in range(len(cutoffs))][::-1]
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        for _ in range(3):
            pool.map(_point, jobs, chunksize=1)
    assert os.readlink(tmp_path / LATEST) == f"fit{len(cutoffs) - 1:02d}"
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_store_that_cannot_take_a_fit_is_refused_before_sampling(tmp_path):
    as_file = tmp_path / "fits_file"
    as_file.write_text("")
    with pytest.raises(FitError, match="is a file"):
        check_store(as_file)
    store = tmp_path / "fits"
    (store / LATEST).mkdir(parents=True)  # what `cp -rL` leaves
    with pytest.raises(FitError, match="real file or directory"):
        check_store(store)
    (store / LATEST).rmdir()
    check_store(store)
    assert [p.name for p in store.iterdir()] == []  # the probe is gone


def test_one_damaged_sibling_manifest_is_skipped(tmp_path):
    fake_fit(tmp_path, "good", "2026-08-19")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "manifest.json").write_text('{"fit_id": "broken"}')
    (tmp_path / "garbled").mkdir()
    (tmp_path / "garbled" / "manifest.json").write_text("{not json")
    assert [m["fit_id"] for m in list_fits(tmp_path)] == ["good"]


def test_written_files_are_readable_by_others(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "report.html", "<p>x</p>")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "report.html").stat().st_mode) == 0o644


def test_a_manifest_whose_id_or_cut_off_was_crafted_is_refused(tmp_path):
    """The fit id names output directories and the cut-off goes into pages: a manifest
    naming another id (e.g. a path outside the store) or a non-date is refused on load."""
    from model.equations.config import ModelConfig
    from model.records.store import load_fit

    config = ModelConfig()
    cases = {"../../outside": "2026-08-19", "good": "<script>alert(1)</script>"}
    for fit_id, cutoff in cases.items():
        folder = tmp_path / "good"
        folder.mkdir(exist_ok=True)
        manifest = {
            "fit_id": fit_id,
            "data": {"cutoff": cutoff},
            "model": {"config": config.to_dict(), "config_digest": config.digest()},
        }
        (folder / "manifest.json").write_text(json.dumps(manifest))
        with pytest.raises(FitError, match="not the directory's name|not a date"):
            load_fit(folder)


def test_a_report_pair_is_replaced_whole_or_not_at_all(tmp_path, monkeypatch):
    """A crash while the second file is written leaves the previous pair, untouched."""
    import data.atomic as atomic

    out = tmp_path / "report"
    atomic.atomic_write_files(out, {"forecast.json": "old numbers", "report.html": "old page"})
    (out / "notes.txt").write_text("kept")
    real = atomic.atomic_write_text
    calls = []

    def crash_on_second(path, text):
        calls.append(path)
        if len(calls) == 2:  # forecast.json is written; the page: crash
            raise OSError("disk full")
        real(path, text)

    monkeypatch.setattr(atomic, "atomic_write_text", crash_on_second)
    with pytest.raises(OSError, match="disk full"):
        atomic.atomic_write_files(out, {"forecast.json": "new", "report.html": "new page"})
    assert (out / "forecast.json").read_text() == "old numbers"
    assert (out / "report.html").read_text() == "old page"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no staging left
    monkeypatch.setattr(atomic, "atomic_write_text", real)
    atomic.atomic_write_files(out, {"forecast.json": "new", "report.html": "new page"})
    assert (out / "report.html").read_text() == "new page"
    assert (out / "notes.txt").read_text() == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def _write_copy(args: tuple[str, str, str, str, str]) -> str:
    """One process writing a whole fit (draws and manifest) into a shared store."""
    import arviz as az

    from model.records.store import write_fit

    fits_dir, source, fit_id, cutoff, created = args
    idata = az.from_netcdf(str(Path(source) / "idata.nc"), engine="h5netcdf")
    idata.posterior.attrs["fit_id"] = fit_id
    manifest = json.loads((Path(source) / "manifest.json").read_text())
    manifest.update(fit_id=fit_id, created_at=created)
    manifest["data"]["cutoff"] = cutoff
    write_fit(Path(fits_dir), fit_id, idata, manifest)
    return fit_id


@pytest.mark.slow
def test_processes_writing_whole_fits_at_once_leave_a_consistent_store(small_real_fit, tmp_path):
    """Six processes write twelve fits of different vintages into one store at once:
    afterwards every fit loads, ``latest`` is the newest vintage, and no temp file is left."""
    from model.records.store import load_fit

    digest = small_real_fit.manifest["model"]["config_digest"][:8]
    jobs = []
    for i, year in enumerate(range(2010, 2022)):
        cutoff = f"{year}-06-02"
        fit_id = f"{cutoff}_strict_20261204T0000{i:02d}000000Z_{digest}"
        jobs.append(
            (str(tmp_path), str(small_real_fit.path), fit_id, cutoff, f"2026-12-04T00:00:{i:02d}")
        )
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        written = pool.map(_write_copy, jobs[::-1], chunksize=1)
    assert sorted(written) == sorted(j[2] for j in jobs)
    for _, _, fit_id, cutoff, _ in jobs:
        fit = load_fit(tmp_path / fit_id)
        assert fit.manifest["data"]["cutoff"] == cutoff
    assert load_fit(tmp_path / LATEST).manifest["data"]["cutoff"] == "2021-06-02"
    # the lock file that serializes moves of ``latest`` stays by design; nothing else hidden
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == [".latest.lock"]


WRITER = """
import sys
from pathlib import Path
from data.atomic import atomic_write_files
out, n = Path(sys.argv[1]), 0
print("ready", flush=True)
while True:
    n += 1
    body = str(n) * 200_000  # a few MB, so a kill often lands inside a write
    atomic_write_files(out, {"forecast.json": body, "report.html": body})
"""


def test_a_killed_report_writer_leaves_a_matching_pair(tmp_path):
    """SIGKILL a process that keeps replacing a report, at random moments: every time, the
    report folder holds a page and numbers from the same write (or the folder is briefly
    absent while the new one is renamed in, never a mix)."""
    import random
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import REPO_ROOT, repo_env

    out = tmp_path / "report"
    rng = random.Random(3)
    checked = 0
    for _ in range(12):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(out)],
            cwd=REPO_ROOT,
            env=repo_env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.6))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        if out.is_dir():
            page = (out / "report.html").read_text()
            numbers = (out / "forecast.json").read_text()
            assert page == numbers and len(page) % 200_000 == 0
            checked += 1
    assert checked >= 4  # most kills leave a folder to check
