"""Bad input, one row per case, through the command lines a user types.

Every row must: exit with 2, say what is wrong in a message that names the file, series,
date, flag or path, print no traceback, and leave the fit store (fits, ``latest``) and the
reports exactly as they were (hashed before and after).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from model.records.store import point_latest
from tests.conftest import REPO_ROOT, repo_env

pytestmark = pytest.mark.slow

SCENARIO_TYPO = """[scenarios.typo]
description = "a typo in a key"
[scenarios.typo.drivers.log_move]
mode = "pin"
unit = "index points"
path = [150]
hodl = true
"""


@pytest.fixture(scope="module")
def world(small_real_fit, snapshot_dir, tmp_path_factory):
    """A store holding one passing fit (and ``latest``), a report, and bad files."""
    root = tmp_path_factory.mktemp("world")
    fits = root / "fits"
    fits.mkdir()
    shutil.copytree(small_real_fit.path, fits / small_real_fit.fit_id)
    point_latest(fits, small_real_fit.fit_id)
    report = root / "reports" / "official"
    report.mkdir(parents=True)
    (report / "report.html").write_text("<html>the committee's page</html>")
    (report / "forecast.json").write_text("{}")
    bad = root / "bad"
    bad.mkdir()
    (bad / "typo.toml").write_text(SCENARIO_TYPO)
    (bad / "latin1.toml").write_bytes('description = "caf\xe9"\n'.encode("latin-1"))
    (bad / "a_file").write_text("")
    project = bad / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "code.py").write_text("print('mine')\n")
    (project / "notes.txt").write_text("mine\n")
    corrupt = bad / "corrupt_backtest"
    corrupt.mkdir()
    (corrupt / "backtest.json").write_text('{"digest": "abc", "spec": {')  # cut short
    broken = root / "other_fits" / small_real_fit.fit_id  # named by its id, as the store wants
    shutil.copytree(small_real_fit.path, broken)
    text = (broken / "manifest.json").read_text().replace('"strict"', '"broad"', 1)
    (broken / "manifest.json").write_text(text)

    def snapshot_with(case: str, name: str, text: str) -> Path:
        target = root / f"raw_{case}"
        target.mkdir()
        for f in snapshot_dir.iterdir():
            (target / f.name).symlink_to(f)
        (target / name).unlink()
        (target / name).write_text(text)
        return target

    move_lines = (snapshot_dir / "MOVE.csv").read_text().splitlines()
    sofr_lines = (snapshot_dir / "SOFR.csv").read_text().splitlines()
    data = {
        "empty_move": snapshot_with("empty", "MOVE.csv", ""),
        "header_only_iorb": snapshot_with("header", "IORB.csv", "date,value\n"),
        "future_move": snapshot_with(
            "future", "MOVE.csv", "\n".join([*move_lines, "2030-01-02,99.0"])
        ),
        "duplicate_sofr": snapshot_with(
            "dup", "SOFR.csv", "\n".join([*sofr_lines[:100], sofr_lines[99], *sofr_lines[100:]])
        ),
    }
    return {"root": root, "fits": fits, "broken": broken, "bad": bad, "data": data}


def cases(w: dict) -> list[tuple[str, list[str], str]]:
    """(name, command, what the message must name)."""
    fits, bad, data = str(w["fits"]), w["bad"], w["data"]
    latest = str(w["fits"] / "latest")
    official = str(w["root"] / "reports" / "official")
    fit = [sys.executable, "fit.py", "--fits-dir", fits, "--draws", "10", "--tune", "10"]
    forecast = [sys.executable, "forecast.py", "--draws", "50"]
    return [
        ("empty MOVE file", [*fit, "--data", str(data["empty_move"])], "MOVE.csv"),
        ("header-only IORB", [*fit, "--data", str(data["header_only_iorb"])], "IORB"),
        ("future-dated MOVE row", [*fit, "--data", str(data["future_move"])], "2030-01-02"),
        ("duplicated SOFR date", [*fit, "--data", str(data["duplicate_sofr"])], "SOFR"),
        ("unparsable --start", [*fit, "--start", "garbage"], "--start"),
        ("--draws 0", [*fit, "--draws", "0"], "--draws"),
        ("--target-accept 1.5", [*fit, "--target-accept", "1.5"], "--target-accept"),
        ("--end in the future", [*fit, "--end", "2030-01-01"], "2030-01-01"),
        ("optional driver, no input", [*fit, "--with-driver", "swap_spread_10y"], "--swap-file"),
        ("no fit", [*forecast, "--fit", str(bad / "nothing")], "nothing"),
        ("altered manifest", [*forecast, "--fit", str(w["broken"])], "config hash"),
        (
            "scenario key typo",
            [*forecast, "--fit", latest, "--scenarios", str(bad / "typo.toml")],
            "hodl",
        ),
        (
            "non-UTF-8 scenarios",
            [*forecast, "--fit", latest, "--scenarios", str(bad / "latin1.toml")],
            "latin1.toml",
        ),
        ("existing report", [*forecast, "--fit", latest, "--out", official], "--force"),
        ("--out is a file", [*forecast, "--fit", latest, "--out", str(bad / "a_file")], "a_file"),
        (
            "--out holds the user's files",
            [*forecast, "--fit", latest, "--out", str(bad / "project"), "--force"],
            "src",
        ),
        (
            "--out is the committee's fit",
            [*forecast, "--fit", latest, "--out", latest, "--force"],
            "fit store",
        ),
        (
            "summary on a bad file",
            [sys.executable, "-m", "data", "summary", "--data", str(data["duplicate_sofr"])],
            "SOFR",
        ),
        (
            "summary --start garbage",
            [sys.executable, "-m", "data", "summary", "--start", "garbage"],
            "--start",
        ),
        (
            "unknown vintage",
            [sys.executable, "-m", "data", "summary", "--vintage", "cftc=nope"],
            "nope",
        ),
        (
            "review of no fit",
            [sys.executable, "-m", "diagnostics", "review", "--fit", str(bad / "nothing")],
            "nothing",
        ),
        (
            "backtest --start garbage",
            [sys.executable, "-m", "diagnostics", "backtest", "--start", "garbage"],
            "--start",
        ),
        (
            "backtest --out is a file",
            [sys.executable, "-m", "diagnostics", "backtest", "--out", str(bad / "a_file")],
            "a_file",
        ),
        (
            "corrupt backtest.json",
            [
                sys.executable,
                "-m",
                "diagnostics",
                "backtest",
                "--out",
                str(bad / "corrupt_backtest"),
            ],
            "backtest.json",
        ),
        (
            "score of no records",
            [sys.executable, "-m", "diagnostics", "score", str(bad / "nothing")],
            "nothing",
        ),
        (
            "refresh --service-url",
            [sys.executable, "-m", "data", "refresh", "--service-url", "ftp"],
            "--service-url",
        ),
    ]


def store_hash(root: Path) -> str:
    """Every file and link under the fits and reports folders, names and contents."""
    h = hashlib.sha256()
    folders = ("fits", "reports", "other_fits", "bad")
    for path in sorted(p for folder in folders for p in (root / folder).rglob("*")):
        h.update(str(path.relative_to(root)).encode())
        if path.is_symlink():
            h.update(os.readlink(path).encode())
        elif path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()


def test_every_bad_input_stops_cleanly_and_changes_nothing(world, tmp_path):
    held, report = 0, []
    for name, command, named in cases(world):
        before = store_hash(world["root"])
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            env=repo_env(LIQSHOCK_VINTAGES=str(tmp_path / "no_vintages")),
            timeout=600,
        )
        problems = []
        if done.returncode != 2:
            problems.append(f"exit {done.returncode}")
        if "Traceback" in done.stderr + done.stdout:
            problems.append("traceback")
        if named not in done.stderr:
            problems.append(f"message does not name {named!r}: {done.stderr.strip()[-300:]}")
        if store_hash(world["root"]) != before:
            problems.append("the store or a report changed")
        held += not problems
        report.append(f"{name}: {'held' if not problems else '; '.join(problems)}")
    assert held == len(report), "\n".join(report)


def test_debug_shows_the_traceback_the_plain_run_hides(world):
    command = [sys.executable, "forecast.py", "--fit", str(world["bad"] / "nothing")]
    plain = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, env=repo_env())
    debug = subprocess.run(
        [*command, "--debug"], capture_output=True, text=True, cwd=REPO_ROOT, env=repo_env()
    )
    assert plain.returncode == debug.returncode == 2
    assert "Traceback" not in plain.stderr and "Traceback" in debug.stderr
