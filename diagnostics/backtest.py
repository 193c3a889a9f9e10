"""Pseudo-real-time backtest: rolling origins run in parallel on Dask, resumable.

Layout of the output directory::

    OUT/backtest.json          the spec (and its digest) the results belong to
    OUT/origins/<date>.json    one record per finished origin (written atomically)
    OUT/failed/<date>.txt      the traceback of an origin that raised (retried next run)
    OUT/fits/<fit-id>/         each origin's fit record (manifest; draws only with --keep-fits)
    OUT/scores.csv, OUT/forecasts.csv, OUT/*.png, OUT/summary.html   (diagnostics.scores_report)

An origin whose record exists is never refit, so an interrupted run resumes where it
stopped. Records are written by the client as each future completes; a worker only needs
the code and the data snapshot (and a shared ``fits_dir`` if the fit records are wanted).
"""

from __future__ import annotations

import json
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from data.atomic import atomic_write_text
from data.catalogue import week_of
from data.panel import latest_data_date
from data.sources import resolve_source
from diagnostics.origin import BacktestSpec, run_origin

FREQUENCIES = {"month": "MS", "quarter": "QS", "year": "YS"}


class BacktestError(RuntimeError):
    """The output directory belongs to a different backtest, or the origins are empty."""


def origin_dates(
    start: str, every: str, horizon: int, data_end: pd.Timestamp, end: str | None = None
) -> list[str]:
    """Wednesdays (panel weeks) from ``start``, one per period, whose window has been seen.

    The last origin is at least ``horizon`` weeks before the data's last date, so every
    scored outcome lies inside the data snapshot's period.
    """
    if every not in FREQUENCIES:
        raise BacktestError(f"--every {every!r}: use one of {sorted(FREQUENCIES)}")
    last = data_end - pd.Timedelta(weeks=horizon)
    if end is not None:
        last = min(last, pd.Timestamp(end))
    firsts = pd.date_range(pd.Timestamp(start), last, freq=FREQUENCIES[every])
    weeks = sorted({week_of(d) for d in firsts if week_of(d) <= last})
    return [str(w.date()) for w in weeks]


@dataclass
class BacktestRun:
    out: Path
    spec: BacktestSpec
    records: list[dict]
    computed: list[str]
    reused: list[str]
    failed: dict[str, str]
    seconds: float


def check_spec(out: Path, spec: BacktestSpec) -> None:
    """Refuse to mix results of different specs in one directory; record the spec."""
    path = out / "backtest.json"
    if path.exists():
        stored = json.loads(path.read_text())
        if stored.get("digest") != spec.digest():
            raise BacktestError(
                f"{out} holds a backtest with a different spec (digest {stored.get('digest')}, "
                f"this run {spec.digest()}); use another --out or remove it"
            )
        return
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps({"digest": spec.digest(), "spec": spec.to_dict()}, indent=2))


def origin_file(out: Path, origin: str) -> Path:
    return out / "origins" / f"{origin}.json"


def finished(out: Path, origins: list[str]) -> list[str]:
    return [o for o in origins if origin_file(out, o).is_file()]


def make_client(scheduler: str | None, n_workers: int):
    """A Dask client: an existing scheduler's address, or a LocalCluster of processes.

    One thread per worker: each fit already runs its chains on parallel JAX threads, and
    PyTensor/JAX are not meant to share a process between concurrent fits.
    """
    from dask.distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler)
    # distributed starts the scheduler's HTTP server even with dashboard_address=None
    # (dask/distributed#7207 and #8136, open): on 127.0.0.1:8787, or with a warning on
    # another port when a second cluster runs. Ask for a free local port outright; the
    # endpoint cannot be switched off in this version, and everything stays on 127.0.0.1
    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        worker_dashboard_address="127.0.0.1:0",
    )
    return Client(cluster)


def run_backtest(
    spec: BacktestSpec,
    origins: list[str],
    out: Path,
    *,
    scheduler: str | None = None,
    n_workers: int = 2,
    serial: bool = False,
    log=print,
) -> BacktestRun:
    """Run every unfinished origin (on Dask unless ``serial``) and store each record."""
    if not origins:
        raise BacktestError(
            "no origins: the start is after the last origin whose outcome "
            "is known; move --start earlier"
        )
    out = Path(out)
    check_spec(out, spec)
    (out / "origins").mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    reused = finished(out, origins)
    todo = [o for o in origins if o not in reused]
    log(f"backtest: {len(origins)} origins, {len(reused)} already done, {len(todo)} to run")
    computed: list[str] = []
    failed: dict[str, str] = {}

    def store(origin: str, record: dict | None, error: str | None) -> None:
        if record is not None:
            atomic_write_text(origin_file(out, origin), json.dumps(record, indent=2))
            (out / "failed" / f"{origin}.txt").unlink(missing_ok=True)
            computed.append(origin)
            gate = "passed" if record["gate_passed"] else "FAILED gate"
            log(
                f"  {origin}: done in {record['seconds']:.0f} s ({gate}); "
                f"P(event) {record['model']['liquidity_event']['mean']:.1%}"
            )
        else:
            (out / "failed").mkdir(exist_ok=True)
            atomic_write_text(out / "failed" / f"{origin}.txt", error or "")
            failed[origin] = (error or "").strip().splitlines()[-1] if error else "error"
            log(f"  {origin}: ERROR {failed[origin]}")

    if spec.warm_start:
        # each refit starts from the last passing one before it: a chain in date order
        log("  warm starts: refits run in date order, one after another")
        done = {o: json.loads(origin_file(out, o).read_text()) for o in reused}
        last_passing = None
        for origin in sorted(origins):
            if origin in done:
                record = done[origin]
            else:
                try:
                    record = run_origin(spec, origin, last_passing)
                    store(origin, record, None)
                except Exception:  # noqa: BLE001 - recorded per origin, the run goes on
                    store(origin, None, traceback.format_exc())
                    continue
            if record["gate_passed"]:
                last_passing = record
    elif serial:
        for origin in todo:
            try:
                store(origin, run_origin(spec, origin), None)
            except Exception:  # noqa: BLE001 - recorded per origin, the run goes on
                store(origin, None, traceback.format_exc())
    elif todo:
        from dask.distributed import as_completed

        with make_client(scheduler, n_workers) as client:
            futures = {
                client.submit(run_origin, spec, o, key=f"origin-{o}-{spec.digest()}", pure=False): o
                for o in todo
            }
            for future in as_completed(futures):
                origin = futures[future]
                try:
                    store(origin, future.result(), None)
                except Exception:  # noqa: BLE001
                    store(origin, None, traceback.format_exc())
    records = [json.loads(origin_file(out, o).read_text()) for o in finished(out, origins)]
    return BacktestRun(out, spec, records, computed, reused, failed, time.perf_counter() - started)


def default_origins(
    spec: BacktestSpec, start: str, every: str, end: str | None = None
) -> list[str]:
    source = resolve_source(spec.data_dir)
    return origin_dates(start, every, spec.horizon, latest_data_date(source), end)
