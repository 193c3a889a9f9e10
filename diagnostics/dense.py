"""Dense real-time backtest: a forecast every month, parameters refit at a slower cadence.

This is how the quant team works: the model is refit periodically (the refits are the
gated fits of :mod:`diagnostics.backtest`, one per refit date, each on data as known then),
and at every month's last Wednesday the latest **passing** fit made on or before that day
forecasts from the data as known that day: new weeks go through the filter with the fit's
parameters and the fit's standardization. A refit that failed the gate never replaces the
last good one, as in ``fits/latest``.

Every forecaster sees the same origins and vintages:

- ``climatology``: the onset rate over past scored weeks whose window had closed;
- ``bayes_logit``: a Bayesian logistic regression (PyMC) of onset-within-h on the drivers
  at week t, refit at the model's refit dates, with the model's own coefficient prior. Its
  weekly training rows overlap: one onset makes about h consecutive positive rows, so each
  row's log-likelihood is weighted 1/h (:func:`logit_row_weight`), and the posterior holds
  the information of the ~n/h non-overlapping windows, not of n independent weeks;
- ``ms_tvtp``: statsmodels ``MarkovRegression`` with TVTP on log MOVE (MLE), refit at every
  origin (a head start over the model, stated), P(its chain enters stress from calm within
  h), the onset question (:func:`diagnostics.baselines.p_onset_within`);
- ``signal``: a Kaminsky-Reinhart signal (MOVE or the weekly-max funding spread above a
  percentile of its history), the percentile chosen on data known at the origin, turned
  into a probability by the past onset rate with and without a signal.

Each origin's record is one JSON file (resumable); origins are Dask tasks like the refits.
"""

from __future__ import annotations

import json
import time
import traceback
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from data.atomic import atomic_write_text
from data.catalogue import liquidity_event_weeks
from data.defaults import DEFAULT_START
from data.panel import Panel, build_panel, latest_data_date
from data.sources import resolve_source
from diagnostics.outcomes import climatology, realized
from diagnostics.skill import relative_usefulness
from diagnostics.targets import (
    EVENT_SOURCES,
    POST_EVENT_WEEKS,
    event_weeks,
    known_onset_history,
    onset_targets,
)

#: Coefficient prior of the Bayesian logit: the model's ``trans_coef`` prior (per driver sd).
LOGIT_COEF_SD = 0.35


def logit_row_weight(horizon: int) -> float:
    """The weight of one weekly row in the logit's likelihood: 1/h, since h overlapping
    weekly windows carry about one window's information."""
    return 1.0 / horizon


SIGNAL_PERCENTILES = (0.80, 0.85, 0.90, 0.95, 0.975)
#: QE restarts are scored under the refits' definition (the backtest default).
QE_DEFINITION = "strict"
#: Posterior draws used to filter and project at each origin (thinned evenly).
FORECAST_DRAWS = 400


def month_end_wednesdays(first: str, last: pd.Timestamp) -> list[pd.Timestamp]:
    """The last Wednesday of every month from ``first`` to ``last``."""
    weds = pd.date_range(pd.Timestamp(first), last, freq="W-WED")
    frame = pd.Series(weds, index=weds)
    return list(frame.groupby([weds.year, weds.month]).max())


def dense_origins(spec: DenseSpec, start: str, every: str, end: str | None = None) -> list[str]:
    """Forecast origins: month-end (or every) Wednesdays whose whole window is in the data."""
    last = latest_data_date(resolve_source(spec.data_dir)) - pd.Timedelta(weeks=spec.horizon)
    if end is not None:
        last = min(last, pd.Timestamp(end))
    if every == "week":
        weeks = list(pd.date_range(pd.Timestamp(start), last, freq="W-WED"))
    elif every == "month":
        weeks = month_end_wednesdays(start, last)
    else:
        raise ValueError(f"dense origins are weekly or monthly, not {every!r}")
    return [str(w.date()) for w in weeks]


@dataclass(frozen=True)
class DenseSpec:
    fits: dict  # variant name -> fits directory of its refits
    data_dir: str | None = None
    horizon: int = 13
    start: str = DEFAULT_START
    seed: int = 20061
    post_weeks: int = POST_EVENT_WEEKS

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


def model_forecast(fit_path: Path, panel: Panel, horizon: int, seed: int) -> dict:
    """P(event within h) from a stored fit's parameters on the data as known at the origin."""
    from model.inputs import model_inputs
    from model.posterior import driver_moments, parameters, regime_probabilities, sample_drivers
    from model.store import load_fit
    from outlook.forecast import interval
    from outlook.projection import StartState, driver_shocks, outlook, project_drivers

    fit = load_fit(fit_path)
    posterior = fit.idata.posterior
    step = max(1, posterior.sizes["chain"] * posterior.sizes["draw"] // FORECAST_DRAWS)
    thinned = posterior.isel(draw=slice(None, None, step))
    const = fit.idata.constant_data
    inputs = model_inputs(
        panel, fit.config, scale=(const["driver_mean"].to_numpy(), const["driver_sd"].to_numpy())
    )
    regimes = regime_probabilities(thinned, inputs, fit.config)
    params = parameters(thinned)
    x, x_var = driver_moments(thinned, inputs)
    rng = np.random.default_rng(seed)
    x_last = sample_drivers(x[:, -1, :], x_var[:, -1, :], rng)
    p_last = regimes["p_stress_filtered"].isel(week=-1).to_numpy().reshape(-1)
    start = StartState(
        params,
        x_last,
        p_last,
        bool(inputs.obs["at_risk"][-1] > 0),
        (bool(inputs.obs["event_funding"][-1] > 0), bool(inputs.obs["event_market"][-1] > 0)),
    )
    shocks = driver_shocks(
        np.random.default_rng(seed + 1), len(x_last), horizon, len(inputs.drivers)
    )
    result = outlook(start, project_drivers(params, x_last, shocks))
    return {
        "fit_id": fit.fit_id,
        "fit_cutoff": fit.manifest["data"]["cutoff"],
        "events": fit.config.events,
        "drivers": list(fit.config.drivers),
        "p_event": interval(result.p_event),
        "p_stress_now": float(p_last.mean()),
        "qe_at_risk": start.at_risk,
        "p_restart": interval(result.p_restart),
    }


# --- baselines --------------------------------------------------------------------------


def standardized_drivers(
    panel: Panel, drivers: tuple[str, ...], upto: pd.Timestamp, min_coverage: float = 0.5
) -> tuple[pd.DataFrame, list[str]]:
    """Drivers standardized on weeks up to ``upto``; missing -> 0 (the mean); sparse ones out."""
    frame = panel.frame[list(drivers)]
    known = frame.loc[:upto]
    keep = [d for d in drivers if known[d].notna().mean() >= min_coverage]
    z = (frame[keep] - known[keep].mean()) / known[keep].std()
    return z.fillna(0.0), keep


def bayes_logit_fit(
    panel: Panel,
    under_way: pd.Series,
    refit: pd.Timestamp,
    horizon: int,
    post_weeks: int,
    seed: int,
) -> dict:
    """Posterior draws of a logistic onset-within-h regression, trained on data known then."""
    import pymc as pm

    from model.config import DRIVER_ORDER

    history = known_onset_history(under_way, horizon, refit, post_weeks)
    z, keep = standardized_drivers(panel, DRIVER_ORDER, refit)
    x = z.loc[history.index].to_numpy()
    y = history["onset"].to_numpy()
    rate = (y.sum() + 1) / (len(y) + 2)
    with pm.Model():
        intercept = pm.Normal("intercept", np.log(rate / (1 - rate)), 1.5)
        coef = pm.Normal("coef", 0.0, LOGIT_COEF_SD, shape=len(keep))
        logit_p = intercept + pm.math.dot(x, coef)
        rows = pm.logp(pm.Bernoulli.dist(logit_p=logit_p), y)
        pm.Potential("onset", logit_row_weight(horizon) * pm.math.sum(rows))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idata = pm.sample(
                500,
                tune=500,
                chains=2,
                cores=1,
                random_seed=seed,
                progressbar=False,
                compute_convergence_checks=False,
            )
    post = idata.posterior
    return {
        "refit": refit,
        "drivers": keep,
        "intercept": post["intercept"].to_numpy().reshape(-1),
        "coef": post["coef"].to_numpy().reshape(-1, len(keep)),
        "scale_upto": refit,
    }


def bayes_logit_forecast(fitted: dict, panel: Panel) -> float:
    z, _ = standardized_drivers(
        panel, tuple(fitted["drivers"]), fitted["scale_upto"], min_coverage=0.0
    )
    x = z.iloc[-1].to_numpy()
    logits = fitted["intercept"] + fitted["coef"] @ x
    return float(np.mean(1 / (1 + np.exp(-logits))))


def climatology_forecast(
    under_way: pd.Series, origin: pd.Timestamp, horizon: int, post_weeks: int
) -> float:
    history = known_onset_history(under_way, horizon, origin, post_weeks)
    return float((history["onset"].sum() + 1) / (len(history) + 2))


def base_rates(weeks: pd.DatetimeIndex, horizon: int, qe_definition: str) -> dict[str, float]:
    """The climatological rates the committee's probabilities should be read against, as
    the backtest's climatology computes them at an origin: the onset rate of a counted
    liquidity event within ``horizon`` weeks (scored weeks only) and the QE restart rate."""
    under_way = liquidity_event_weeks(weeks)["any"].astype(int)
    return {
        "p_liquidity_event": climatology_forecast(under_way, weeks[-1], horizon, POST_EVENT_WEEKS),
        "p_qe_restart": climatology(weeks, horizon, qe_definition)["qe_restart"],
    }


def signal_forecast(
    panel: Panel, under_way: pd.Series, origin: pd.Timestamp, horizon: int, post_weeks: int
) -> dict:
    """Signal rule on MOVE and the funding spread's weekly max, chosen on data known then."""
    history = known_onset_history(under_way, horizon, origin, post_weeks)
    frame = panel.frame.loc[:origin, ["move", "funding_spread_max"]]
    y = history["onset"].to_numpy()
    if y.sum() < 2:
        rate = (y.sum() + 1) / (len(y) + 2)
        return {"p": float(rate), "percentile": None, "signal": None}
    best = None
    for q in SIGNAL_PERCENTILES:
        thresholds = frame.quantile(q)
        signal = (frame >= thresholds).any(axis=1).astype(float)
        s = signal.loc[history.index].to_numpy()
        value = relative_usefulness(s, y, 0.5)
        if value <= 0:  # no better than never signalling at this percentile
            continue
        if best is None or value > best[0]:
            best = (value, q, signal)
    if best is None:
        rate = (y.sum() + 1) / (len(y) + 2)
        return {"p": float(rate), "percentile": None, "signal": None}
    _, q, signal = best
    s_hist = signal.loc[history.index].to_numpy()
    now = float(signal.iloc[-1])
    same = s_hist == now
    p = (y[same].sum() + 1) / (same.sum() + 2)
    return {"p": float(p), "percentile": q, "signal": int(now)}


def ms_tvtp_forecast(panel: Panel, origin: pd.Timestamp, horizon: int, start: str) -> float | None:
    from diagnostics.baselines import markov_forecast
    from diagnostics.origin import drivers_known_at
    from model.config import ModelConfig
    from model.inputs import model_inputs

    config = ModelConfig(
        start=start, drivers=drivers_known_at(panel.frame.loc[start:]), move_observable="level"
    )
    result = markov_forecast(model_inputs(panel, config), horizon)
    return result.get("liquidity_event")  # P(an onset of its stress regime within h)


# --- one origin -------------------------------------------------------------------------


def run_dense_origin(spec: DenseSpec, origin: str, logit_fits: dict) -> dict:
    """Every forecaster's probability and the outcomes at one origin (JSON-ready)."""
    started = time.perf_counter()
    origin_ts = pd.Timestamp(origin)
    source = resolve_source(spec.data_dir)
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
        record["models"][name] = model_forecast(chosen[1], panel, spec.horizon, spec.seed)
    record["ms_tvtp"] = ms_tvtp_forecast(panel, origin_ts, spec.horizon, spec.start)
    for source_name in EVENT_SOURCES:
        under_way = event_weeks(panel, source_name)
        logit = logit_fits.get(source_name)
        record["targets"][source_name] = {
            "climatology": climatology_forecast(
                under_way, origin_ts, spec.horizon, spec.post_weeks
            ),
            "bayes_logit": None if logit is None else bayes_logit_forecast(logit, panel),
            "bayes_logit_refit": None if logit is None else str(logit["refit"].date()),
            "signal": signal_forecast(panel, under_way, origin_ts, spec.horizon, spec.post_weeks),
        }
    weeks = pd.DatetimeIndex(panel.frame.loc[spec.start :].index)
    record["qe"] = {"climatology": climatology(weeks, spec.horizon, QE_DEFINITION)["qe_restart"]}
    record["seconds"] = round(time.perf_counter() - started, 1)
    return record


def realized_targets(spec: DenseSpec, origins: list[str]) -> dict[str, dict]:
    """Outcomes per origin and event source, from the full panel (truth, not a forecast)."""
    panel = build_panel(resolve_source(spec.data_dir), start=spec.start)
    out: dict[str, dict] = {o: {} for o in origins}
    for source_name in EVENT_SOURCES:
        targets = onset_targets(event_weeks(panel, source_name), spec.horizon, spec.post_weeks)
        for origin in origins:
            out[origin][source_name] = targets.at(pd.Timestamp(origin))
    for origin in origins:
        out[origin]["qe"] = realized(pd.Timestamp(origin), spec.horizon, QE_DEFINITION)
    return out


def onset_dates(spec: DenseSpec, first_origin: str) -> dict[str, list[str]]:
    """Each event target's onset weeks after the first origin, from the backtest's own data
    (stored with the records, so they are scored again without the data)."""
    from diagnostics.targets import onsets

    panel = build_panel(resolve_source(spec.data_dir), start=spec.start)
    out = {}
    for source_name in EVENT_SOURCES:
        under_way = event_weeks(panel, source_name)
        first = under_way.index[onsets(under_way.to_numpy()) == 1]
        out[source_name] = [str(w.date()) for w in first if w > pd.Timestamp(first_origin)]
    return out


def series_summary(spec: DenseSpec) -> dict[str, dict]:
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


def refit_dates(spec: DenseSpec) -> list[pd.Timestamp]:
    first = next(iter(spec.fits.values()))
    return [cutoff for cutoff, _, _ in fit_schedule(Path(first))]


def logit_fits(spec: DenseSpec, origins: list[str]) -> dict:
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


def run_dense(
    spec: DenseSpec,
    origins: list[str],
    out: Path,
    *,
    scheduler: str | None = None,
    n_workers: int = 2,
    serial: bool = False,
    log=print,
) -> list[dict]:
    """Run every origin without a record, as Dask tasks unless ``serial`` (resumable)."""
    from diagnostics.backtest import make_client

    out = Path(out)
    (out / "origins").mkdir(parents=True, exist_ok=True)
    stored = out / "dense.json"
    if stored.is_file() and json.loads(stored.read_text()) != spec.to_dict():
        from diagnostics.backtest import BacktestError

        raise BacktestError(
            f"{out} holds a dense backtest with other settings "
            f"({stored}); use another --out or remove it"
        )
    atomic_write_text(stored, json.dumps(spec.to_dict(), indent=2))
    todo = [o for o in origins if not (out / "origins" / f"{o}.json").is_file()]
    log(f"dense backtest: {len(origins)} origins, {len(origins) - len(todo)} already done")
    if todo:
        truth = realized_targets(spec, todo)
        fitted = logit_fits(spec, todo)

        def store(origin: str, record: dict | None, error: str | None) -> None:
            if record is None:
                (out / "failed").mkdir(exist_ok=True)
                atomic_write_text(out / "failed" / f"{origin}.txt", error or "")
                log(f"  {origin}: ERROR (see {out / 'failed'})")
                return
            record["realized"] = truth[origin]
            atomic_write_text(out / "origins" / f"{origin}.json", json.dumps(record, indent=2))
            (out / "failed" / f"{origin}.txt").unlink(missing_ok=True)
            models = ", ".join(
                f"{k} {v['p_event']['mean']:.1%}" for k, v in record["models"].items() if v
            )
            log(f"  {origin}: {record['seconds']:.0f} s; {models}")

        if serial:
            for origin in todo:
                try:
                    store(
                        origin,
                        run_dense_origin(spec, origin, logit_for(pd.Timestamp(origin), fitted)),
                        None,
                    )
                except Exception:  # noqa: BLE001 - recorded per origin, the run goes on
                    store(origin, None, traceback.format_exc())
        else:
            from dask.distributed import as_completed

            with make_client(scheduler, n_workers) as client:
                futures = {
                    client.submit(
                        run_dense_origin,
                        spec,
                        o,
                        logit_for(pd.Timestamp(o), fitted),
                        key=f"dense-{o}",
                        pure=False,
                    ): o
                    for o in todo
                }
                for future in as_completed(futures):
                    try:
                        store(futures[future], future.result(), None)
                    except Exception:  # noqa: BLE001
                        store(futures[future], None, traceback.format_exc())
    return [
        json.loads((out / "origins" / f"{o}.json").read_text())
        for o in origins
        if (out / "origins" / f"{o}.json").is_file()
    ]
