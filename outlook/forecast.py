"""From a stored fit to the numbers in ``forecast.json``: baseline, scenarios, attribution.

Interface: :func:`forecast_record` (JSON-ready), reached through
:meth:`outlook.fitted.FittedModel.forecast`, and :func:`start_state_of`. Every probability
is reported as the posterior mean with a 90% interval across draws (``{mean, q05, q95}``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from data.defaults import DEFAULT_SEED, HORIZON_WEEKS
from data.drivers import STRESS_OBSERVABLES, to_display
from model.equations.config import ModelConfig
from model.equations.inputs import FUNDING_UNIT_BP, ModelInputs
from model.equations.posterior import (
    driver_moments_of,
    sample_drivers,
    stress_probabilities_of,
)
from model.records.store import Fit
from outlook.attribution import coalition_values, shapley_shares
from outlook.episode_odds import episode_start_probability
from outlook.observables import (
    fan_summary,
    move_history,
    scenario_evidence,
    simulate_observables,
)
from outlook.projection import (
    Outlook,
    StartState,
    driver_shocks,
    outlook,
    project_drivers,
)
from outlook.scenarios import Scenario, scenario_arrays


def interval(values: np.ndarray) -> dict[str, float]:
    return {
        "mean": float(np.mean(values)),
        "q05": float(np.quantile(values, 0.05)),
        "q95": float(np.quantile(values, 0.95)),
    }


def start_state_of(
    params: dict,
    inputs: ModelInputs,
    config: ModelConfig,
    seed: int,
    p_stress_last: np.ndarray | None = None,
) -> StartState:
    """Where a forecast starts for parameter draws ``params`` (flattened) at the end of
    ``inputs``: each draw's drivers of the last week (a missing one drawn from its
    estimate, not set to its mean), its P(stress) that week (``p_stress_last``, or filtered
    through ``inputs`` here), and whether QE can restart and an event is under way. The
    committee's forecast and every backtest origin start here."""
    x, x_var = driver_moments_of(params, inputs)
    x_last = sample_drivers(x[:, -1, :], x_var[:, -1, :], np.random.default_rng(seed))
    if p_stress_last is None:
        p_stress_last = stress_probabilities_of(params, inputs, config)[1][:, -1]
    at_risk = bool(inputs.obs["at_risk"][-1] > 0)
    ongoing = (bool(inputs.obs["event_funding"][-1] > 0), bool(inputs.obs["event_market"][-1] > 0))
    return StartState(params, x_last, p_stress_last, at_risk, ongoing)


def forecast_weeks(inputs: ModelInputs, horizon: int) -> list[str]:
    last = inputs.weeks[-1]
    return [str((last + pd.Timedelta(weeks=h)).date()) for h in range(1, horizon + 1)]


def own_units(inputs: ModelInputs, standardized: np.ndarray) -> np.ndarray:
    """(..., K) standardized -> each driver's panel unit (log MOVE shown as MOVE points)."""
    values = standardized * inputs.driver_sd + inputs.driver_mean
    for k, driver in enumerate(inputs.drivers):
        values[..., k] = to_display(driver, values[..., k])
    return values


def summarize(result: Outlook, weeks: list[str]) -> dict:
    first = result.first_event_week().mean(0)
    return {
        "p_liquidity_event": interval(result.p_event),
        "p_qe_restart": interval(result.p_restart),
        "p_stress_path": [
            {"week": w, **interval(result.p_stress[:, h])} for h, w in enumerate(weeks)
        ],
        # P(an event has started by week h): the headline's build-up over the horizon
        "p_event_path": [
            {"week": w, **interval(result.p_event_by[:, h])} for h, w in enumerate(weeks)
        ],
        "weeks_to_first_event": {
            "probability_by_week": [float(v) for v in first],
            "none_within_horizon": float(1 - first.sum()),
        },
    }


def driver_fans(inputs: ModelInputs, paths: np.ndarray, x_last: np.ndarray) -> dict:
    levels = own_units(inputs, paths)
    last = own_units(inputs, x_last)
    out = {}
    for k, driver in enumerate(inputs.drivers):
        q = np.quantile(levels[:, :, k], [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
        out[driver] = {
            "last": interval(last[:, k]),
            **{name: q[i].tolist() for i, name in enumerate(("q05", "q25", "q50", "q75", "q95"))},
        }
    return out


#: Weeks of history shown before the stress observables' fans.
FAN_HISTORY_WEEKS = 104


def observable_fans(
    start: StartState, inputs: ModelInputs, shocks: np.ndarray, weeks: list[str], seed: int
) -> dict:
    """The stress observables' fans (:mod:`outlook.observables`) with the last two years of
    their observed values, for the committee page's chart."""
    paths = simulate_observables(start, inputs, shocks, np.random.default_rng(seed + 2))
    recent = slice(-FAN_HISTORY_WEEKS, None)
    funding = np.where(
        inputs.obs["funding_mask"] > 0, inputs.obs["funding"] * FUNDING_UNIT_BP, np.nan
    )
    history = {
        "weeks": [str(w.date()) for w in inputs.weeks[recent]],
        "funding_spread_max": [None if np.isnan(v) else float(v) for v in funding[recent]],
        "move": [None if np.isnan(v) else float(v) for v in move_history(inputs)[recent]],
    }
    episodes = episode_start_probability(paths, inputs, np.random.default_rng(seed + 3))
    return {**fan_summary(paths, weeks), "history": history, "p_episode_start": episodes}


def attribution(start: StartState, inputs: ModelInputs, shocks: np.ndarray) -> dict:
    """Each driver's share of P(liquidity event within the horizon) against the reference
    of every driver at its historical mean (:mod:`outlook.attribution`), in probability.

    ``reference`` is P(event) at that reference; the shares sum to the baseline minus it,
    draw by draw. A driver not observed in the last data week starts from each draw's
    estimate of it (``current_observed`` false).
    """
    values = coalition_values(start, shocks)
    shares = shapley_shares(values, len(inputs.drivers))
    current = own_units(inputs, start.x_last)
    observed_last = ~np.isnan(inputs.x[-1])
    return {
        "reference": interval(values[frozenset()]),
        "drivers": {
            driver: {
                "share": interval(shares[:, k]),
                "current_value": interval(current[:, k]),
                "current_observed": bool(observed_last[k]),
                "historical_mean": float(to_display(driver, inputs.driver_mean[k])),
            }
            for k, driver in enumerate(inputs.drivers)
        },
    }


def last_observed(fit: Fit) -> dict[str, str | None]:
    """Each driver's last observed week up to the cut-off (None: never observed): after it,
    the forecast starts from the model's estimate of that driver, not from data."""
    observed = fit.idata.observed_data
    weeks = pd.DatetimeIndex(observed["week"].to_numpy())
    out = {}
    for driver in fit.config.drivers:
        seen = np.flatnonzero(~np.isnan(observed[f"driver_{driver}"].to_numpy()))
        out[driver] = str(weeks[seen[-1]].date()) if len(seen) else None
    return out


def forecast_record(
    fit: Fit,
    inputs: ModelInputs,
    start: StartState,
    horizon: int = HORIZON_WEEKS,
    seed: int = DEFAULT_SEED,
    scenarios: list[Scenario] = (),
) -> dict:
    """What ``forecast.json`` holds for ``fit``'s draws starting at ``start`` at the end of
    ``inputs``: the baseline, each scenario on the same draws and shocks, the drivers' and
    stress observables' fans, and the attribution (:meth:`outlook.fitted.FittedModel.forecast`
    is the way in)."""
    n_draws = len(start.x_last)
    shocks = driver_shocks(np.random.default_rng(seed + 1), n_draws, horizon, len(inputs.drivers))
    weeks = forecast_weeks(inputs, horizon)
    base_paths = project_drivers(start.params, start.x_last, shocks)
    baseline = outlook(start, base_paths)
    out = {
        **fit_header(fit, inputs, horizon),
        "draws": n_draws,
        "seed": seed,
        "qe_at_risk": start.at_risk,
        "event_under_way": dict(
            zip(("funding", "market_functioning"), start.event_ongoing, strict=True)
        ),
        "p_stress_now": interval(start.p_stress_last),
        "baseline": summarize(baseline, weeks),
        "scenarios": {},
        "driver_fans": {"baseline": driver_fans(inputs, base_paths, start.x_last)},
        "attribution": attribution(start, inputs, shocks),
        "observables": observable_fans(start, inputs, shocks, weeks, seed),
    }
    out["p_stress_path"] = out["baseline"]["p_stress_path"]
    for scenario in scenarios:
        result, paths, kind = scenario_outlook(scenario, start, inputs, shocks)
        out["scenarios"][scenario.name] = {
            "description": scenario.description,
            "kind": kind,
            **summarize(result, weeks),
            # same draws and shocks as the baseline: the interval is of the scenario's effect
            "change_vs_baseline": {
                "p_liquidity_event": interval(result.p_event - baseline.p_event),
                "p_qe_restart": interval(result.p_restart - baseline.p_restart),
            },
        }
        out["driver_fans"][scenario.name] = driver_fans(inputs, paths, start.x_last)
    return out


def fit_header(fit: Fit, inputs: ModelInputs, horizon: int) -> dict:
    """Which fit, which data and how it passed the gate: the record's first lines."""
    convergence = fit.manifest["convergence"]
    return {
        "fit_id": fit.fit_id,
        "data_cutoff": fit.manifest["data"]["cutoff"],
        "last_data_week": str(inputs.weeks[-1].date()),
        "horizon_weeks": horizon,
        "forecast_weeks": forecast_weeks(inputs, horizon),
        "qe_definition": fit.config.qe_definition,
        "fit_convergence_passed": bool(convergence["passed"]),
        "convergence": {
            k: convergence[k]
            for k in ("max_rhat", "min_ess_bulk", "min_ess_tail", "divergences", "passed")
        },
        "drivers_last_observed": last_observed(fit),
    }


def scenario_outlook(
    scenario: Scenario, start: StartState, inputs: ModelInputs, shocks: np.ndarray
) -> tuple[Outlook, np.ndarray, dict]:
    """A scenario's outlook on the baseline's draws and shocks: its driver paths move the
    transitions, and the stress observables it assumes (MOVE, the funding spread) enter the
    regime filter as observations, whether or not the model also reads them as drivers."""
    horizon = shocks.shape[1]
    pinned, shifted = scenario_arrays(
        scenario, inputs.drivers, horizon, inputs.driver_mean, inputs.driver_sd, start.x_last
    )
    paths = project_drivers(start.params, start.x_last, shocks, pinned, shifted)
    evidence = scenario_evidence(start, inputs, scenario, paths)
    return outlook(start, paths, evidence), paths, scenario_kind(scenario, inputs.drivers)


def scenario_kind(scenario: Scenario, drivers: tuple[str, ...]) -> dict:
    """What a scenario does to this model: the stress observables it assumes (observed: a
    conditional forecast), the drivers it moves (their transitions), and what it sets that
    this model reads neither way."""
    named = [c.driver for c in scenario.changes]
    return {
        "observes": [d for d in STRESS_OBSERVABLES if d in named],
        "moves_drivers": [d for d in named if d in drivers],
        "not_read": [d for d in named if d not in drivers and d not in STRESS_OBSERVABLES],
    }


def headline(forecast: dict) -> dict:
    """The numbers compared across fits: headline probabilities and attribution means."""
    return {
        "fit_id": forecast["fit_id"],
        "data_cutoff": forecast["data_cutoff"],
        "p_liquidity_event": forecast["baseline"]["p_liquidity_event"],
        "p_qe_restart": forecast["baseline"]["p_qe_restart"],
        "p_stress_now": forecast["p_stress_now"],
        # reports written before the event-probability attribution have none to compare
        "attribution": {
            d: a["share"] for d, a in forecast["attribution"].get("drivers", {}).items()
        },
    }
