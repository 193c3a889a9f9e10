"""Dense backtest: fit selection, no look-ahead across origins and fits, a real Dask cluster."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from diagnostics.evaluation import baselines, runner
from diagnostics.evaluation.targets import onset_targets
from tests.conftest import repo_env

REPO = Path(__file__).resolve().parents[1]


def fake_store(tmp_path: Path, fits: list[tuple[str, bool]]) -> Path:
    """Manifests only (cut-off, gate) with an empty idata.nc: enough for the schedule."""
    for cutoff, passed in fits:
        d = tmp_path / f"{cutoff}_fit"
        d.mkdir(parents=True)
        (d / "manifest.json").write_text(
            json.dumps({"data": {"cutoff": cutoff}, "convergence": {"passed": passed}})
        )
        (d / "idata.nc").write_text("")
    return tmp_path


def test_each_origin_uses_the_latest_passing_fit_made_on_or_before_it(tmp_path):
    store = fake_store(
        tmp_path, [("2015-01-07", True), ("2016-01-06", False), ("2017-01-04", True)]
    )
    schedule = runner.fit_schedule(store)
    pick = {
        o: runner.fit_for(pd.Timestamp(o), schedule)
        for o in ("2014-12-31", "2015-01-07", "2016-06-29", "2017-01-04", "2019-06-26")
    }
    assert pick["2014-12-31"] is None  # nothing yet
    assert pick["2015-01-07"][0] == pd.Timestamp("2015-01-07")  # made that day
    assert pick["2016-06-29"][0] == pd.Timestamp("2015-01-07")  # refused refit skipped
    assert pick["2017-01-04"][0] == pd.Timestamp("2017-01-04")
    for origin, chosen in pick.items():
        assert chosen is None or chosen[0] <= pd.Timestamp(origin)


def test_month_end_origins_are_the_last_wednesday_of_each_month():
    origins = runner.month_end_wednesdays("2019-01-01", pd.Timestamp("2019-06-30"))
    assert [str(o.date()) for o in origins] == [
        "2019-01-30",
        "2019-02-27",
        "2019-03-27",
        "2019-04-24",
        "2019-05-29",
        "2019-06-26",
    ]


def test_onset_target_and_exclusions_on_the_real_catalogue(panel):
    from diagnostics.evaluation.targets import event_weeks

    targets = onset_targets(event_weeks(panel, "catalogue"), 13).frame
    at = targets.loc
    # 2019-08-28: three weeks before the repo spike, calm since 2014: scored, onset ahead
    assert at[pd.Timestamp("2019-08-28"), "scored"] and at[pd.Timestamp("2019-08-28"), "onset"]
    # inside the late-2025 episode: not scored for onset (the 2026-01-07 origin of old)
    assert not at[pd.Timestamp("2026-01-07"), "scored"]
    # its last week: under way at the origin, and no event week followed in the window
    assert at[pd.Timestamp("2026-01-07"), "under_way"]
    assert at[pd.Timestamp("2026-01-07"), "any_event_week"] == 0
    # SVB's last event week is 2023-04-05 (it ended Friday 03-31): 13 weeks on the origin
    # is still excluded, 14 weeks on it is scored
    assert not at[pd.Timestamp("2023-07-05"), "scored"]
    assert at[pd.Timestamp("2023-07-12"), "scored"]
    # nine counted onsets in all
    from diagnostics.evaluation.targets import onsets

    assert onsets(event_weeks(panel, "catalogue").to_numpy()).sum() == 9


def test_climatology_and_signal_read_only_weeks_known_at_the_origin(panel):
    from diagnostics.evaluation.targets import event_weeks

    under_way = event_weeks(panel, "objective")
    origin = pd.Timestamp("2019-06-26")
    clim = baselines.climatology_forecast(under_way, origin, 13, 13)
    changed = under_way.copy()
    changed.loc[origin + pd.Timedelta(weeks=1) :] = 1  # rewrite the future
    assert baselines.climatology_forecast(changed, origin, 13, 13) == clim
    signal = baselines.signal_forecast(panel, under_way, origin, 13, 13)
    assert baselines.signal_forecast(panel, changed, origin, 13, 13) == signal


def one_fit_store(fit, tmp_path: Path) -> Path:
    """A fits directory holding a copy of one stored fit."""
    store = tmp_path / "fits"
    store.mkdir()
    shutil.copytree(fit.path, store / fit.path.name)
    return store


def rewrite_after(path: Path, origin: pd.Timestamp, rng: np.random.Generator) -> str:
    """The file's text with every numeric value not yet public at ``origin`` scaled by one
    random factor in [1.1, 1.25] per file (plausible and consistent across columns, so no
    check refuses it; different, so any read of it would change a forecast)."""
    from data.registry import FILES, SERIES

    lags = {s.file: s.known_at for s in SERIES.values()}
    for spec in FILES.values():
        for name in spec.file.split(" + "):
            lags[name] = spec.known_at
    frame = pd.read_csv(path)
    column = "date" if "date" in frame else "Report_Date_as_YYYY-MM-DD"
    dates = pd.DatetimeIndex(pd.to_datetime(frame[column]))
    later = np.asarray(lags.get(path.name, lambda d: d)(dates) > origin)
    factor = rng.uniform(1.1, 1.25)
    for c in frame.select_dtypes("number").columns:
        if c.startswith(("CFTC_", "As_of")):
            continue  # codes, not values
        scaled = frame.loc[later, c] * factor
        if pd.api.types.is_integer_dtype(frame[c]):
            scaled = scaled.round().astype(frame[c].dtype)  # counts stay counts
        frame.loc[later, c] = scaled
    return frame.to_csv(index=False)


def catalogue_with_a_later_event(tmp_path: Path, origin: pd.Timestamp) -> Path:
    from data import catalogue

    frame = pd.read_csv(catalogue.LIQUIDITY_FILE, dtype=str, keep_default_na=False)
    row = frame.iloc[-1].copy()
    start = origin + pd.Timedelta(weeks=2)
    row["id"], row["start"] = "X1", str(start.date())
    row["end"] = str((start + pd.Timedelta(weeks=3)).date())
    row["counts_as_event"], row["kind"] = "yes", "funding"
    path = tmp_path / "liquidity_events.csv"
    pd.concat([frame, row.to_frame().T]).to_csv(path, index=False)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("origin", ["2021-02-24", "2022-06-29"])
def test_no_forecaster_reads_anything_published_after_its_origin(
    small_real_fit, snapshot_dir, tmp_path, monkeypatch, origin
):
    """Every input file's values published after the origin are rewritten, and a counted
    catalogue event is added after it: the model, the logit, MS-TVTP, the signal rule and
    climatology give the very same forecasts."""
    from data import catalogue

    store = one_fit_store(small_real_fit, tmp_path)
    origin_ts = pd.Timestamp(origin)
    rng = np.random.default_rng(7)
    altered = tmp_path / "altered"
    altered.mkdir()
    for f in snapshot_dir.iterdir():
        if f.suffix == ".csv":
            (altered / f.name).write_text(rewrite_after(f, origin_ts, rng))
        else:
            (altered / f.name).symlink_to(f)
    records = {}
    for name, data in (("real", None), ("altered", str(altered))):
        if name == "altered":
            monkeypatch.setattr(
                catalogue, "LIQUIDITY_FILE", catalogue_with_a_later_event(tmp_path, origin_ts)
            )
        spec = runner.ForecastSpec(fits={"regime": str(store)}, data_dir=data, start="2016-01-06")
        fitted = runner.logit_fits(spec, [origin])
        records[name] = runner.forecast_at(spec, origin, runner.logit_for(origin_ts, fitted))
        assert records[name]["models"]["regime"]["fit_cutoff"] <= origin
        assert records[name]["targets"]["catalogue"]["bayes_logit"] is not None
    for key in ("models", "ms_tvtp", "targets", "qe"):
        assert records["real"][key] == records["altered"][key], key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_a_tiny_dense_backtest_on_a_real_scheduler_and_two_workers(
    small_real_fit, tmp_path, snapshot_dir
):
    """``dask scheduler`` and two ``dask worker`` processes from their command lines."""
    store = one_fit_store(small_real_fit, tmp_path)
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask_cli = Path(sys.executable).with_name("dask")
    scheduler = subprocess.Popen(
        [str(dask_cli), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        env=repo_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers = [
        subprocess.Popen(
            [
                str(dask_cli),
                "worker",
                address,
                "--nthreads",
                "1",
                "--no-dashboard",
                "--name",
                f"w{i}",
            ],
            cwd=REPO,
            env=repo_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(2)
    ]
    try:
        from dask.distributed import Client

        deadline = time.time() + 120
        while True:
            try:
                with Client(address, timeout=5) as client:
                    if len(client.scheduler_info()["workers"]) == 2:
                        break
            except OSError:
                pass
            assert time.time() < deadline, "the cluster did not come up"
            time.sleep(1)
        spec = runner.ForecastSpec(
            fits={"regime": str(store)}, data_dir=str(snapshot_dir), start="2018-01-03"
        )
        origins = ["2021-01-27", "2021-02-24", "2021-03-31"]
        out = tmp_path / "dense"
        records = runner.run_forecasts(spec, origins, out, scheduler=address)
        assert [r["origin"] for r in records] == origins
        for r in records:
            assert r["models"]["regime"]["fit_id"] == small_real_fit.fit_id
            p = r["models"]["regime"]["p_event"]
            assert 0 <= p["q05"] <= p["mean"] <= p["q95"] <= 1
            for target in ("catalogue", "objective"):
                assert 0 < r["targets"][target]["climatology"] < 1
                assert 0 < r["targets"][target]["bayes_logit"] < 1
            assert set(r["realized"]) == {"catalogue", "objective", "qe"}
            assert r["realized"]["qe"]["qe_at_risk"] is False  # 2021: the Fed was buying
        # resumable: a second run computes nothing
        mtimes = {p.name: p.stat().st_mtime_ns for p in (out / "origins").iterdir()}
        runner.run_forecasts(spec, origins, out, scheduler=address)
        assert mtimes == {p.name: p.stat().st_mtime_ns for p in (out / "origins").iterdir()}
        assert np.isfinite([r["seconds"] for r in records]).all()
        for r in records:  # where an origin's time went: every part, summing to at most its whole
            parts = r["seconds_by_part"]
            assert set(parts) == {"panel", "model", "ms_tvtp", "other_baselines"}
            assert 0 < sum(parts.values()) <= r["seconds"] + 0.1
    finally:
        for proc in [*workers, scheduler]:
            proc.terminate()
        for proc in [*workers, scheduler]:
            proc.wait(timeout=30)
