"""The baselines every backtest origin scores beside the model, on the same vintage.

- ``climatology``: the onset rate over past scored weeks whose window had closed by the
  origin (+1/+2 Laplace correction);
- ``bayes_logit``: a Bayesian logistic regression (PyMC) of onset-within-h on the drivers
  at week t, refit at the model's refit dates, with the model's own coefficient prior. Its
  weekly training rows overlap: one onset makes about h consecutive positive rows, so each
  row's log-likelihood is weighted 1/h (:func:`logit_row_weight`), and the posterior holds
  the information of the ~n/h non-overlapping windows, not of n independent weeks;
- ``signal``: a Kaminsky-Reinhart signal (MOVE or the weekly-max funding spread above a
  percentile of its history), the percentile chosen on data known at the origin, turned
  into a probability by the past onset rate with and without a signal;
- ``ms_tvtp``: statsmodels ``MarkovRegression`` (MLE; its transitions computed faster,
  bit for bit, by :mod:`.markov_tvtp`), two regimes with switching mean and
  variance of log MOVE, transitions logistic in the lagged drivers that are complete over
  the training window, refit at every origin (a head start over the model, stated). Its
  forecast: from the filtered P(stress) at the origin, the chain is run forward with the
  drivers held at their last values, and the probability is that of entering its stress
  regime from calm within the horizon, the onset question the targets ask
  (:mod:`.targets`: an onset is the first week of a run). P(at least one stress week) is
  kept beside it: a chain already in stress answers that with ~1, which is no onset
  forecast.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm

from data.catalogue import liquidity_event_weeks
from data.defaults import DEFAULT_SEED
from data.panel import Panel
from diagnostics.evaluation.markov_tvtp import TwoRegimeTvtpRegression
from diagnostics.evaluation.outcomes import climatology
from diagnostics.evaluation.scores import relative_usefulness
from diagnostics.evaluation.targets import POST_EVENT_WEEKS, known_onset_history
from model.equations.inputs import ModelInputs

#: Coefficient prior of the Bayesian logit: the model's ``trans_coef`` prior (per driver sd).
LOGIT_COEF_SD = 0.35


def logit_row_weight(horizon: int) -> float:
    """The weight of one weekly row in the logit's likelihood: 1/h, since h overlapping
    weekly windows carry about one window's information."""
    return 1.0 / horizon


SIGNAL_PERCENTILES = (0.80, 0.85, 0.90, 0.95, 0.975)
#: A driver enters MS-TVTP's transitions only if observed in at least this share of weeks.
MIN_DRIVER_COVERAGE = 0.5


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
MARKOV_SEARCH_SEED = DEFAULT_SEED


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
    model = TwoRegimeTvtpRegression(
        endog, k_regimes=2, switching_variance=True, exog_tvtp=exog_tvtp
    )
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
    # 1 - (calm + stress) can fall a rounding error below 0 when no onset is possible
    return float(min(max(1.0 - calm - stress, 0.0), 1.0))


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

    from model.equations.config import DRIVER_ORDER

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
    from diagnostics.evaluation.baselines import markov_forecast
    from diagnostics.evaluation.refits import drivers_known_at
    from model.equations.config import ModelConfig
    from model.equations.inputs import model_inputs

    config = ModelConfig(
        start=start, drivers=drivers_known_at(panel.frame.loc[start:]), move_observable="level"
    )
    result = markov_forecast(model_inputs(panel, config), horizon)
    return result.get("liquidity_event")  # P(an onset of its stress regime within h)
