"""The stress kinds' weights are sampled by stick-breaking and keep their Dirichlet prior.

:func:`model.equations.build.stress_kind_weights` builds w from two Beta fractions so that NUTS
moves in better-conditioned coordinates; the prior of w must still be the configured Dirichlet.
An asymmetric Dirichlet is used so that a swapped Beta argument or kind shows up.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pymc as pm
import pytest
from scipy import stats

from model.equations.build import build_model
from model.equations.config import ModelConfig
from tests.model_fixtures import random_short_inputs

ALPHA = (0.7, 3.0, 1.5)  # funding, market functioning, both


@pytest.fixture(scope="module")
def prior_weights() -> np.ndarray:
    config = ModelConfig()
    config = dataclasses.replace(
        config, priors={**config.priors, "stress_type_weights": ("Dirichlet", ALPHA)}
    )
    model = build_model(random_short_inputs(np.random.default_rng(0), 12), config)
    return pm.draw(model["stress_type_weights"], draws=40_000, random_seed=7)


def test_each_weight_has_its_kinds_dirichlet_mean(prior_weights):
    """E[w_k] = a_k / sum(a), in the order funding, market functioning, both: a stick broken
    in another order puts another kind's mean in a slot (within 4 standard errors)."""
    want = np.asarray(ALPHA) / sum(ALPHA)
    se = prior_weights.std(axis=0) / np.sqrt(len(prior_weights))
    assert np.all(np.abs(prior_weights.mean(axis=0) - want) < 4 * se)


def test_each_weight_has_its_dirichlet_marginal(prior_weights):
    """w_k ~ Beta(a_k, sum(a) - a_k) under Dirichlet(a)."""
    total = sum(ALPHA)
    for k, a_k in enumerate(ALPHA):
        result = stats.kstest(prior_weights[:, k], stats.beta(a_k, total - a_k).cdf)
        assert result.pvalue > 1e-3, (k, result)


def test_weights_have_the_dirichlet_covariance(prior_weights):
    want = stats.dirichlet(ALPHA)
    np.testing.assert_allclose(np.cov(prior_weights.T), want.cov(), atol=2e-3)
    # one pair's correlation, which a wrong stick order changes
    total = sum(ALPHA)
    want_corr = -np.sqrt(ALPHA[0] * ALPHA[2] / ((total - ALPHA[0]) * (total - ALPHA[2])))
    got_corr = np.corrcoef(prior_weights[:, 0], prior_weights[:, 2])[0, 1]
    assert got_corr == pytest.approx(want_corr, abs=0.02)


def test_a_prior_other_than_dirichlet_is_refused():
    config = ModelConfig()
    config = dataclasses.replace(
        config, priors={**config.priors, "stress_type_weights": ("Normal", (0, 1))}
    )
    with pytest.raises(ValueError, match="Dirichlet"):
        build_model(random_short_inputs(np.random.default_rng(0), 12), config)
