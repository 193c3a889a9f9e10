"""The onset hazard in the drivers: likelihood by brute force, neutrality, projection, recovery."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats
from scipy.special import expit, logit

from model.equations.build import build_model
from model.equations.config import ModelConfig
from model.equations.hmm import forward_backward
from model.equations.inputs import FUNDING_ROUNDING_VAR, lag_once
from model.equations.likelihood import NP, log_emissions, log_transitions, onset_probabilities
from model.equations.posterior import flat_draws
from model.equations.simulate import simulate, simulate_drivers
from model.inference.jax_density import jax_potential
from model.inference.sampling import sample
from model.inference.settings import SamplerSettings
from outlook.projection import StartState, driver_shocks, outlook, project_drivers
from tests.model_fixtures import inputs_from, random_short_inputs, true_parameters

BETA = np.array(
    [
        [0.0, 0.0, 1.2, 0.0, 0.0],  # funding onsets: the funding-spread driver
        [0.0, 0.9, 0.0, 0.0, 0.0],
    ]
)  # market onsets: log MOVE


def hazard_parameters() -> dict:
    return dict(true_parameters(), event_coef=BETA.copy())


def brute_force_loglik(p: dict, obs: dict, x: np.ndarray, p0: float) -> float:
    """Sum over every regime path and every stress kind of the generative probability.

    Written from the model's definition (README equations), not from model.equations.likelihood.
    """
    n = len(x)
    lagged = lag_once(x)
    total = 0.0
    scale = np.sqrt(p["funding_sigma"] ** 2 + FUNDING_ROUNDING_VAR)
    for path in itertools.product((0, 1), repeat=n):
        stressed = [t for t in range(n) if path[t] == 1]
        for kinds in itertools.product((0, 1, 2), repeat=len(stressed)):
            kind = dict(zip(stressed, kinds, strict=True))
            prob = p0 if path[0] else 1 - p0
            for t in range(1, n):
                j = path[t - 1]
                up = expit(p["trans_intercept"][j] + x[t - 1] @ p["trans_coef"][j])
                prob *= up if path[t] else 1 - up
            for t in range(n):
                k = kind.get(t)
                f_stress = k in (0, 2)
                m_stress = k in (1, 2)
                if k is not None:
                    prob *= p["stress_type_weights"][k]
                if obs["funding_mask"][t]:
                    mu = p["funding_mu_calm"] + (p["funding_shift"] if f_stress else 0)
                    prob *= stats.t.pdf(
                        obs["funding"][t], p["funding_nu"], mu, scale[int(f_stress)]
                    )
                if obs["move_mask"][t]:
                    mu = p["move_mu_calm"] + (p["move_shift"] if m_stress else 0)
                    prob *= stats.norm.pdf(obs["move"][t], mu, p["move_sigma"][int(m_stress)])
                for kk, (name, hit) in enumerate(
                    (("event_funding", f_stress), ("event_market", m_stress))
                ):
                    e = obs[name]
                    if t > 0 and e[t - 1] == 1:
                        q = p["event_continue"][kk]
                    else:
                        rate = p["event_hit_rate"][kk] if hit else p["event_false_rate"][kk]
                        q = expit(logit(rate) + lagged[t] @ p["event_coef"][kk])
                    prob *= q if e[t] else 1 - q
                if obs["at_risk"][t]:
                    h = expit(
                        p["qe_intercept"]
                        + p["qe_stress_effect"] * path[t]
                        + lagged[t] @ p["qe_coef"]
                    )
                    prob *= h if obs["restart"][t] else 1 - h
            total += prob
    return float(np.log(total))


def project_loglik(p: dict, obs: dict, x: np.ndarray, p0: float) -> float:
    log_init = np.log([1 - p0, p0])
    loglik, _, _ = forward_backward(
        log_init, log_transitions(NP, p, x), log_emissions(NP, p, obs, lag_once(x))
    )
    return float(loglik[0])


@pytest.mark.parametrize("seed", [1, 2])
def test_the_hazard_likelihood_equals_brute_force_enumeration(seed):
    inputs = random_short_inputs(np.random.default_rng(seed), 4)
    p = hazard_parameters()
    p = {k: v[None] for k, v in p.items()}  # the draw axis NumPy terms expect
    flat = {k: v[0] for k, v in p.items()}
    assert project_loglik(p, inputs.obs, inputs.x, 0.1) == pytest.approx(
        brute_force_loglik(flat, inputs.obs, inputs.x, 0.1), rel=1e-10
    )


def test_zero_coefficients_give_the_regime_only_model_exactly():
    inputs = random_short_inputs(np.random.default_rng(3), 30)
    base = true_parameters()
    with_zero = dict(base, event_coef=np.zeros((2, 5)))
    np.testing.assert_allclose(
        log_emissions(NP, with_zero, inputs.obs, lag_once(inputs.x)),
        log_emissions(NP, base, inputs.obs, lag_once(inputs.x)),
        rtol=1e-12,
        atol=1e-12,
    )


def test_onset_probabilities_follow_the_lagged_driver():
    p = {k: v[None] for k, v in hazard_parameters().items()}
    x = np.zeros((1, 3, 5))
    x[0, 1, 2] = 2.0  # funding spread 2 sd up in week 1
    calm, stress = onset_probabilities(p, x)
    eps = p["event_false_rate"][0, 0]
    assert calm[0, 0, 0] == pytest.approx(eps)
    assert calm[0, 1, 0] == pytest.approx(expit(logit(eps) + 2 * BETA[0, 2]))
    assert calm[0, 1, 1] == pytest.approx(p["event_false_rate"][0, 1])  # market kind: no
    assert stress[0, 1, 0] > stress[0, 0, 0]


def test_the_projection_moves_with_the_drivers_only_with_a_hazard():
    rng = np.random.default_rng(0)
    n = 200
    base = {k: np.broadcast_to(v, (n, *np.shape(v))).copy() for k, v in true_parameters().items()}
    hazard = dict(base, event_coef=np.broadcast_to(BETA, (n, 2, 5)).copy())
    shocks = driver_shocks(rng, n, 13, 5)
    calm_x, stressed_x = np.zeros((n, 5)), np.zeros((n, 5))
    stressed_x[:, 2] = 3.0  # funding spread 3 sd above normal

    def p_event(params, x_last, pinned=None):
        start = StartState(params, x_last, np.full(n, 0.05), True)
        paths = project_drivers(params, x_last, shocks, pinned)
        return outlook(start, paths).p_event.mean()

    pinned = np.full((1, 13, 5), np.nan)
    pinned[..., 2] = 3.0
    assert p_event(hazard, stressed_x, pinned) > 2 * p_event(hazard, calm_x)
    # without the hazard the same scenario moves P(event) only through the regimes, whose
    # transition coefficient on the funding driver is 0 in these parameters
    assert p_event(base, stressed_x, pinned) == pytest.approx(p_event(base, calm_x), rel=0.05)


@pytest.mark.slow
def test_driver_dependent_onsets_are_recovered():
    """Simulate onsets that depend on the funding driver, fit, find the coefficient's sign."""
    rng = np.random.default_rng(77)
    truth = dict(true_parameters(), event_coef=BETA * 1.5)
    truth["event_false_rate"] = np.array([0.01, 0.01])
    n_weeks = 1500
    x = simulate_drivers(rng, n_weeks, truth["ar_mu"], truth["ar_phi"], truth["ar_sigma"])
    sim = simulate(rng, truth, x, np.ones(n_weeks))
    inputs = inputs_from(x, sim.obs)
    config = ModelConfig(event_coef_prior_sd=1.0, move_observable="level")  # simulated log level
    model = build_model(inputs, config)
    idata = sample(
        model,
        SamplerSettings(draws=400, tune=400, chains=2, seed=3),
        progressbar=False,
        potential=jax_potential(model, inputs, config),
    )
    draws = flat_draws(idata.posterior, "event_coef")  # (D, 2, 5)
    lo, hi = np.quantile(draws, [0.05, 0.95], axis=0)
    assert lo[0, 2] > 0 and lo[1, 1] > 0  # both effects found
    assert lo[0, 2] <= truth["event_coef"][0, 2] <= hi[0, 2]
    # drivers with no effect are not given one
    assert np.mean((lo[0, [0, 1, 3, 4]] <= 0) & (hi[0, [0, 1, 3, 4]] >= 0)) >= 0.75
