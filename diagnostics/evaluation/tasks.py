"""Running one unit of work per date, serially or as Dask tasks, and keeping each result.

Both stages of the backtest (the refits, the forecasts) are "a function of a date, stored as
a JSON record": this runs them the same way on any executor (this process, a LocalCluster,
or an existing scheduler), writes each record atomically as it completes, and keeps the
traceback of a unit that raised under ``failed/`` so the run goes on and a rerun retries it.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from pathlib import Path

from data.atomic import atomic_write_text


def make_client(scheduler: str | None, n_workers: int):
    """A Dask client: an existing scheduler's address, or a LocalCluster of processes.

    One thread per worker: each fit already runs its chains on parallel JAX threads, and
    PyTensor/JAX are not meant to share a process between concurrent fits. The LocalCluster
    speaks TLS with certificates made for this run alone (``Security.temporary``, mutual
    authentication): a scheduler runs whatever code a connected client sends it, so any
    other local process must not be able to connect.
    """
    from dask.distributed import Client, LocalCluster
    from distributed.security import Security

    if scheduler:
        return Client(scheduler)
    security = Security.temporary()
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
        protocol="tls://",
        security=security,
    )
    return Client(cluster, security=security)


def keep(folder: Path, item: str, record: dict | None, error: str | None) -> str | None:
    """Write ``record`` as ``folder/origins/<item>.json``, or the traceback under ``failed/``;
    returns the traceback's last line when it failed."""
    failed = folder / "failed" / f"{item}.txt"
    if record is not None:
        atomic_write_text(folder / "origins" / f"{item}.json", json.dumps(record, indent=2))
        failed.unlink(missing_ok=True)
        return None
    failed.parent.mkdir(exist_ok=True)
    atomic_write_text(failed, error or "")
    return (error or "error").strip().splitlines()[-1]


def run_each(
    task: Callable[..., dict],
    todo: list[str],
    arguments: Callable[[str], tuple],
    store: Callable[[str, dict | None, str | None], None],
    *,
    scheduler: str | None = None,
    n_workers: int = 2,
    serial: bool = False,
    name: str = "task",
) -> None:
    """``store(item, task(*arguments(item)), None)`` for every item, or
    ``store(item, None, traceback)`` when it raised: in this process when ``serial``, else
    as Dask tasks, stored in the order they complete."""
    if serial:
        for item in todo:
            try:
                store(item, task(*arguments(item)), None)
            except Exception:  # noqa: BLE001 - recorded per item, the run goes on
                store(item, None, traceback.format_exc())
        return
    if not todo:
        return
    from dask.distributed import as_completed

    with make_client(scheduler, n_workers) as client:
        futures = {
            client.submit(task, *arguments(item), key=f"{name}-{item}", pure=False): item
            for item in todo
        }
        for future in as_completed(futures):
            try:
                store(futures[future], future.result(), None)
            except Exception:  # noqa: BLE001
                store(futures[future], None, traceback.format_exc())
