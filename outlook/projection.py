"""Posterior scenarios for the coming weeks: driver paths, regime and event probabilities.

For every posterior draw d (vectorized over draws, NumPy):

1. *Drivers.* The model's own AR(1) for each standardized driver (``ar_mu``, ``ar_phi``,
   ``ar_sigma``, sampled with the regimes, so their uncertainty is carried draw by draw)
   projects the drivers from their value in the last data week; where that value is missing
   (a driver that stopped publishing) the starting point is a draw from that week's
   distribution given the observed weeks (``model/equations/missing.py``). One
   driver path per draw; the same standard-normal shocks serve every scenario (common
   random numbers), so scenario differences are not simulation noise.
2. *Regimes, events, restarts.* Given a driver path, regimes are summed out exactly (a
   forward recursion over the two states jointly with "nothing happened yet"), starting from
   the draw's filtered P(stress) in the last data week. This gives, per draw,
   P(liquidity event within h weeks), P(QE restart within h weeks) and P(stress) in each
   week, without Monte Carlo noise in the regimes.

The interval across draws therefore carries parameter uncertainty, the uncertainty of
missing driver values, and the driver paths' own randomness.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.equations.likelihood import (
    onset_probabilities,
    quiet_week_by_kind,
    restart_probabilities,
    stress_probabilities,
)


@dataclass
class StartState:
    """Everything a projection needs from a fit, with a leading draw axis D."""

    params: dict[str, np.ndarray]  # parameter draws, as model.equations.posterior.parameters
    x_last: np.ndarray  # (D, K) standardized drivers in the last data week
    p_stress_last: np.ndarray  # (D,) filtered P(stress) in the last data week
    at_risk: bool  # the Fed is not buying at the cut-off (restart possible)
    #: (funding, market-functioning): an event of that kind is under way in the last week
    event_ongoing: tuple[bool, bool] = (False, False)


def driver_shocks(
    rng: np.random.Generator, n_draws: int, horizon: int, n_drivers: int
) -> np.ndarray:
    return rng.standard_normal((n_draws, horizon, n_drivers))


def project_drivers(
    params: dict,
    x_last: np.ndarray,
    shocks: np.ndarray,
    pinned: np.ndarray | None = None,
    shifted: np.ndarray | None = None,
) -> np.ndarray:
    """(D, H, K) standardized driver paths for weeks T+1..T+H.

    ``pinned`` (D or 1, H, K) holds fixed standardized values (NaN = not pinned): a pinned
    week takes that value and the AR(1) continues from it. ``shifted`` (same shape, 0 = no
    shift) is added to the unpinned AR(1) path after it is simulated (the shocks stay those
    of the baseline).
    """
    mu, phi, sigma = params["ar_mu"], params["ar_phi"], params["ar_sigma"]
    horizon = shocks.shape[1]
    paths = np.empty_like(shocks)
    free = x_last
    for h in range(horizon):
        free = mu + phi * (free - mu) + sigma * shocks[:, h]
        value = free if shifted is None else free + shifted[:, h]
        if pinned is not None:
            pin = np.broadcast_to(pinned[:, h], value.shape)
            value = np.where(np.isnan(pin), value, pin)
            # after a pinned week the AR(1) restarts from the pinned value
            free = np.where(np.isnan(pin), free, pin)
        paths[:, h] = value
    return paths


def transition_probability(params: dict, x_prev: np.ndarray) -> np.ndarray:
    """(D, 2): P(stress next week | calm, stress now) given drivers x_prev (D, K)."""
    return stress_probabilities(params, x_prev[:, None, :])[:, 0]


def no_event_by_kind(
    params: dict, x_prev: np.ndarray, ongoing: tuple[bool, bool] = (False, False)
) -> np.ndarray:
    """(D, 4): P(no liquidity event week this week | calm, funding stress, market stress,
    both), drivers of the week before (:func:`model.equations.likelihood.quiet_week_by_kind`)."""
    eps, q = (a[:, 0, :] for a in onset_probabilities(params, x_prev[:, None, :]))
    return quiet_week_by_kind(params, eps, q, ongoing)


def per_state(params: dict, by_kind: np.ndarray) -> np.ndarray:
    """(D, 4) per calm and stress kind -> (D, 2) per regime, the kinds mixed by their
    weights."""
    stress = (params["stress_type_weights"] * by_kind[:, 1:]).sum(-1)
    return np.stack([by_kind[:, 0], stress], axis=-1)


def restart_hazard(params: dict, x_prev: np.ndarray) -> np.ndarray:
    """(D, 2): P(QE restart this week | calm, stress), drivers of the week before."""
    return restart_probabilities(params, x_prev[:, None, :])[:, 0]


@dataclass
class Outlook:
    p_stress: np.ndarray  # (D, H) P(stress) in weeks T+1..T+H
    p_event_by: np.ndarray  # (D, H) P(at least one liquidity event by week T+h)
    p_restart_by: np.ndarray  # (D, H) P(QE restart by week T+h)
    drivers: np.ndarray  # (D, H, K) standardized driver paths

    @property
    def p_event(self) -> np.ndarray:
        return self.p_event_by[:, -1]

    @property
    def p_restart(self) -> np.ndarray:
        return self.p_restart_by[:, -1]

    def first_event_week(self) -> np.ndarray:
        """(D, H): P(the first event falls in week h)."""
        survival = 1 - self.p_event_by
        previous = np.concatenate([np.ones((len(survival), 1)), survival[:, :-1]], axis=1)
        return previous - survival


def outlook(start: StartState, paths: np.ndarray, evidence: np.ndarray | None = None) -> Outlook:
    """Exact regime-marginal probabilities over the horizon for given driver paths.

    ``evidence`` (D, H, 4), optional: the likelihood of what a scenario assumes was observed
    in week h (a MOVE path) under calm and each kind of stress, NaN where nothing is
    assumed. Such a week enters as an observation: the regime, "no event yet" and "no
    restart yet" probabilities are updated by Bayes' rule, kind by kind, since events
    depend on the kind of stress as the observable does (a conditional forecast).
    """
    p = start.params
    n_draws, horizon, _ = paths.shape
    regime = np.stack([1 - start.p_stress_last, start.p_stress_last], axis=-1)  # (D, 2)
    quiet = regime.copy()  # P(s_t, no event yet)
    unrestarted = regime.copy()  # P(s_t, no restart yet)
    # first week: an event under way at the cut-off may continue; afterwards (on paths
    # where nothing happened yet) only onsets
    p_stress = np.empty((n_draws, horizon))
    p_event_by = np.empty((n_draws, horizon))
    p_restart_by = np.empty((n_draws, horizon))
    x_prev = start.x_last
    for h in range(horizon):
        to_stress = transition_probability(p, x_prev)  # (D, 2) from j
        trans = np.stack([1 - to_stress, to_stress], axis=-1)  # (D, j, k)
        quiet_kind = no_event_by_kind(p, x_prev, start.event_ongoing if h == 0 else (False, False))
        seen = None if evidence is None else evidence[:, h]
        if seen is None or np.isnan(seen).all():
            seen = np.ones((n_draws, 4))
        seen = np.where(np.isnan(seen), 1.0, seen)
        predicted = np.einsum("dj,djk->dk", regime, trans)
        norm = (predicted * per_state(p, seen)).sum(-1, keepdims=True)  # P(what is assumed)
        regime = predicted * per_state(p, seen) / norm
        quiet = np.einsum("dj,djk->dk", quiet, trans) * per_state(p, seen * quiet_kind) / norm
        hazard = restart_hazard(p, x_prev) if start.at_risk else np.zeros_like(regime)
        unrestarted = (
            np.einsum("dj,djk->dk", unrestarted, trans) * per_state(p, seen) / norm * (1 - hazard)
        )
        p_stress[:, h] = regime[:, 1]
        # 1 - (a sum that is 1 up to rounding) may dip an ulp below 0
        p_event_by[:, h] = np.clip(1 - quiet.sum(-1), 0.0, 1.0)
        p_restart_by[:, h] = np.clip(1 - unrestarted.sum(-1), 0.0, 1.0)
        x_prev = paths[:, h]
    return Outlook(p_stress, p_event_by, p_restart_by, paths)
