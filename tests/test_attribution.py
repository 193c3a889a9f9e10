"""The event-probability attribution: exact Shapley values, checked by brute force."""

from __future__ import annotations

from itertools import permutations

import numpy as np

from outlook.attribution import coalition_values, shapley_shares
from outlook.projection import StartState, driver_shocks
from tests.model_fixtures import true_parameters


def start(n_draws: int = 40) -> StartState:
    rng = np.random.default_rng(11)
    params = {
        k: np.broadcast_to(v, (n_draws, *np.shape(v))).copy() for k, v in true_parameters().items()
    }
    params["trans_coef"] = params["trans_coef"] + rng.normal(0, 0.3, params["trans_coef"].shape)
    params["qe_coef"] = params["qe_coef"] + rng.normal(0, 0.3, params["qe_coef"].shape)
    x_last = rng.normal(1.0, 1.0, (n_draws, 5))
    return StartState(params, x_last, rng.uniform(0.05, 0.6, n_draws), True)


def test_shares_are_the_average_marginal_change_over_every_order():
    state = start()
    values = coalition_values(state, driver_shocks(np.random.default_rng(2), 40, 13, 5))
    shares = shapley_shares(values, 5)
    brute = np.zeros_like(shares)
    orders = list(permutations(range(5)))
    for order in orders:  # switch the drivers to their current values one by one
        switched: frozenset = frozenset()
        for k in order:
            brute[:, k] += values[switched | {k}] - values[switched]
            switched = switched | {k}
    np.testing.assert_allclose(shares, brute / len(orders), rtol=1e-10, atol=1e-14)
    # efficiency: the shares add up to the forecast minus the reference, draw by draw
    total = values[frozenset(range(5))] - values[frozenset()]
    np.testing.assert_allclose(shares.sum(-1), total, rtol=1e-10, atol=1e-14)
    assert np.abs(total).max() > 1e-3  # the drivers do move the probability here


def test_a_driver_without_effect_gets_nothing():
    state = start()
    state.params["trans_coef"][:, :, 2] = 0.0
    state.params["qe_coef"][:, 2] = 0.0
    values = coalition_values(state, driver_shocks(np.random.default_rng(2), 40, 13, 5))
    shares = shapley_shares(values, 5)
    np.testing.assert_allclose(shares[:, 2], 0.0, atol=1e-15)
    assert np.abs(shares[:, 0]).max() > 1e-4
