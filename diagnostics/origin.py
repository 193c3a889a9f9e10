"""One backtest origin: fit on data as known then, forecast, run the baselines, record truth.

``run_origin`` is the unit of work Dask ships to a worker: it takes only plain values (a
:class:`BacktestSpec` and a date), reads the data itself and returns a JSON-ready dict, so a
worker on another machine needs the code and the data snapshot, nothing else.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import pandas as pd

from data.defaults import DEFAULT_START
from data.panel import build_panel
from data.sources import resolve_source
from diagnostics.baselines import baseline_forecasts
from diagnostics.outcomes import realized
from model.config import DRIVER_ORDER, ModelConfig
from model.inputs import MIN_OBSERVED_WEEKS, model_inputs
from model.runtime import configure
from model.settings import BACKTEST_SAMPLER, GateThresholds


@dataclass(frozen=True)
class BacktestSpec:
    """Everything that decides an origin's result; its digest guards resumed runs."""

    data_dir: str | None = None
    horizon: int = 13
    qe_definition: str = "strict"
    start: str = DEFAULT_START
    sampler: dict = field(default_factory=lambda: dict(BACKTEST_SAMPLER))
    gate: dict = field(default_factory=lambda: asdict(GateThresholds()))
    forecast_draws: int = 1000
    seed: int = 20061
    fits_dir: str = "backtest/fits"
    keep_idata: bool = False
    events: str = "catalogue"
    event_coef_prior_sd: float = 0.0
    move_observable: str = ModelConfig().move_observable
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
        d["model_version"] = ModelConfig().version
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


def origin_seed(spec: BacktestSpec, origin: pd.Timestamp) -> int:
    """A seed fixed by the origin date, so results do not depend on scheduling order."""
    return spec.seed + int(origin.strftime("%Y%m%d")) % 100_003


def drivers_known_at(frame: pd.DataFrame) -> tuple[str, ...]:
    """The drivers with enough observations as known at the cut-off (in model order)."""
    return tuple(d for d in DRIVER_ORDER if frame[d].notna().sum() >= MIN_OBSERVED_WEEKS)


#: The chain state a refit keeps when its draws are removed, for the next refit's warm start.
WARM_FILE = "warm_start.nc"


def previous_fit(spec: BacktestSpec, previous: dict | None):
    """The previous origin's fit as far as a warm start needs it (manifest and chain state),
    or None when there is none or it kept no chain state."""
    import arviz as az
    import xarray as xr

    from model.store import Fit

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


def run_origin(spec: BacktestSpec, origin: str, previous: dict | None = None) -> dict:
    """Fit, forecast and score one origin; returns the per-origin record.

    ``previous``: the record of the origin before (warm-started backtests only)."""
    configure()  # a Dask worker started from its command line has not: before JAX loads
    from model.fitting import run_fit
    from model.settings import SamplerSettings
    from model.store import Fit
    from outlook.forecast import make_forecast

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
        drivers=drivers_known_at(panel.frame.loc[spec.start :]),
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
    fit = Fit(result.path, result.manifest, config, result.idata)
    forecast = make_forecast(
        fit, horizon=spec.horizon, draws=spec.forecast_draws, seed=settings.seed
    )
    last_week = result.inputs.weeks[-1]
    record = {
        "origin": origin,
        "last_data_week": str(last_week.date()),
        "drivers": list(config.drivers),
        "fit_id": result.manifest["fit_id"],
        "gate_passed": bool(result.passed),
        "convergence": result.manifest["convergence"],
        "model": {
            "liquidity_event": forecast["baseline"]["p_liquidity_event"],
            "qe_restart": forecast["baseline"]["p_qe_restart"],
            "p_stress_now": forecast["p_stress_now"],
        },
        "baselines": baseline_forecasts(
            model_inputs(panel, replace(config, move_observable="level")),
            spec.horizon,
            spec.qe_definition,
        ),
        "realized": realized(last_week, spec.horizon, spec.qe_definition),
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
            "idata.nc removed after the backtest scored this origin (keep with --keep-fits)\n"
        )
    return record
