"""A tiny backtest on a Dask LocalCluster, interrupted and resumed, on the real snapshot.

Three quarterly refits and origins (2019-07 .. 2020-01), fits from 2017-07 with tiny draws:
the default gate must refuse such under-sampled fits, and the report must say the model had
no forecast at those origins instead of dropping them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from diagnostics.evaluation.refits import BacktestError, RefitSpec, check_spec, origin_dates

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

TINY = [
    "--start",
    "2019-07-01",
    "--end",
    "2020-01-31",
    "--fit-start",
    "2017-07-05",
    "--draws",
    "40",
    "--tune",
    "40",
    "--every",
    "quarter",
    "--refit-every",
    "quarter",
]


def backtest_cli(out: Path, snapshot_dir: Path, *extra: str, **popen) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "diagnostics",
        "backtest",
        *TINY,
        "--data",
        str(snapshot_dir),
        "--out",
        str(out),
        *extra,
    ]
    return subprocess.Popen(
        cmd,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        **popen,
    )


def test_origin_dates_are_wednesdays_with_a_closed_window():
    origins = origin_dates("2019-07-01", "quarter", 13, pd.Timestamp("2020-03-25"))
    assert origins == ["2019-07-03", "2019-10-02"]  # 2020-01-01 + 13 weeks > data end
    assert all(pd.Timestamp(o).day_of_week == 2 for o in origins)
    with pytest.raises(BacktestError, match="--every"):
        origin_dates("2019-07-01", "fortnight", 13, pd.Timestamp("2020-03-25"))


def test_a_different_spec_never_mixes_with_stored_results(tmp_path):
    check_spec(tmp_path, RefitSpec(horizon=13))
    check_spec(tmp_path, RefitSpec(horizon=13, fits_dir="elsewhere"))  # same results
    with pytest.raises(BacktestError, match="different spec"):
        check_spec(tmp_path, RefitSpec(horizon=8))


def test_tiny_backtest_on_local_cluster_resumes_after_interruption(tmp_path, snapshot_dir):
    out = tmp_path / "bt"
    origins_dir = out / "origins"
    # 1) start on one worker (origins run one at a time), kill everything after the first
    proc = backtest_cli(out, snapshot_dir, "--workers", "1")
    deadline = time.time() + 600
    while time.time() < deadline and not list(origins_dir.glob("*.json")):
        assert proc.poll() is None, proc.stdout.read()
        time.sleep(1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first = {p.name: p.stat().st_mtime_ns for p in origins_dir.glob("*.json")}
    assert 1 <= len(first) < 3, "the interruption came too late to test resuming"

    # 2) rerun with two workers: finished origins are reused, not refit
    proc = backtest_cli(out, snapshot_dir, "--workers", "2")
    log, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, log
    assert f"{len(first)} already done" in log
    records = {p.name: p.stat().st_mtime_ns for p in origins_dir.glob("*.json")}
    assert set(records) == {"2019-07-03.json", "2019-10-02.json", "2020-01-01.json"}
    assert all(records[name] == mtime for name, mtime in first.items())

    # 3) every refit: data as known then, a gated fit record
    for name in records:
        r = json.loads((origins_dir / name).read_text())
        assert r["last_data_week"] == r["origin"]
        assert r["gate_passed"] is False  # 2 x 40 draws cannot reach ESS 400
        assert (out / "fits" / r["fit_id"] / "manifest.json").is_file()
    assert "3 refused" in log

    # 4) the same runner forecasts at each (quarterly) origin: no refit passed, so the model
    # has no forecast anywhere and says why; the baselines are there; nothing is dropped
    table = pd.read_csv(out / "dense" / "dense_forecasts.csv")
    assert set(table["origin"]) == {"2019-07-03", "2019-10-02", "2020-01-01"}
    assert set(table["horizon"]) == {13}
    model = table[table["kind"] == "model"]
    assert model["p"].isna().all() and model["missing"].str.contains("passed the gate").all()
    baselines = table[(table["kind"] == "baseline") & (table["target"] == "catalogue")]
    assert {"climatology", "bayes_logit", "ms_tvtp", "signal"} <= set(baselines["forecaster"])
    assert baselines.loc[baselines["forecaster"] == "climatology", "p"].notna().all()
    missing = pd.read_csv(out / "dense" / "missing_forecasts.csv")
    assert set(missing["forecaster"]) >= {"regime_jump"}
    page = (out / "dense" / "summary.html").read_text()
    assert "Origins without a forecast" in page and "at least 10 needed" in page
    # the run's stages are timed (the second run reused the first run's refits)
    meta = json.loads((out / "dense" / "dense_meta.json").read_text())
    assert set(meta["stage_seconds"]) == {"refits", "forecasts", "scores"}
    assert all(v >= 0 for v in meta["stage_seconds"].values())
    assert "3 refits every quarter, 3 refused by the gate" in meta["description"]


def test_a_warm_started_backtest_chains_each_refit_to_the_previous_one(tmp_path, snapshot_dir):
    """With warm starts the refits run in date order and each starts from the last passing
    refit before it; its draws may be removed, the chain state it leaves is kept."""
    from dataclasses import asdict

    from diagnostics.evaluation.refits import run_refits
    from model.inference.settings import BACKTEST_SAMPLER, GateThresholds

    spec = RefitSpec(
        data_dir=str(snapshot_dir),
        start="2017-07-05",
        sampler={**BACKTEST_SAMPLER, "draws": 60, "tune": 60},
        gate=asdict(GateThresholds(1.5, 5, 5, 1000)),  # machinery, not inference
        fits_dir=str(tmp_path / "fits"),
        warm_start=True,
    )
    assert spec.digest() != RefitSpec(**{**asdict(spec), "warm_start": False}).digest()
    run = run_refits(spec, ["2019-07-03", "2019-10-02"], tmp_path / "bt", log=lambda *_: None)
    first, second = sorted(run.records, key=lambda r: r["origin"])
    assert first["gate_passed"]
    assert "warm_start_from" not in first["initialization"]
    assert second["initialization"]["warm_start_from"] == first["fit_id"]
    kept = tmp_path / "fits" / first["fit_id"]
    assert (kept / "warm_start.nc").is_file() and not (kept / "idata.nc").exists()
