"""``python -m data refresh`` for the non-FRED sources, against local look-alikes of the
services (tests/service_server.py) built from the snapshot files."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from data import services
from data.drivers import DRIVER_ORDER
from data.errors import DataError
from data.panel import build_panel
from data.refresh import refresh_one
from data.sources import SnapshotSource, refreshed_vintages
from data.vintages import VintageStore
from tests.conftest import REPO_ROOT, repo_env
from tests.service_server import ServiceServer

SOURCES = ("cftc", "dts", "tic")


@pytest.fixture
def server(snapshot_dir):
    with ServiceServer(snapshot_dir) as running:
        yield running


def fetch(name: str, server: ServiceServer, snapshot_dir, timeout: float = 30.0):
    url = server.url(name)
    return {
        "cftc": lambda: services.fetch_cftc(url, timeout),
        "dts": lambda: services.fetch_dts(url, timeout=timeout),
        "tic": lambda: services.fetch_tic(url, snapshot_dir, timeout),
    }[name]


def test_the_refreshed_panel_equals_the_snapshot_panel(server, snapshot_dir, tmp_path):
    store = VintageStore(tmp_path / "sources")
    for name in SOURCES:
        outcome = refresh_one(name, fetch(name, server, snapshot_dir), store, snapshot_dir, "x")
        assert outcome.ok, outcome.message
        assert outcome.revisions.revised == 0 and outcome.revisions.compared > 100
    vintages = refreshed_vintages(store)
    assert set(vintages) == set(SOURCES)
    refreshed = build_panel(SnapshotSource(snapshot_dir, vintages))
    plain = build_panel(SnapshotSource(snapshot_dir))
    common = refreshed.frame.index.intersection(plain.frame.index)
    assert len(common) > 1000
    for driver in DRIVER_ORDER:
        np.testing.assert_allclose(
            refreshed.frame.loc[common, driver].to_numpy(),
            plain.frame.loc[common, driver].to_numpy(),
            rtol=1e-12,
            err_msg=driver,
        )
    assert "cftc from refreshed vintage" in refreshed.source
    assert SnapshotSource(snapshot_dir, vintages).origin()["dts"] == vintages["dts"].vintage_id


def test_a_revision_is_reported_and_every_vintage_is_kept(server, snapshot_dir, tmp_path):
    store = VintageStore(tmp_path / "sources")
    first = refresh_one("dts", fetch("dts", server, snapshot_dir), store, snapshot_dir, "x")
    again = refresh_one("dts", fetch("dts", server, snapshot_dir), store, snapshot_dir, "x")
    assert again.ok and again.vintage_id == first.vintage_id and "unchanged" in again.message
    # the service revises one opening balance by +$5bn
    row = next(r for r in server.fiscal if r["record_date"] == "2024-03-14")
    row["open_today_bal"] = str(int(row["open_today_bal"]) + 5000)
    revised = refresh_one("dts", fetch("dts", server, snapshot_dir), store, snapshot_dir, "x")
    assert revised.ok and revised.vintage_id != first.vintage_id
    # the opening balance of the 14th is the closing balance of the 13th
    assert revised.revisions.revised == 1
    key, before, after = revised.revisions.largest
    assert str(pd.Timestamp(key).date()) == "2024-03-13" and after - before == 5000
    assert [v.vintage_id for v in store.vintages("dts")] == [first.vintage_id, revised.vintage_id]
    # the panel can still be built from the earlier vintage by name
    named = refreshed_vintages(store, {"dts": first.vintage_id})
    assert named["dts"].vintage_id == first.vintage_id


@pytest.mark.parametrize(
    ("name", "path", "break_it", "says"),
    [
        (
            "cftc",
            "/resource/gpe5-46if.json",
            ("drop_field", "lev_money_positions_short"),
            "field 'lev_money_positions_short' is missing",
        ),
        (
            "dts",
            "/dts/operating_cash_balance",
            ("drop_field", "open_today_bal"),
            "field 'open_today_bal' is missing",
        ),
        ("dts", "/dts/operating_cash_balance", ("fail", 503), "HTTP 503"),
        ("tic", "/tic/slt_table5.txt", ("fail", 500), "HTTP 500"),
        ("cftc", "/resource/gpe5-46if.json", ("delay", 3.0), "no answer"),
    ],
)
def test_a_failing_service_is_a_clear_error_and_the_cache_is_intact(
    server, snapshot_dir, tmp_path, name, path, break_it, says
):
    store = VintageStore(tmp_path / "sources")
    good = refresh_one(name, fetch(name, server, snapshot_dir), store, snapshot_dir, "x")
    assert good.ok
    kept = {p: p.read_bytes() for p in (tmp_path / "sources").rglob("*") if p.is_file()}
    switch, value = break_it
    getattr(server, switch)[path] = value
    bad = refresh_one(
        name, fetch(name, server, snapshot_dir, timeout=1.0), store, snapshot_dir, "x"
    )
    assert not bad.ok and says in bad.message
    after = {p: p.read_bytes() for p in (tmp_path / "sources").rglob("*") if p.is_file()}
    assert after == kept
    assert store.latest(name).vintage_id == good.vintage_id


def test_the_command_refreshes_what_it_can_and_writes_no_token(server, snapshot_dir, tmp_path):
    """One failing service does not stop the others; the exit code says one failed; the
    CFTC app token reaches the service as a header and is written nowhere."""
    server.fail["/dts/operating_cash_balance"] = 500
    token = "token-that-must-not-leak-123"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "data",
            "refresh",
            "--data",
            str(snapshot_dir),
            *("--source", "cftc", "--source", "dts", "--source", "tic"),
            *(f"--service-url={n}={server.url(n)}" for n in SOURCES),
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=repo_env(LIQSHOCK_VINTAGES=str(tmp_path / "sources"), CFTC_APP_TOKEN=token),
        timeout=600,
    )
    assert done.returncode == 1, done.stderr
    assert "dts: FAILED" in done.stdout and "HTTP 500" in done.stdout
    assert "cftc: new vintage" in done.stdout and "tic: new vintage" in done.stdout
    assert any(h.get("X-App-Token") == token for h in server.headers)
    written = [p for p in (tmp_path / "sources").rglob("*") if p.is_file()]
    assert written and not any(token in p.read_text() for p in written)
    assert token not in done.stdout + done.stderr
    record = json.loads(next((tmp_path / "sources" / "cftc").glob("*/fetch.json")).read_text())
    assert {"first", "last", "rows", "digest", "fetched_at", "address"} <= set(record)


def test_a_move_file_is_validated_like_the_snapshot(snapshot_dir, tmp_path):
    good = tmp_path / "move.csv"
    good.write_text((snapshot_dir / "MOVE.csv").read_text())
    store = VintageStore(tmp_path / "sources")
    outcome = refresh_one("move", lambda: services.import_move(good), store, snapshot_dir, "f")
    assert outcome.ok and outcome.revisions.revised == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("date,value\n2024-01-02,95.1\n2024-01-03,9510\n")  # a 100x unit slip
    failed = refresh_one("move", lambda: services.import_move(bad), store, snapshot_dir, "f")
    assert not failed.ok and "MOVE" in failed.message
    assert len(store.vintages("move")) == 1


def test_the_summary_names_the_vintage_it_read(server, snapshot_dir, tmp_path):
    store = VintageStore(tmp_path / "sources")
    first = refresh_one("dts", fetch("dts", server, snapshot_dir), store, snapshot_dir, "x")
    row = next(r for r in server.fiscal if r["record_date"] == "2024-03-14")
    row["open_today_bal"] = str(int(row["open_today_bal"]) + 5000)
    second = refresh_one("dts", fetch("dts", server, snapshot_dir), store, snapshot_dir, "x")

    def summary(*extra: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "data", "summary", "--data", str(snapshot_dir), *extra],
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            env=repo_env(LIQSHOCK_VINTAGES=str(tmp_path / "sources")),
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert f"dts {second.vintage_id}" in summary()  # the newest by default
    assert f"dts {first.vintage_id}" in summary("--vintage", f"dts={first.vintage_id}")


def test_a_swap_rate_file_adds_the_swap_spread_and_an_optional_driver(snapshot_dir, tmp_path):
    """The machinery on real public swap rates: the snapshot's ICE 10-year USD swap rate
    (LIBOR-based, to 2016; the seed's SOFR swap has no free series) as the user's file."""
    from fit import fit_options, parse_args
    from model.equations.inputs import model_inputs

    libor = pd.read_csv(snapshot_dir / "SWAP_RATES_DSWP_2000_2016.csv", dtype=str)
    swap_file = tmp_path / "swap10y.csv"
    libor.rename(columns={"DSWP10": "value"})[["date", "value"]].to_csv(swap_file, index=False)
    store = VintageStore(tmp_path / "sources")
    imported = refresh_one(
        "swap", lambda: services.import_swap_rates(swap_file), store, snapshot_dir, "file"
    )
    assert imported.ok, imported.message
    source = SnapshotSource(snapshot_dir, refreshed_vintages(store))
    assert source.origin()["swap"] == imported.vintage_id
    panel = build_panel(source)
    spread = panel.frame["swap_spread_10y"].dropna()
    assert str(spread.index.min().date()) == "2006-01-04"
    assert spread.index.max() <= pd.Timestamp("2016-11-09")
    # brute force for one week: the days published that week, swap minus Treasury, in bp
    treasury = pd.read_csv(snapshot_dir / "DGS10.csv", index_col="date", parse_dates=True)
    swap = libor.set_index(pd.to_datetime(libor["date"]))["DSWP10"].astype(float)
    week = pd.Timestamp("2012-06-13")
    days = pd.bdate_range(week - pd.Timedelta(days=7), week - pd.Timedelta(days=1))
    days = [d for d in days if d in swap.index and d in treasury.index]
    expected = np.mean([100 * (swap[d] - float(treasury.loc[d, "value"])) for d in days])
    assert spread[week] == pytest.approx(expected, abs=1e-9)
    assert -100 < spread.mean() < 100  # bp, not percent
    config, _, _ = fit_options(parse_args(["--with-driver", "swap_spread_10y"]))
    assert config.drivers[-1] == "swap_spread_10y" and len(config.drivers) == 6
    inputs = model_inputs(panel, config)
    assert inputs.x.shape[1] == 6 and np.isfinite(inputs.x[:, -1]).sum() == len(spread)


def test_the_command_lines_know_every_refreshed_source():
    from data.arguments import REFRESHED_SOURCES

    assert tuple(services.FILES) == REFRESHED_SOURCES


def test_a_vintage_edited_after_download_is_refused_by_name(server, snapshot_dir, tmp_path):
    """The digest recorded at download is checked on every read: a changed file is exit 2
    naming it, not numbers read from it."""
    store = VintageStore(tmp_path / "sources")
    outcome = refresh_one("tic", fetch("tic", server, snapshot_dir), store, snapshot_dir, "u")
    assert outcome.ok
    assert refreshed_vintages(store)["tic"].vintage_id == outcome.vintage_id
    vintage = store.latest("tic")
    edited = next(p for p in vintage.path.iterdir() if p.name != "fetch.json")
    edited.write_text(edited.read_text().replace("1", "2", 1))
    with pytest.raises(DataError, match=edited.name):
        refreshed_vintages(store)


def test_a_conflicting_duplicate_dts_row_is_refused_naming_the_day(server, snapshot_dir, tmp_path):
    """The service sends 2024-03-14 twice, $50bn apart: neither is kept silently, the
    refresh fails naming the day and both amounts, and the store is unchanged."""
    store = VintageStore(tmp_path / "sources")
    good = refresh_one("dts", fetch("dts", server, snapshot_dir), store, snapshot_dir, "x")
    kept = {p: p.read_bytes() for p in (tmp_path / "sources").rglob("*") if p.is_file()}
    row = next(r for r in server.fiscal if r["record_date"] == "2024-03-14")
    twin = {**row, "open_today_bal": str(int(row["open_today_bal"]) + 50_000)}
    server.fiscal.insert(server.fiscal.index(row) + 1, twin)
    bad = refresh_one("dts", fetch("dts", server, snapshot_dir), store, snapshot_dir, "x")
    assert not bad.ok
    assert "conflicting duplicate rows" in bad.message and "2024-03-14" in bad.message
    assert row["open_today_bal"] in bad.message and twin["open_today_bal"] in bad.message
    after = {p: p.read_bytes() for p in (tmp_path / "sources").rglob("*") if p.is_file()}
    assert after == kept and store.latest("dts").vintage_id == good.vintage_id
    # an exact repeat of a row is the same balance: accepted
    server.fiscal.remove(twin)
    server.fiscal.insert(server.fiscal.index(row) + 1, dict(row))
    assert refresh_one("dts", fetch("dts", server, snapshot_dir), store, snapshot_dir, "x").ok
