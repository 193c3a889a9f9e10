"""The model's generative process, for parameter recovery, prior predictive checks and tests.

Synthetic data made here are for testing the machinery only; they are never presented as
market data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.equations.config import LATENT_START_SD
from model.equations.inputs import FUNDING_RESOLUTION_BP, FUNDING_UNIT_BP, lag_once
from model.equations.likelihood import (
    onset_probabilities,
    restart_probabilities,
    stress_probabilities,
)


@dataclass
class Simulated:
    x: np.ndarray  # (T, K) standardized drivers
    regime: np.ndarray  # (T,) 0 calm / 1 stress
    stress_kind: np.ndarray  # (T,) 0 funding / 1 market / 2 both / -1 calm
    obs: dict[str, np.ndarray]


def simulate_drivers(
    rng: np.random.Generator, n_weeks: int, mu: np.ndarray, phi: np.ndarray, sigma: np.ndarray
) -> np.ndarray:
    """Independent AR(1) paths, one per driver, started as the model starts them."""
    x = np.empty((n_weeks, len(mu)))
    x[0] = mu + LATENT_START_SD * rng.standard_normal(len(mu))
    for t in range(1, n_weeks):
        x[t] = mu + phi * (x[t - 1] - mu) + sigma * rng.standard_normal(len(mu))
    return x


def event_weeks(rng: np.random.Generator, onset: np.ndarray, kappa: float) -> np.ndarray:
    """0/1 event weeks of one kind: an event starts with probability ``onset[t]`` in a week
    after a quiet one, and an event under way lasts another week with probability
    ``kappa``."""
    event = np.zeros(len(onset), dtype=bool)
    for t in range(len(onset)):
        chance = kappa if t > 0 and event[t - 1] else onset[t]
        event[t] = rng.random() < chance
    return event


def simulate(
    rng: np.random.Generator,
    p: dict,
    x: np.ndarray,
    at_risk: np.ndarray,
    initial_stress_probability: float = 0.1,
    x_var: np.ndarray | None = None,
) -> Simulated:
    """Regimes, stress observables, catalogued-event indicators and QE restarts given x.

    ``p`` holds one draw of every parameter (no draw axis). ``at_risk`` marks the weeks in
    which a restart can happen (in the real data: weeks when the Fed is not buying).
    ``x_var`` (optional, 0 where observed) is the variance of missing driver weeks, whose
    mean is then ``x``: transitions and hazard integrate it out as the fitted model does.
    """
    n_weeks = len(x)
    lagged = lag_once(x)
    lagged_var = None if x_var is None else lag_once(x_var)
    to_stress = stress_probabilities(p, x, x_var)  # (T, 2): week t -> t+1, from calm/stress
    regime = np.zeros(n_weeks, dtype=int)
    regime[0] = rng.random() < initial_stress_probability
    for t in range(1, n_weeks):
        regime[t] = rng.random() < to_stress[t - 1, regime[t - 1]]
    kind = np.where(regime == 1, rng.choice(3, size=n_weeks, p=p["stress_type_weights"]), -1)
    funding_stressed = (kind == 0) | (kind == 2)
    market_stressed = (kind == 1) | (kind == 2)
    sf, sm = p["funding_sigma"], p["move_sigma"]
    funding = np.where(
        funding_stressed,
        p["funding_mu_calm"]
        + p["funding_shift"]
        + sf[1] * rng.standard_t(p["funding_nu"], n_weeks),
        p["funding_mu_calm"] + sf[0] * rng.standard_t(p["funding_nu"], n_weeks),
    )
    # reported, as the real series is, in whole basis points (model.equations.inputs)
    resolution = FUNDING_RESOLUTION_BP / FUNDING_UNIT_BP
    funding = np.round(funding / resolution) * resolution
    move = np.where(
        market_stressed,
        p["move_mu_calm"] + p["move_shift"] + sm[1] * rng.standard_normal(n_weeks),
        p["move_mu_calm"] + sm[0] * rng.standard_normal(n_weeks),
    )
    eps, q = onset_probabilities(p, lagged, lagged_var)  # (T, 2) each
    kappa = p["event_continue"]
    event_funding = event_weeks(rng, np.where(funding_stressed, q[:, 0], eps[:, 0]), kappa[0])
    event_market = event_weeks(rng, np.where(market_stressed, q[:, 1], eps[:, 1]), kappa[1])
    hazard = restart_probabilities(p, lagged, lagged_var)[np.arange(n_weeks), regime]
    restart = (rng.random(n_weeks) < hazard) & (at_risk > 0)
    ones = np.ones(n_weeks)
    obs = {
        "funding": funding,
        "funding_mask": ones,
        "move": move,
        "move_mask": ones,
        "event_funding": event_funding.astype(float),
        "event_market": event_market.astype(float),
        "at_risk": at_risk.astype(float),
        "restart": restart.astype(float),
    }
    return Simulated(x, regime, kind, obs)


#: Event weeks closer than this many weeks belong to one episode (the catalogue dates an
#: event as one window; the weekly emission may flicker inside it).
EPISODE_GAP_WEEKS = 8


def episodes(indicator: np.ndarray, gap: int = EPISODE_GAP_WEEKS) -> int:
    """Number of event episodes: runs of event weeks, merging runs less than ``gap`` apart."""
    weeks = np.flatnonzero(np.asarray(indicator) > 0)
    if len(weeks) == 0:
        return 0
    return int(1 + np.sum(np.diff(weeks) >= gap))


def simulate_event_counts(
    rng: np.random.Generator,
    p: dict,
    x: np.ndarray,
    at_risk: np.ndarray,
    initial_stress_probability: float = 0.1,
    x_var: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Vectorized over draws (leading axis of every parameter and of x (D, T, K)).

    ``x_var`` as in :func:`simulate`.

    Returns, per draw: stress weeks, liquidity-event episodes (either kind) and QE restarts
    over the sample's at-risk weeks. Used by the prior and posterior predictive checks.
    """
    n_draws, n_weeks, _ = x.shape
    regime = (rng.random(n_draws) < initial_stress_probability).astype(int)
    idx = np.arange(n_draws)
    stress_weeks = regime.copy()
    since_event = np.full(n_draws, 10**6)
    on_f = np.zeros(n_draws, dtype=bool)  # an event of the kind was on last week
    on_m = np.zeros(n_draws, dtype=bool)
    episodes_count = np.zeros(n_draws, dtype=int)
    restarts = np.zeros(n_draws, dtype=int)
    cum_w = np.cumsum(p["stress_type_weights"], axis=-1)
    lagged, lagged_var = lag_once(x), None if x_var is None else lag_once(x_var)
    eps, q = onset_probabilities(p, lagged, lagged_var)
    to_stress = stress_probabilities(p, x, x_var)  # (D, T, 2)
    hazard = restart_probabilities(p, lagged, lagged_var)  # (D, T, 2)
    for t in range(n_weeks):
        if t > 0:
            regime = (rng.random(n_draws) < to_stress[idx, t - 1, regime]).astype(int)
            stress_weeks += regime
            restarts += (rng.random(n_draws) < hazard[idx, t, regime]) & (at_risk[t] > 0)
        kind = (rng.random(n_draws)[:, None] > cum_w).sum(-1)
        f_hit = (regime == 1) & ((kind == 0) | (kind == 2))
        m_hit = (regime == 1) & ((kind == 1) | (kind == 2))
        pf = np.where(f_hit, q[:, t, 0], eps[:, t, 0])
        pm_ = np.where(m_hit, q[:, t, 1], eps[:, t, 1])
        on_f = rng.random(n_draws) < np.where(on_f, p["event_continue"][:, 0], pf)
        on_m = rng.random(n_draws) < np.where(on_m, p["event_continue"][:, 1], pm_)
        event = on_f | on_m
        episodes_count += event & (since_event >= EPISODE_GAP_WEEKS)
        since_event = np.where(event, 1, since_event + 1)
    return {"stress_weeks": stress_weeks, "event_episodes": episodes_count, "qe_restarts": restarts}
