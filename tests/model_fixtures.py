"""Small synthetic inputs and parameter draws for model tests (machinery only, not market data)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from model.equations.inputs import ModelInputs

DRIVERS = ("basis_short", "log_move", "funding_spread", "tga_change_13w", "foreign_demand_12m")


def true_parameters() -> dict[str, np.ndarray]:
    """A plausible parameter point (used for recovery and likelihood checks)."""
    return {
        "trans_intercept": np.array([-4.0, 2.8]),
        "trans_coef": np.array([[0.6, 0.8, 0.0, 0.0, -0.4], [0.3, 0.5, 0.0, 0.0, 0.0]]),
        "funding_mu_calm": np.array(-0.5),
        "funding_shift": np.array(2.5),
        "funding_sigma": np.array([0.5, 2.0]),
        "funding_nu": np.array(5.0),
        "move_mu_calm": np.array(4.3),
        "move_shift": np.array(0.5),
        "move_sigma": np.array([0.15, 0.2]),
        "stress_type_weights": np.array([0.3, 0.4, 0.3]),
        "event_false_rate": np.array([0.003, 0.003]),
        "event_hit_rate": np.array([0.2, 0.15]),
        "event_continue": np.array([0.8, 0.7]),
        "qe_intercept": np.array(-6.0),
        "qe_stress_effect": np.array(2.0),
        "qe_coef": np.array([0.0, 0.5, 0.0, 0.0, 0.0]),
        "ar_mu": np.zeros(5),
        "ar_phi": np.array([0.98, 0.95, 0.7, 0.9, 0.97]),
        "ar_sigma": np.array([0.2, 0.3, 0.7, 0.4, 0.2]),
    }


def inputs_from(x: np.ndarray, obs: dict, drivers=DRIVERS) -> ModelInputs:
    weeks = pd.date_range("2000-01-05", periods=len(x), freq="W-WED")
    return ModelInputs(weeks, tuple(drivers), x, np.zeros(x.shape[1]), np.ones(x.shape[1]), obs)


def random_short_inputs(
    rng: np.random.Generator, n_weeks: int, drivers: tuple[str, ...] = DRIVERS
) -> ModelInputs:
    """Short random inputs with missing observables and some restart/at-risk weeks."""
    x = rng.normal(size=(n_weeks, len(drivers)))
    funding = rng.normal(0, 2, n_weeks)
    move = rng.normal(4.4, 0.3, n_weeks)
    funding_mask = (rng.random(n_weeks) > 0.25).astype(float)
    move_mask = (rng.random(n_weeks) > 0.25).astype(float)
    at_risk = (rng.random(n_weeks) > 0.3).astype(float)
    at_risk[0] = 0
    obs = {
        "funding": funding * funding_mask,
        "funding_mask": funding_mask,
        "move": move * move_mask,
        "move_mask": move_mask,
        "event_funding": (rng.random(n_weeks) > 0.7).astype(float),
        "event_market": (rng.random(n_weeks) > 0.7).astype(float),
        "at_risk": at_risk,
        "restart": ((rng.random(n_weeks) > 0.6) * at_risk),
    }
    return inputs_from(x, obs, drivers)
