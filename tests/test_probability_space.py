"""The probability-space functions that simulations, projections and the review page use
equal the exponentiated log terms the likelihood samples with, so the equations cannot
drift apart."""

from __future__ import annotations

import numpy as np
import pytest

from model.equations.likelihood import (
    NP,
    log_emissions,
    log_transitions,
    onset_probabilities,
    qe_log_hazard_terms,
    quiet_week_probabilities,
    restart_probabilities,
    stress_probabilities,
)
from tests.model_fixtures import true_parameters

N_WEEKS = 40


@pytest.fixture(params=[False, True], ids=["regime-only onsets", "onset hazard in drivers"])
def params(request) -> dict:
    p = true_parameters()
    if request.param:
        p["event_coef"] = np.array([[0.4, -0.3, 0.2, 0.0, 0.1], [0.0, 0.5, -0.2, 0.3, 0.0]])
    return p


def drivers(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N_WEEKS, 5))
    x_var = np.where(rng.random((N_WEEKS, 5)) < 0.3, rng.uniform(0.1, 2.0, (N_WEEKS, 5)), 0.0)
    return x, x_var


def test_stress_probabilities_are_the_likelihood_transitions(params):
    x, x_var = drivers()
    log_trans = log_transitions(NP, params, x, x_var)  # (T-1, from, to)
    to_stress = stress_probabilities(params, x[:-1], x_var[:-1])  # (T-1, from)
    np.testing.assert_allclose(np.exp(log_trans[..., 1]), to_stress, rtol=1e-12)
    np.testing.assert_allclose(np.exp(log_trans).sum(-1), 1.0, rtol=1e-12)


def test_restart_probabilities_are_the_likelihood_hazard(params):
    x, x_var = drivers()
    ones = np.ones(N_WEEKS)
    log_restart = qe_log_hazard_terms(NP, params, x, ones, ones, x_var)  # restart every week
    log_none = qe_log_hazard_terms(NP, params, x, ones, 0 * ones, x_var)
    hazard = restart_probabilities(params, x, x_var)
    np.testing.assert_allclose(np.exp(log_restart), hazard, rtol=1e-12)
    np.testing.assert_allclose(np.exp(log_none), 1 - hazard, rtol=1e-12)


@pytest.mark.parametrize("ongoing", [(False, False), (True, False), (False, True), (True, True)])
def test_quiet_week_is_the_emission_with_observables_summed_out(params, ongoing):
    """With both observables missing, no restart at risk and no event this week, the
    emission is P(no event week | regime): the projection's quiet-week probability."""
    x, _ = drivers()
    n = N_WEEKS
    zeros = np.zeros(n)
    week = n - 1
    obs = {
        "funding": zeros,
        "funding_mask": zeros,
        "move": zeros,
        "move_mask": zeros,
        # the week before the scored week carries the ongoing events
        "event_funding": np.where(np.arange(n) == week - 1, float(ongoing[0]), 0.0),
        "event_market": np.where(np.arange(n) == week - 1, float(ongoing[1]), 0.0),
        "at_risk": zeros,
        "restart": zeros,
    }
    x_lagged = np.concatenate([x[:1], x[:-1]])
    log_emis = log_emissions(NP, params, obs, x_lagged)
    eps, q = onset_probabilities(params, x_lagged)
    quiet = quiet_week_probabilities(params, eps[week], q[week], ongoing)
    np.testing.assert_allclose(np.exp(log_emis[week]), quiet, rtol=1e-12)
