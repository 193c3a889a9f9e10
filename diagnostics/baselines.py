"""Classical baselines scored on the same origins, drivers and data vintages as the model.

- ``climatology``: the rate at which each target happened in past windows known at the
  origin (:func:`diagnostics.outcomes.climatology`).
- ``logistic``: statsmodels GLM (binomial, ridge penalty) of "target within the horizon" on
  the five standardized drivers at week t, trained on the weeks whose window had closed by
  the origin. A driver observed in under half the training weeks is left out (before 2019
  that is the CFTC basis series); other missing cells are set to the driver's mean (0): a
  crude fill, acceptable for a baseline and stated in the report, never used by the model.
- ``markov_tvtp``: statsmodels ``MarkovRegression`` (MLE), two regimes with switching mean
  and variance of log MOVE (the observable that drives the Bayesian model's stress regime),
  transitions logistic in the lagged drivers that are complete over the training window.
  Its forecast: from the filtered P(stress) at the origin, the chain is run forward with the
  drivers held at their last values; the event probability is P(the chain enters its stress
  regime from calm within the horizon), the onset question the targets ask
  (:mod:`diagnostics.targets`: an onset is the first week of a run). P(at least one stress
  week) is kept beside it: a chain already in stress at the origin answers that with ~1,
  which is not an onset forecast. It forecasts regimes, not events, so it is scored for
  liquidity events only.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.tsa.regime_switching.markov_regression import MarkovRegression

from diagnostics.outcomes import climatology, history_targets
from model.inputs import ModelInputs

#: Ridge penalty of the logistic baseline (per observation, on standardized drivers).
LOGISTIC_RIDGE = 0.02
#: A driver enters the logistic baseline only if observed in at least this share of weeks.
MIN_DRIVER_COVERAGE = 0.5


def logistic_forecast(inputs: ModelInputs, horizon: int, qe_definition: str) -> dict:
    """P(target within the horizon after the last week) from a ridge logistic regression."""
    targets = history_targets(inputs.weeks, horizon, qe_definition)
    coverage = (~np.isnan(inputs.x)).mean(axis=0)
    keep = [k for k in range(len(inputs.drivers)) if coverage[k] >= MIN_DRIVER_COVERAGE]
    features = sm.add_constant(np.nan_to_num(inputs.x[:, keep]), has_constant="add")
    out = {"drivers_used": [inputs.drivers[k] for k in keep]}
    for name, y in targets.items():
        rows = ~np.isnan(y.to_numpy())
        if name == "qe_restart" and not _at_risk_last(inputs):
            out[name] = None
            continue
        if rows.sum() < 20 or np.nanmax(y) == 0:
            # no positive case to learn from: the regression's answer would be 0; use the
            # climatology rate instead (said in the report)
            out[name] = climatology(inputs.weeks, horizon, qe_definition)[name]
            continue
        penalty = np.full(features.shape[1], LOGISTIC_RIDGE)
        penalty[0] = 0.0
        model = sm.GLM(y.to_numpy()[rows], features[rows], family=sm.families.Binomial())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = model.fit_regularized(alpha=penalty, L1_wt=0.0)
        z = float(features[-1] @ result.params)
        out[name] = float(1.0 / (1.0 + np.exp(-z)))
    return out


def _at_risk_last(inputs: ModelInputs) -> bool:
    return bool(inputs.obs["at_risk"][-1] > 0 and inputs.obs["restart"][-1] == 0)


def complete_tvtp_drivers(inputs: ModelInputs, min_weeks: int = 104) -> tuple[list[int], int]:
    """Drivers (indices) observed in every week of a trailing window, and its first week.

    Starts from all drivers except those missing at the last week or in over half the
    sample, then trims the window's start to the first week where all are observed; drivers
    with an interior gap are dropped until the window is complete and at least
    ``min_weeks`` long.
    """
    observed = ~np.isnan(inputs.x)
    candidates = [
        k
        for k in range(observed.shape[1])
        if observed[-1, k] and observed[:, k].mean() >= MIN_DRIVER_COVERAGE
    ]
    while candidates:
        complete = observed[:, candidates].all(axis=1)
        gaps = np.flatnonzero(~complete)
        first = int(gaps[-1] + 1) if len(gaps) else 0
        if len(complete) - first >= min_weeks:
            return candidates, first
        worst = max(
            candidates, key=lambda k: (~observed[first:, k]).sum() + (~observed[:, k]).sum() / 1e6
        )
        candidates.remove(worst)
    return [], 0


#: Seed of the MarkovRegression MLE's random start search: without it the baseline's
#: scores changed between backtest runs on the same data (Brier 0.231 vs 0.308).
MARKOV_SEARCH_SEED = 20061


def markov_forecast(inputs: ModelInputs, horizon: int) -> dict:
    """Two-regime MarkovRegression on log MOVE with TVTP; P(stress in the horizon).

    ``inputs`` must read the MOVE level (``move_observable == "level"``): the baseline is
    defined on log MOVE whatever the model's own emission reads."""
    if inputs.move_observable != "level":
        raise ValueError(
            "the Markov-switching baseline reads log MOVE: build its inputs "
            "with move_observable='level'"
        )
    drivers, first = complete_tvtp_drivers(inputs)
    move = inputs.obs["move"]
    observed_move = inputs.obs["move_mask"] > 0
    first = max(first, int(np.argmax(observed_move)))
    if not observed_move[first:].all() or len(move) - first < 104:
        return {"status": "no complete window of log MOVE", "liquidity_event": None}
    endog = move[first:]
    x = inputs.x[first:, drivers]
    exog_tvtp = sm.add_constant(np.vstack([x[:1], x[:-1]]), has_constant="add")
    model = MarkovRegression(endog, k_regimes=2, switching_variance=True, exog_tvtp=exog_tvtp)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = model.fit(
                search_reps=10, disp=False, rng=np.random.default_rng(MARKOV_SEARCH_SEED)
            )
    except (np.linalg.LinAlgError, ValueError) as exc:
        return {"status": f"MLE failed: {exc}", "liquidity_event": None}
    if not np.isfinite(result.llf):
        return {"status": "MLE failed: non-finite likelihood", "liquidity_event": None}
    params = dict(zip(model.param_names, np.asarray(result.params), strict=True))
    means = [params[f"const[{r}]"] for r in range(2)]
    stress = int(np.argmax(means))
    calm = 1 - stress
    filtered = result.filtered_marginal_probabilities
    filtered = np.asarray(filtered)[-1]
    last_row = sm.add_constant(x[-1:], has_constant="add")
    trans = model.regime_transition_matrix(result.params, exog_tvtp=last_row)[..., -1]
    # statsmodels: trans[i, j] = P(s_t = i | s_{t-1} = j); reorder to calm = 0, stress = 1
    order = [calm, stress]
    to_stress_from = trans[stress, order]
    return {
        "status": "ok",
        "drivers_used": [inputs.drivers[k] for k in drivers],
        "window_start": str(pd.Timestamp(inputs.weeks[first]).date()),
        "p_stress_now": float(filtered[stress]),
        "p_stress_week_within": p_stress_within(float(filtered[stress]), to_stress_from, horizon),
        "liquidity_event": p_onset_within(float(filtered[stress]), to_stress_from, horizon),
        "qe_restart": None,
    }


def p_stress_within(p_stress_now: float, to_stress_from: np.ndarray, horizon: int) -> float:
    """P(at least one stress week in the next ``horizon`` weeks) of a two-state chain.

    ``to_stress_from[j]`` = P(stress next week | regime j now), j = 0 calm, 1 stress.
    Staying calm throughout needs one step from the current state to calm, then
    ``horizon - 1`` calm -> calm steps.
    """
    stay_calm = 1.0 - to_stress_from[0]
    first_step_calm = (1 - p_stress_now) * stay_calm + p_stress_now * (1 - to_stress_from[1])
    return float(1.0 - first_step_calm * stay_calm ** (horizon - 1))


def p_onset_within(p_stress_now: float, to_stress_from: np.ndarray, horizon: int) -> float:
    """P(the chain moves from calm into stress at least once in the next ``horizon`` weeks).

    ``to_stress_from[j]`` = P(stress next week | regime j now), j = 0 calm, 1 stress. The
    probability mass that has seen no onset yet is carried in two parts, in calm and in
    stress; each week the calm part loses its calm -> stress share (an onset), and a stress
    week that ends returns its mass to calm, from where a later onset can still come.
    """
    calm, stress = 1.0 - p_stress_now, p_stress_now
    for _ in range(horizon):
        calm, stress = (
            calm * (1.0 - to_stress_from[0]) + stress * (1.0 - to_stress_from[1]),
            stress * to_stress_from[1],
        )
    return float(1.0 - calm - stress)


def baseline_forecasts(inputs: ModelInputs, horizon: int, qe_definition: str) -> dict:
    """Every baseline's probability for each target at this origin (None: not applicable)."""
    clim = climatology(inputs.weeks, horizon, qe_definition)
    logistic = logistic_forecast(inputs, horizon, qe_definition)
    markov = markov_forecast(inputs, horizon)
    return {
        "climatology": clim,
        "logistic": {
            "liquidity_event": logistic.get("liquidity_event"),
            "qe_restart": logistic.get("qe_restart"),
            "drivers_used": logistic["drivers_used"],
        },
        "markov_tvtp": markov,
    }
