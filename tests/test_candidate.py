"""A refresh is a candidate checked against what it replaces: a shrunk or rescaled history
is refused (exit 1, the store byte-identical) unless accepted, on real snapshot data."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from data import cftc, treasury_files
from data.candidate import Accepted, check_candidate
from data.errors import DataError
from tests.conftest import REPO_ROOT, repo_env


def test_the_dts_divided_by_ten_from_one_month_on_is_refused(snapshot_dir):
    before = treasury_files.read_tga_dts(snapshot_dir)
    after = before.copy()
    after.loc["2025-11-01":] /= 10
    with pytest.raises(DataError, match=r"rescale: .*factor 0\.1, from 2025-11"):
        check_candidate("dts", before, after)
    assert check_candidate("dts", before, after, Accepted(rescale=True))["rescale"]


def test_cftc_longs_times_ten_in_new_rows_are_refused(snapshot_dir):
    """New weeks only (nothing shared to compare): the level jump at the first new row."""
    positions = cftc.read_positions(snapshot_dir)
    stacked = positions.set_index(["date", "code"])[["long", "short"]].stack().rename("value")
    dates = stacked.index.get_level_values(0)
    cut = dates.unique().sort_values()[-20]
    before = stacked[dates < cut]
    after = stacked.copy()
    side = after.index.get_level_values(2)
    later = (after.index.get_level_values(0) >= cut) & (side == "long")
    after[later] = after[later] * 10
    with pytest.raises(DataError, match="level jumps by a factor 10"):
        check_candidate("cftc", before, after)
    assert check_candidate("cftc", before, stacked) == {}  # the true new weeks pass


def test_a_partial_download_is_refused_and_a_longer_one_is_not(snapshot_dir):
    before = treasury_files.read_tga_dts(snapshot_dir)
    with pytest.raises(DataError, match="first date .* is later"):
        check_candidate("dts", before, before.iloc[-40:])
    holes = before.drop(before.loc["2023-03-01":"2023-03-31"].index)
    with pytest.raises(DataError, match="values in 2023 against"):
        check_candidate("dts", before, holes)
    assert check_candidate("dts", before.iloc[:-30], before) == {}
    revised = before.copy()
    revised.iloc[-5] *= 1.01  # an ordinary revision
    assert check_candidate("dts", before, revised) == {}


def store_digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(root)).encode() + path.read_bytes())
    return h.hexdigest()


def refresh_move(move_file: Path, store: Path, snapshot_dir: Path, *extra: str):
    return subprocess.run(
        [sys.executable, "-m", "data", "refresh", "--source", "move", "--move-file",
         str(move_file), "--data", str(snapshot_dir), *extra],
        capture_output=True, text=True, cwd=REPO_ROOT,
        env=repo_env(LIQSHOCK_VINTAGES=str(store)), timeout=300,
    )  # fmt: skip


def test_the_command_refuses_a_short_move_file_unless_accepted(snapshot_dir, tmp_path):
    store = tmp_path / "sources"
    full = pd.read_csv(snapshot_dir / "MOVE.csv")
    # (a MOVE file divided by ten is already out of MOVE's plausible range: the unit
    # checks above cover the rescale on the DTS and CFTC data)
    files = {"short": full.iloc[-400:]}
    for name, frame in files.items():
        path = tmp_path / f"{name}.csv"
        frame.to_csv(path, index=False)
        files[name] = path
    first = refresh_move(tmp_path / "full.csv", store, snapshot_dir)  # no such file yet
    assert first.returncode != 0
    before = store_digest(store) if store.exists() else ""
    for name, expected in (("short", "shrink"),):
        done = refresh_move(files[name], store, snapshot_dir)
        assert done.returncode == 1, done.stdout + done.stderr
        assert f"{expected}:" in done.stdout and f"--accept-{expected}" in done.stdout
        assert (store_digest(store) if store.exists() else "") == before
    done = refresh_move(files["short"], store, snapshot_dir, "--accept-shrink")
    assert done.returncode == 0, done.stdout + done.stderr
    record = json.loads(next((store / "move").glob("*/fetch.json")).read_text())
    assert record["accepted"]["shrink"]


def test_an_empty_move_file_is_bad_input_named_without_a_traceback(snapshot_dir, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    done = refresh_move(empty, tmp_path / "sources", snapshot_dir)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "empty.csv" in done.stdout and "is empty" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_a_password_in_a_service_address_is_never_printed(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "data", "refresh", "--source", "dts",
         "--service-url", "dts=http://analyst:hunter2@127.0.0.1:9/dts"],
        capture_output=True, text=True, cwd=REPO_ROOT,
        env=repo_env(LIQSHOCK_VINTAGES=str(tmp_path / "sources")), timeout=120,
    )  # fmt: skip
    assert done.returncode == 1 and "dts: FAILED" in done.stdout
    assert "hunter2" not in done.stdout + done.stderr and "analyst" not in done.stdout
