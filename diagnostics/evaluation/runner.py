"""The backtest's forecast stage: every forecaster at every origin, from the data as known then.

This is how the quant team works: the model is refit periodically (:mod:`.refits`, one gated
fit per refit date on the data as known then), and at every origin the latest **passing**
refit made on or before that day forecasts from the data as known that day: new weeks go
through the filter with the refit's parameters and standardization. A refused refit never
replaces the last good one, as in ``fits/latest``; an origin before any passing refit has no
model forecast, and its record says why. The baselines (:mod:`.baselines`) see the same
origins and vintages.

The cadences are the runner's arguments: monthly origins with yearly refits is the
documented backtest; ``--every year`` gives one origin per refit. Each origin's record is one
JSON file (resumable); origins are Dask tasks like the refits. The horizon is recorded in
every record and read from there by the scores (:mod:`.tables`).
"""

from __future__ import annotations

import contextlib
import functools
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from data.atomic import atomic_write_text
from data.catalogue import qe_weeks
from data.defaults import DEFAULT_QE_DEFINITION, DEFAULT_SEED, DEFAULT_START, HORIZON_WEEKS
from data.panel import Panel, build_panel, latest_data_date
from data.sources import resolve_source
from diagnostics.evaluation.baselines import (
    bayes_logit_fit,
    bayes_logit_forecast,
    climatology_forecast,
    ms_tvtp_forecast,
    signal_forecast,
)
from diagnostics.evaluation.outcomes import climatology, realized
from diagnostics.evaluation.records import QE_TARGET
from diagnostics.evaluation.stored import BacktestError, forecast_problem, read_spec, reusable
from diagnostics.evaluation.targets import (
    EVENT_SOURCES,
    POST_EVENT_WEEKS,
    event_weeks,
    onset_targets,
)
from diagnostics.evaluation.tasks import keep, run_each

#: Posterior draws used to filter and project at each origin (thinned evenly).
FORECAST_DRAWS = 400


def month_end_wednesdays(first: str, last: pd.Timestamp) -> list[pd.Timestamp]:
    """The last Wednesday of every month from ``first`` to ``last``."""
    weds = pd.date_range(pd.Timestamp(first), last, freq="W-WED")
    frame = pd.Series(weds, index=weds)
    return list(frame.groupby([weds.year, weds.month]).max())


def forecast_origins(
    spec: ForecastSpec, start: str, every: str, end: str | None = None
) -> list[str]:
    """Forecast origins whose whole window is in the data: every Wednesday, each month's last
    Wednesday, or the first Wednesday of each quarter or year."""
    last = latest_data_date(resolve_source(spec.data_dir)) - pd.Timedelta(weeks=spec.horizon)
    if end is not None:
        last = min(last, pd.Timestamp(end))
    if every == "week":
        weeks = list(pd.date_range(pd.Timestamp(start), last, freq="W-WED"))
    elif every == "month":
        weeks = month_end_wednesdays(start, last)
    else:  # quarter or year: the refits' own dates, each forecasting from its own refit
        from diagnostics.evaluation.refits import origin_dates

        return origin_dates(start, every, 0, last)
    return [str(w.date()) for w in weeks]


@dataclass(frozen=True)
class ForecastSpec:
    fits: dict  # variant name -> fits directory of its refits
    data_dir: str | None = None
    horizon: int = HORIZON_WEEKS
    start: str = DEFAULT_START
    seed: int = DEFAULT_SEED
    post_weeks: int = POST_EVENT_WEEKS
    #: QE restarts are scored under the refits' definition (``--qe-definition``)
    qe_definition: str = DEFAULT_QE_DEFINITION

    def to_dict(self) -> dict:
        return asdict(self)


def fit_schedule(fits_dir: Path) -> list[tuple[pd.Timestamp, Path, bool]]:
    """(data cut-off, fit directory, passed the gate) of every refit, oldest first."""
    out = []
    for manifest in sorted(Path(fits_dir).glob("*/manifest.json")):
        if manifest.parent.name.startswith(".") or manifest.parent.is_symlink():
            continue  # staging directories and the "latest" link
        m = json.loads(manifest.read_text())
        has_draws = (manifest.parent / "idata.nc").is_file()
        out.append(
            (
                pd.Timestamp(m["data"]["cutoff"]),
                manifest.parent,
                bool(m["convergence"]["passed"]) and has_draws,
            )
        )
    return sorted(out, key=lambda r: r[0])


def fit_for(origin: pd.Timestamp, schedule: list) -> tuple[pd.Timestamp, Path] | None:
    """The latest passing refit whose data cut-off is on or before ``origin``."""
    usable = [(cutoff, path) for cutoff, path, passed in schedule if passed and cutoff <= origin]
    return usable[-1] if usable else None


# --- the model at an origin -------------------------------------------------------------


def model_fan_quantiles(paths) -> dict[str, dict[str, list[float]]]:
    """The model's quantiles of every stress-at-risk target (:mod:`.fans`) from its
    simulated paths: per observable (funding spread max in bp, log MOVE), per target."""
    from diagnostics.evaluation.fans import HORIZONS, MAX_WINDOW, QUANTILES

    out = {}
    for name, values in (
        ("funding_spread_max", paths.funding_bp),
        ("log_move", np.log(paths.move)),
    ):
        targets = {f"h{h}": values[:, h - 1] for h in HORIZONS if h <= values.shape[1]}
        if values.shape[1] >= MAX_WINDOW:
            targets[f"max{MAX_WINDOW}"] = values[:, :MAX_WINDOW].max(axis=1)
        out[name] = {k: np.nanquantile(v, QUANTILES).tolist() for k, v in targets.items()}
    return out


def model_forecast(fit_path: Path, panel: Panel, horizon: int, seed: int) -> dict:
    """P(event within h) from a stored fit's parameters on the data as known at the origin."""
    from outlook.forecast import interval
    from outlook.observables import simulate_observables
    from outlook.projection import driver_shocks, outlook, project_drivers

    # the fit's parameters on the data as known at the origin: filtered through them here
    fitted = stored_fit(Path(fit_path)).apply_panel(panel)
    start = fitted.start(thinned_draws(fitted), seed)
    fit, inputs = fitted.fit, fitted.data
    shocks = driver_shocks(
        np.random.default_rng(seed + 1), len(start.x_last), horizon, len(inputs.drivers)
    )
    result = outlook(start, project_drivers(start.params, start.x_last, shocks))
    paths = simulate_observables(start, inputs, shocks, np.random.default_rng(seed + 2))
    return {
        "fans": model_fan_quantiles(paths),
        "fit_id": fit.fit_id,
        "fit_cutoff": fit.manifest["data"]["cutoff"],
        "events": fit.config.events,
        "drivers": list(fit.config.drivers),
        "p_event": interval(result.p_event),
        "p_stress_now": float(start.p_stress_last.mean()),
        "qe_at_risk": start.at_risk,
        "p_restart": interval(result.p_restart),
    }


@functools.lru_cache(maxsize=4)
def stored_fit(fit_path: Path):
    """A refit as read from disk, kept in memory for the next origins it serves (a fit
    folder never changes once written: a refit gets a new id): reading one is a quarter of
    an origin's time, and each refit serves about a year of origins."""
    from model.records.store import load_fit
    from outlook.fitted import FittedModel

    return FittedModel.of(load_fit(fit_path))


def thinned_draws(fitted) -> np.ndarray:
    """About :data:`FORECAST_DRAWS` posterior draws, every k-th of each chain (flat chain x
    draw indices): evenly spread, and the same at every origin that uses this fit."""
    posterior = fitted.fit.idata.posterior
    n_chain, n_draw = posterior.sizes["chain"], posterior.sizes["draw"]
    step = max(1, n_chain * n_draw // FORECAST_DRAWS)
    return np.arange(n_chain * n_draw).reshape(n_chain, n_draw)[:, ::step].ravel()


# --- one origin -------------------------------------------------------------------------


class PartClock:
    """Seconds spent in each named part of an origin (summed over repeats), kept in its
    record so the backtest's bench can say where the forecast stage's time goes."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, part: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            spent = time.perf_counter() - started
            self.seconds[part] = round(self.seconds.get(part, 0.0) + spent, 3)


def forecast_at(spec: ForecastSpec, origin: str, logit_fits: dict) -> dict:
    """Every forecaster's probability and the outcomes at one origin (JSON-ready)."""
    started = time.perf_counter()
    clock = PartClock()
    origin_ts = pd.Timestamp(origin)
    source = resolve_source(spec.data_dir)
    with clock("panel"):
        panel = build_panel(source, start=spec.start, end=origin_ts)
    record: dict = {
        "origin": origin,
        "horizon": spec.horizon,
        # the vintage: the panel as known on the origin day, from these sources
        "data_as_of": origin,
        "sources": source.origin() if hasattr(source, "origin") else {},
        "models": {},
        "missing": {},
        "targets": {},
    }
    for name, fits_dir in spec.fits.items():
        chosen = fit_for(origin_ts, fit_schedule(Path(fits_dir)))
        if chosen is None:
            record["models"][name] = None
            record["missing"][name] = f"no refit on or before {origin} passed the gate"
            continue
        with clock("model"):
            record["models"][name] = model_forecast(chosen[1], panel, spec.horizon, spec.seed)
    with clock("ms_tvtp"):
        record["ms_tvtp"] = ms_tvtp_forecast(panel, origin_ts, spec.horizon, spec.start)
    with clock("other_baselines"):
        record["targets"] = other_baselines(spec, panel, origin_ts, logit_fits)
    weeks = pd.DatetimeIndex(panel.frame.loc[spec.start :].index)
    qe = climatology(weeks, spec.horizon, spec.qe_definition)
    record["qe"] = {"climatology": qe["qe_restart"]}
    record["seconds"] = round(time.perf_counter() - started, 1)
    record["seconds_by_part"] = clock.seconds
    return record


def other_baselines(
    spec: ForecastSpec, panel: Panel, origin_ts: pd.Timestamp, logit_fits: dict
) -> dict:
    """Climatology, the Bayesian logit and the signal rule for each event source."""
    out = {}
    for source_name in EVENT_SOURCES:
        under_way = event_weeks(panel, source_name)
        logit = logit_fits.get(source_name)
        out[source_name] = {
            "climatology": climatology_forecast(
                under_way, origin_ts, spec.horizon, spec.post_weeks
            ),
            "bayes_logit": None if logit is None else bayes_logit_forecast(logit, panel),
            "bayes_logit_refit": None if logit is None else str(logit["refit"].date()),
            "signal": signal_forecast(panel, under_way, origin_ts, spec.horizon, spec.post_weeks),
        }
    return out


def realized_targets(spec: ForecastSpec, origins: list[str]) -> dict[str, dict]:
    """Outcomes per origin and event source, from the full panel (truth, not a forecast)."""
    panel = build_panel(resolve_source(spec.data_dir), start=spec.start)
    out: dict[str, dict] = {o: {} for o in origins}
    for source_name in EVENT_SOURCES:
        targets = onset_targets(event_weeks(panel, source_name), spec.horizon, spec.post_weeks)
        for origin in origins:
            out[origin][source_name] = targets.at(pd.Timestamp(origin))
    for origin in origins:
        out[origin]["qe"] = realized(pd.Timestamp(origin), spec.horizon, spec.qe_definition)
    return out


def onset_dates(spec: ForecastSpec, first_origin: str) -> dict[str, list[str]]:
    """Each event target's onset weeks after the first origin, from the backtest's own data
    (stored with the records, so they are scored again without the data)."""
    from diagnostics.evaluation.targets import onsets

    panel = build_panel(resolve_source(spec.data_dir), start=spec.start)
    out = {}
    for source_name in EVENT_SOURCES:
        under_way = event_weeks(panel, source_name)
        first = under_way.index[onsets(under_way.to_numpy()) == 1]
        out[source_name] = [str(w.date()) for w in first if w > pd.Timestamp(first_origin)]
    # QE restarts under the refits' definition: the announcement weeks
    restarts = qe_weeks(pd.DatetimeIndex(panel.frame.index), spec.qe_definition)["restart"]
    weeks = restarts.index[restarts.to_numpy() == 1]
    out[QE_TARGET] = [str(w.date()) for w in weeks if w > pd.Timestamp(first_origin)]
    return out


def series_summary(spec: ForecastSpec) -> dict[str, dict]:
    """Per series: its model configuration and every refit (cut-off, id, gate), so a stored
    track record names the model version it scored without the fits themselves."""
    out = {}
    for name, fits_dir in spec.fits.items():
        refits, config = [], None
        for cutoff, path, passed in fit_schedule(Path(fits_dir)):
            manifest = json.loads((path / "manifest.json").read_text())
            config = config or manifest["model"]["config"]
            refits.append({"cutoff": str(cutoff.date()), "fit_id": path.name, "passed": passed})
        out[name] = {"config": config, "refits": refits}
    return out


def refit_dates(spec: ForecastSpec) -> list[pd.Timestamp]:
    first = next(iter(spec.fits.values()))
    return [cutoff for cutoff, _, _ in fit_schedule(Path(first))]


def logit_fits(spec: ForecastSpec, origins: list[str]) -> dict:
    """The Bayesian logit fitted at every refit date an origin needs, per event source."""
    refits = refit_dates(spec)
    dates = sorted(
        {max(earlier) for o in origins if (earlier := [d for d in refits if d <= pd.Timestamp(o)])}
    )
    out = {}
    for refit in dates:
        panel = build_panel(resolve_source(spec.data_dir), start=spec.start, end=refit)
        out[refit] = {
            s: bayes_logit_fit(
                panel, event_weeks(panel, s), refit, spec.horizon, spec.post_weeks, spec.seed
            )
            for s in EVENT_SOURCES
        }
    return out


def logit_for(origin: pd.Timestamp, fitted: dict) -> dict:
    dates = [d for d in fitted if d <= origin]
    return fitted[max(dates)] if dates else {}


def run_forecasts(
    spec: ForecastSpec,
    origins: list[str],
    out: Path,
    *,
    scheduler: str | None = None,
    n_workers: int = 2,
    serial: bool = False,
    log=print,
) -> list[dict]:
    """Run every origin without a record, as Dask tasks unless ``serial`` (resumable)."""
    out = Path(out)
    (out / "origins").mkdir(parents=True, exist_ok=True)
    stored = out / "dense.json"
    if read_spec(stored) not in (None, spec.to_dict()):
        raise BacktestError(
            f"{out} holds a dense backtest with other settings "
            f"({stored}); use another --out or remove it"
        )
    atomic_write_text(stored, json.dumps(spec.to_dict(), indent=2))
    done = reusable(out / "origins", origins, forecast_problem, log)
    todo = [o for o in origins if o not in done]
    log(f"dense backtest: {len(origins)} origins, {len(origins) - len(todo)} already done")
    if todo:
        truth = realized_targets(spec, todo)
        fitted = logit_fits(spec, todo)

        def store(origin: str, record: dict | None, error: str | None) -> None:
            if record is not None:
                record["realized"] = truth[origin]
            problem = keep(out, origin, record, error)
            if problem is not None:
                log(f"  {origin}: ERROR {problem} (see {out / 'failed'})")
                return
            models = ", ".join(
                f"{k} {v['p_event']['mean']:.1%}" for k, v in record["models"].items() if v
            )
            log(f"  {origin}: {record['seconds']:.0f} s; {models}")

        run_each(
            forecast_at,
            todo,
            lambda o: (spec, o, logit_for(pd.Timestamp(o), fitted)),
            store,
            scheduler=scheduler,
            n_workers=n_workers,
            serial=serial,
            name="forecast",
        )
    return list(reusable(out / "origins", origins, forecast_problem, log).values())
