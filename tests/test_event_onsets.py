"""Events enter the likelihood by their onsets; a continuing event week is silent on the regime."""

from __future__ import annotations

import numpy as np

from model.equations.likelihood import NP, log_emissions
from tests.model_fixtures import random_short_inputs, true_parameters


def emissions(events_funding: np.ndarray) -> np.ndarray:
    inputs = random_short_inputs(np.random.default_rng(5), len(events_funding))
    obs = dict(
        inputs.obs,
        event_funding=events_funding.astype(float),
        event_market=np.zeros(len(events_funding)),
    )
    return log_emissions(NP, true_parameters(), obs, inputs.x)


def test_a_continuing_event_week_shifts_both_regimes_equally_by_the_continuation_odds():
    kappa = true_parameters()["event_continue"][0]
    ended = emissions(np.array([0, 1, 0, 0, 0, 0]))  # week 2: the event stopped
    lasted = emissions(np.array([0, 1, 1, 0, 0, 0]))  # week 2: it went on
    change = lasted[2] - ended[2]
    np.testing.assert_allclose(change, np.log(kappa / (1 - kappa)), rtol=1e-12)
    np.testing.assert_allclose(lasted[:2], ended[:2], rtol=1e-12)


def test_an_onset_week_moves_the_regimes_by_the_onset_rates():
    p = true_parameters()
    eps, q = p["event_false_rate"][0], p["event_hit_rate"][0]
    quiet = emissions(np.array([0, 0, 0, 0]))
    onset = emissions(np.array([0, 0, 1, 0]))
    calm_change = onset[2, 0] - quiet[2, 0]
    np.testing.assert_allclose(calm_change, np.log(eps / (1 - eps)), rtol=1e-12)
    # stress: the funding-kind and both-kind components carry q, the market kind eps;
    # the ratio of mixtures lies strictly between the two odds, far above calm's
    stress_change = onset[2, 1] - quiet[2, 1]
    assert np.log(eps / (1 - eps)) < stress_change < np.log(q / (1 - q))


def test_a_week_after_an_event_is_not_at_risk_of_a_new_onset():
    """Changing the funding-event onset rates leaves a week after a funding-event week
    unchanged, whether the event went on or not."""
    inputs = random_short_inputs(np.random.default_rng(6), 4)
    obs = dict(inputs.obs, event_funding=np.array([1.0, 1.0, 0.0, 0.0]), event_market=np.zeros(4))
    p = true_parameters()
    base = log_emissions(NP, p, obs, inputs.x)
    funding_doubled = np.array([2.0, 1.0])  # market rates unchanged
    higher = log_emissions(
        NP,
        dict(
            p,
            event_hit_rate=p["event_hit_rate"] * funding_doubled,
            event_false_rate=p["event_false_rate"] * funding_doubled,
        ),
        obs,
        inputs.x,
    )
    np.testing.assert_allclose(base[1:3], higher[1:3], rtol=1e-12)  # went on, then ended
    assert not np.allclose(base[0], higher[0])  # week 0: onset at risk
