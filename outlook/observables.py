"""The stress the model measures, forecast: simulated paths of the two stress observables.

For every posterior draw, one path over weeks T+1..T+H (generative story, docs/model.md):

1. the regime of week T is drawn from the draw's filtered P(stress); each later week's
   regime from the model's transition given the drivers of the week before;
2. a stress week draws its kind (funding, market functioning, both) from the stress-kind
   weights;
3. the week's maximum funding spread is drawn from the funding emission of its regime and
   kind (Student-t, reported in whole basis points as the real series is), and the MOVE
   observable from the MOVE emission; under the jump observable the week's mean MOVE is the
   jump times the median weekly mean MOVE of the previous 52 weeks, simulated weeks
   included, so the level carries its own history forward;
4. the drivers of the next transition follow the model's AR(1) with the forecast's shocks,
   except log MOVE: the driver and the observable are one series, so the driver takes the
   simulated MOVE, never a second future of its own. The funding-spread driver is the
   week's *mean* spread, a different statistic of the daily series than the emitted
   *maximum*; it keeps its AR(1), as in the model, where the two are not tied either.

Synthetic paths of the model, for the committee's fan charts and the backtest's scores;
never presented as market data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.equations.inputs import (
    FUNDING_RESOLUTION_BP,
    FUNDING_UNIT_BP,
    MOVE_JUMP_MIN_WEEKS,
    MOVE_JUMP_WINDOW_WEEKS,
    ModelInputs,
)
from model.equations.likelihood import NP, stress_observable_logpdfs
from outlook.projection import StartState, transition_probability
from outlook.scenarios import Scenario, assumed_path

FAN_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass
class ObservablePaths:
    funding_bp: np.ndarray  # (D, H) weekly maximum funding spread, bp
    move: np.ndarray  # (D, H) weekly mean MOVE, index points
    regime: np.ndarray  # (D, H) 1 = stress


def move_history(inputs: ModelInputs) -> np.ndarray:
    """The weekly mean MOVE (index points) of the fit's weeks, NaN where missing: as stored
    with the fit, or (a fit that did not store it) from the log MOVE driver, the same
    series."""
    if inputs.stress_levels and "move" in inputs.stress_levels:
        return np.asarray(inputs.stress_levels["move"], dtype=float)
    k = inputs.drivers.index("log_move")
    return np.exp(inputs.x[:, k] * inputs.driver_sd[k] + inputs.driver_mean[k])


def simulate_observables(
    start: StartState,
    inputs: ModelInputs,
    shocks: np.ndarray,
    rng: np.random.Generator,
) -> ObservablePaths:
    """One path of both observables per draw (see the module doc), vectorized over draws."""
    p = start.params
    n_draws, horizon, _ = shocks.shape
    rows = np.arange(n_draws)
    k_move = inputs.drivers.index("log_move") if "log_move" in inputs.drivers else None
    history = np.tile(move_history(inputs)[-MOVE_JUMP_WINDOW_WEEKS:], (n_draws, 1))
    regime = (rng.random(n_draws) < start.p_stress_last).astype(int)
    x_prev = start.x_last
    cum_weights = np.cumsum(p["stress_type_weights"], axis=-1)
    resolution = FUNDING_RESOLUTION_BP / FUNDING_UNIT_BP
    out = {k: np.empty((n_draws, horizon)) for k in ("funding", "move", "regime")}
    for h in range(horizon):
        to_stress = transition_probability(p, x_prev)  # (D, 2), from calm / stress
        regime = (rng.random(n_draws) < to_stress[rows, regime]).astype(int)
        kind = (rng.random(n_draws)[:, None] > cum_weights).sum(-1)
        funding_hit = (regime == 1) & (kind != 1)  # funding or both
        market_hit = (regime == 1) & (kind != 0)  # market functioning or both
        f_sigma = p["funding_sigma"][rows, funding_hit.astype(int)]
        funding = (
            p["funding_mu_calm"]
            + p["funding_shift"] * funding_hit
            + f_sigma * rng.standard_t(p["funding_nu"])
        )
        m_sigma = p["move_sigma"][rows, market_hit.astype(int)]
        emitted = (
            p["move_mu_calm"]
            + p["move_shift"] * market_hit
            + m_sigma * rng.standard_normal(n_draws)
        )
        if inputs.move_observable == "jump":
            window = history[:, -MOVE_JUMP_WINDOW_WEEKS:]
            enough = np.isfinite(window).sum(axis=1) >= MOVE_JUMP_MIN_WEEKS
            level = np.where(enough, np.nanmedian(window, axis=1), np.nan) * np.exp(emitted)
        else:
            level = np.exp(emitted)
        history = np.concatenate([history, level[:, None]], axis=1)
        out["funding"][:, h] = np.round(funding / resolution) * resolution * FUNDING_UNIT_BP
        out["move"][:, h] = level
        out["regime"][:, h] = regime
        x_next = p["ar_mu"] + p["ar_phi"] * (x_prev - p["ar_mu"]) + p["ar_sigma"] * shocks[:, h]
        if k_move is not None:
            x_next[:, k_move] = (np.log(level) - inputs.driver_mean[k_move]) / inputs.driver_sd[
                k_move
            ]
        x_prev = x_next
    return ObservablePaths(out["funding"], out["move"], out["regime"])


def fan_summary(paths: ObservablePaths, weeks: list[str]) -> dict:
    """Per observable: the quantiles of each week and of the horizon's maximum, across draws
    (JSON-ready)."""
    out = {}
    for name, values, unit in (
        ("funding_spread_max", paths.funding_bp, "bp"),
        ("move", paths.move, "index points"),
    ):
        q = np.nanquantile(values, FAN_QUANTILES, axis=0)
        peak = np.nanquantile(values.max(axis=1), FAN_QUANTILES)
        out[name] = {
            "unit": unit,
            "weeks": weeks,
            **{f"q{int(100 * t):02d}": q[i].tolist() for i, t in enumerate(FAN_QUANTILES)},
            "horizon_max": {
                f"q{int(100 * t):02d}": float(peak[i]) for i, t in enumerate(FAN_QUANTILES)
            },
        }
    out["p_stress_any_week"] = float(paths.regime.max(axis=1).mean())
    return out


def funding_mean_history(inputs: ModelInputs) -> np.ndarray:
    """The weekly mean funding spread (bp) of the fit's weeks, NaN where missing: as stored
    with the fit, or (a fit that did not store it) from its funding-spread driver, the same
    series; all NaN when it has neither."""
    if inputs.stress_levels and "funding_spread" in inputs.stress_levels:
        return np.asarray(inputs.stress_levels["funding_spread"], dtype=float)
    if "funding_spread" in inputs.drivers:
        k = inputs.drivers.index("funding_spread")
        return inputs.x[:, k] * inputs.driver_sd[k] + inputs.driver_mean[k]
    return np.full(inputs.n_weeks, np.nan)


def last_observed(values: np.ndarray) -> float:
    """The last finite value of a weekly series (NaN if none)."""
    finite = np.flatnonzero(np.isfinite(values))
    return float(values[finite[-1]]) if len(finite) else float("nan")


def assumed_move(scenario: Scenario, inputs: ModelInputs, paths: np.ndarray) -> np.ndarray:
    """(D, H) log weekly mean MOVE a scenario assumes, NaN in weeks it does not set it.

    With log MOVE a driver, the assumed weeks take the driver's scenario path (the same
    series, one future); otherwise the path the scenario writes, from the last observed
    week (:func:`outlook.scenarios.assumed_path`)."""
    n_draws, horizon, _ = paths.shape
    written = assumed_path(
        scenario, "log_move", horizon, np.log(last_observed(move_history(inputs)))
    )
    if "log_move" not in inputs.drivers:
        return np.tile(written, (n_draws, 1))
    k = inputs.drivers.index("log_move")
    log_level = paths[:, :, k] * inputs.driver_sd[k] + inputs.driver_mean[k]
    return np.where(np.isnan(written)[None, :], np.nan, log_level)


def assumed_funding_max(scenario: Scenario, inputs: ModelInputs, horizon: int) -> np.ndarray:
    """(H,) weekly maximum funding spread (bp) a scenario assumes, NaN where it sets none.

    A scenario writes the funding spread's weekly *mean* (the driver's statistic); the
    week's daily spreads are taken to move together, so the maximum moves with the mean
    from the last observed week, rounded to whole basis points as the real series is."""
    last_mean = last_observed(funding_mean_history(inputs))
    funding = np.where(inputs.obs["funding_mask"] > 0, inputs.obs["funding"], np.nan)
    last_max = last_observed(funding) * FUNDING_UNIT_BP
    mean_path = assumed_path(scenario, "funding_spread", horizon, last_mean)
    return np.round(mean_path - last_mean + last_max)


def scenario_evidence(
    start: StartState, inputs: ModelInputs, scenario: Scenario, paths: np.ndarray
) -> np.ndarray | None:
    """(D, H, 4) likelihood, up to a factor per draw and week, of the stress observables a
    scenario assumes (MOVE, the funding spread's weekly maximum) under calm, funding stress,
    market stress and both, NaN in weeks it assumes neither: those weeks enter the regime
    filter as observations (:func:`outlook.projection.outlook`). None when it assumes
    nothing. The densities are the model's emissions
    (:func:`model.equations.likelihood.stress_observable_logpdfs`)."""
    n_draws, horizon, _ = paths.shape
    log_move = assumed_move(scenario, inputs, paths)
    funding_bp = np.tile(assumed_funding_max(scenario, inputs, horizon), (n_draws, 1))
    move_seen, funding_seen = np.isfinite(log_move), np.isfinite(funding_bp)
    if not (move_seen.any() or funding_seen.any()):
        return None
    obs = {
        "move": np.nan_to_num(move_observable_path(inputs, log_move)),
        "move_mask": move_seen.astype(float),
        "funding": np.nan_to_num(funding_bp / FUNDING_UNIT_BP),
        "funding_mask": funding_seen.astype(float),
    }
    f_calm, f_stress, m_calm, m_stress = stress_observable_logpdfs(NP, start.params, obs)
    # calm sees both calm; the funding kind a stressed funding spread; the market kind a
    # stressed MOVE; both kinds both
    log_kinds = np.stack(
        [f_calm + m_calm, f_stress + m_calm, f_calm + m_stress, f_stress + m_stress], axis=-1
    )
    likelihood = np.exp(log_kinds - log_kinds.max(axis=-1, keepdims=True))
    seen = (move_seen | funding_seen)[:, :, None]
    return np.where(seen, likelihood, np.nan)


def move_observable_path(inputs: ModelInputs, log_level: np.ndarray) -> np.ndarray:
    """(D, H) the MOVE emission's observable for assumed log levels (NaN stays NaN): the
    level itself, or under the jump observable the level over the median weekly mean MOVE
    of the previous 52 weeks, assumed weeks included."""
    if inputs.move_observable != "jump":
        return log_level
    history = np.tile(move_history(inputs)[-MOVE_JUMP_WINDOW_WEEKS:], (len(log_level), 1))
    levels = np.concatenate([history, np.exp(log_level)], axis=1)
    n_hist = history.shape[1]
    reference = np.stack(
        [
            np.nanmedian(levels[:, n_hist + h - MOVE_JUMP_WINDOW_WEEKS : n_hist + h], axis=1)
            for h in range(log_level.shape[1])
        ],
        axis=1,
    )
    return log_level - np.log(reference)
