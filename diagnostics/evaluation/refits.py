"""The backtest's refits: gated fits on the data as known at each refit date, on Dask,
resumable. The forecasts at every origin are the runner's (:mod:`.runner`), made from the
latest refit that passed the gate.

Layout of the output directory::

    OUT/backtest.json          the refit spec (and its digest) the refits belong to
    OUT/origins/<date>.json    one record per finished refit (written atomically)
    OUT/failed/<date>.txt      the traceback of a refit that raised (retried next run)
    OUT/fits/<fit-id>/         each refit's fit (manifest, draws, warm-start state)

A refit whose record exists is never run again, so an interrupted run resumes where it
stopped. Records are written by the client as each future completes; a worker only needs
the code and the data snapshot (and a shared ``fits_dir``).
"""

from __future__ import annotations

import hashlib
import json
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from data.atomic import atomic_write_text
from data.catalogue import week_of
from data.defaults import DEFAULT_QE_DEFINITION, DEFAULT_SEED, DEFAULT_START, HORIZON_WEEKS
from data.drivers import VARIANTS
from data.panel import build_panel, latest_data_date
from data.sources import resolve_source
from diagnostics.evaluation.stored import (
    BacktestError,
    output_dir,
    read_spec,
    refit_problem,
    reusable,
)
from diagnostics.evaluation.tasks import keep, run_each
from model.equations.config import ModelConfig
from model.equations.inputs import MIN_OBSERVED_WEEKS
from model.inference.runtime import configure
from model.inference.settings import BACKTEST_SAMPLER, GateThresholds


@dataclass(frozen=True)
class RefitSpec:
    """Everything that decides a refit; its digest guards resumed runs."""

    data_dir: str | None = None
    horizon: int = HORIZON_WEEKS
    qe_definition: str = DEFAULT_QE_DEFINITION
    start: str = DEFAULT_START
    sampler: dict = field(default_factory=lambda: dict(BACKTEST_SAMPLER))
    gate: dict = field(default_factory=lambda: asdict(GateThresholds()))
    seed: int = DEFAULT_SEED
    fits_dir: str = "backtest/fits"
    keep_idata: bool = False
    events: str = "catalogue"
    event_coef_prior_sd: float = 0.0
    move_observable: str = ModelConfig().move_observable
    #: which drivers the transitions and QE hazard read (:data:`data.drivers.VARIANTS`)
    variant: str = "default"
    #: each refit starts from the previous origin's passing fit (``fit.py --warm-start``);
    #: the refits then run in date order, one after another
    warm_start: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    def digest(self) -> str:
        """Identity of the results: what changes a forecast (not where fits are kept)."""
        d = self.to_dict()
        for key in ("fits_dir", "keep_idata"):
            d.pop(key)
        # the identity backtests of the original design had before these choices existed
        if d["events"] == "catalogue":
            d.pop("events")
        if d["event_coef_prior_sd"] == 0.0:
            d.pop("event_coef_prior_sd")
        if d["move_observable"] == "level":
            d.pop("move_observable")
        if not d["warm_start"]:
            d.pop("warm_start")
        if d["variant"] == "default":
            d.pop("variant")
        d["model_version"] = ModelConfig().version
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


def origin_seed(spec: RefitSpec, origin: pd.Timestamp) -> int:
    """A seed fixed by the origin date, so results do not depend on scheduling order."""
    return spec.seed + int(origin.strftime("%Y%m%d")) % 100_003


def drivers_known_at(frame: pd.DataFrame, variant: str = "default") -> tuple[str, ...]:
    """The variant's drivers with enough observations as known at the cut-off (in model
    order)."""
    return tuple(d for d in VARIANTS[variant] if frame[d].notna().sum() >= MIN_OBSERVED_WEEKS)


#: The chain state a refit keeps when its draws are removed, for the next refit's warm start.
WARM_FILE = "warm_start.nc"


def previous_fit(spec: RefitSpec, previous: dict | None):
    """The previous origin's fit as far as a warm start needs it (manifest and chain state),
    or None when there is none or it kept no chain state."""
    import arviz as az
    import xarray as xr

    from model.records.store import Fit

    if not spec.warm_start or previous is None:
        return None
    path = Path(spec.fits_dir) / previous["fit_id"]
    state = path / WARM_FILE
    if not state.is_file():
        return None
    manifest = json.loads((path / "manifest.json").read_text())
    config = ModelConfig.from_dict(manifest["model"]["config"])
    with xr.open_dataset(state) as ds:
        idata = az.InferenceData(warm_start=ds.load())
    return Fit(path, manifest, config, idata)


FREQUENCIES = {"month": "MS", "quarter": "QS", "year": "YS"}


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
class RefitRun:
    out: Path
    spec: RefitSpec
    records: list[dict]
    computed: list[str]
    reused: list[str]
    failed: dict[str, str]
    seconds: float


def check_spec(out: Path, spec: RefitSpec) -> None:
    """Refuse to mix results of different specs in one directory; record the spec."""
    path = out / "backtest.json"
    stored = read_spec(path)
    if stored is not None:
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


def finished(out: Path, origins: list[str], log=print) -> list[str]:
    """The refits whose stored record is whole (a truncated or edited one is redone)."""
    return list(reusable(out / "origins", origins, refit_problem, log))


def run_refits(
    spec: RefitSpec,
    origins: list[str],
    out: Path,
    *,
    scheduler: str | None = None,
    n_workers: int = 2,
    serial: bool = False,
    log=print,
) -> RefitRun:
    """Run every unfinished origin (on Dask unless ``serial``) and store each record."""
    if not origins:
        raise BacktestError(
            "no origins: the start is after the last origin whose outcome "
            "is known; move --start earlier"
        )
    out = output_dir(out)
    check_spec(out, spec)
    (out / "origins").mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    reused = finished(out, origins, log)
    todo = [o for o in origins if o not in reused]
    log(f"refits: {len(origins)} dates, {len(reused)} already done, {len(todo)} to run")
    computed: list[str] = []
    failed: dict[str, str] = {}

    def store(origin: str, record: dict | None, error: str | None) -> None:
        problem = keep(out, origin, record, error)
        if problem is None:
            computed.append(origin)
            gate = "passed" if record["gate_passed"] else "FAILED gate"
            log(f"  refit {origin}: done in {record['seconds']:.0f} s ({gate})")
        else:
            failed[origin] = problem
            log(f"  refit {origin}: ERROR {problem}")

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
                    record = refit_at(spec, origin, last_passing)
                    store(origin, record, None)
                except Exception:  # noqa: BLE001 - recorded per origin, the run goes on
                    store(origin, None, traceback.format_exc())
                    continue
            if record["gate_passed"]:
                last_passing = record
    else:
        executor = dict(scheduler=scheduler, n_workers=n_workers, serial=serial)
        name = f"refit-{spec.digest()}"
        run_each(refit_at, todo, lambda o: (spec, o), store, name=name, **executor)
    records = list(reusable(out / "origins", origins, refit_problem, log).values())
    return RefitRun(out, spec, records, computed, reused, failed, time.perf_counter() - started)


def default_origins(spec: RefitSpec, start: str, every: str, end: str | None = None) -> list[str]:
    source = resolve_source(spec.data_dir)
    return origin_dates(start, every, spec.horizon, latest_data_date(source), end)


def refit_at(spec: RefitSpec, origin: str, previous: dict | None = None) -> dict:
    """One gated refit on the data as known at ``origin``; returns its record (JSON-ready).

    ``previous``: the record of the refit before (warm-started runs only)."""
    configure()  # a Dask worker started from its command line has not: before JAX loads
    from model.inference.fitting import run_fit
    from model.inference.settings import SamplerSettings

    started = time.perf_counter()
    origin_ts = pd.Timestamp(origin)
    source = resolve_source(spec.data_dir)
    panel = build_panel(source, start=spec.start, end=origin_ts)
    config = ModelConfig(
        qe_definition=spec.qe_definition,
        start=spec.start,
        events=spec.events,
        event_coef_prior_sd=spec.event_coef_prior_sd,
        move_observable=spec.move_observable,
        drivers=drivers_known_at(panel.frame.loc[spec.start :], spec.variant),
    )
    settings = SamplerSettings(seed=origin_seed(spec, origin_ts), **spec.sampler)
    result = run_fit(
        source,
        end=origin_ts,
        config=config,
        settings=settings,
        thresholds=GateThresholds(**spec.gate),
        fits_dir=Path(spec.fits_dir),
        progressbar=False,
        prior_draws=100,
        warm_from=previous_fit(spec, previous),
    )
    record = {
        "origin": origin,
        "last_data_week": str(result.inputs.weeks[-1].date()),
        "drivers": list(config.drivers),
        "fit_id": result.manifest["fit_id"],
        "gate_passed": bool(result.passed),
        "convergence": result.manifest["convergence"],
        "fit_seconds": result.manifest["wall_time_s"],
        "seconds": round(time.perf_counter() - started, 1),
        "spec_digest": spec.digest(),
        "initialization": result.manifest["initialization"],
    }
    if spec.warm_start and "warm_start" in result.idata.groups():
        result.idata["warm_start"].to_netcdf(result.path / WARM_FILE)
    if not spec.keep_idata:
        # the manifest (gate record, data vintage) stays; the draws are the bulky part
        (result.path / "idata.nc").unlink(missing_ok=True)
        (result.path / "REMOVED_idata.txt").write_text(
            "idata.nc removed: this refit's spec did not keep draws\n"
        )
    return record
