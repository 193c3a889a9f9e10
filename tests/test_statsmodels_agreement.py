"""The HMM algebra agrees with statsmodels' MarkovRegression in the Gaussian special case.

Univariate y with a switching mean and variance, and time-varying transitions logistic in
one lagged driver: log-likelihood, filtered and smoothed regime probabilities must equal
statsmodels' Hamilton filter / Kim smoother at the same parameters.
"""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import special, stats

from model.equations.hmm import forward_backward
from model.equations.likelihood import NP, log_transitions


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gaussian_switching_model_matches_statsmodels(seed):
    rng = np.random.default_rng(seed)
    n_weeks = 150
    x = rng.normal(size=n_weeks)
    y = rng.normal(size=n_weeks) + 2.0 * (rng.random(n_weeks) > 0.7)
    # our convention: logit P(s_t = stress | s_{t-1} = j) = a_j + b_j x_{t-1}
    a = np.array([-2.0, 1.0])
    b = np.array([0.8, -0.5])
    mu, sigma2 = np.array([0.1, 2.0]), np.array([0.5, 1.5])

    # statsmodels: P(s_t = 0 | s_{t-1} = j) = logistic(exog_tvtp[t] . beta_j), so
    # beta_j = -(a_j, b_j) with exog_tvtp[t] = [1, x_{t-1}] (row 0 only feeds the start).
    lagged = np.concatenate([[x[0]], x[:-1]])
    exog_tvtp = np.column_stack([np.ones(n_weeks), lagged])
    model = sm.tsa.MarkovRegression(
        y, k_regimes=2, trend="c", switching_variance=True, exog_tvtp=exog_tvtp
    )
    assert model.param_names[:4] == [
        "p[0->0].tvtp0",
        "p[1->0].tvtp0",
        "p[0->0].tvtp1",
        "p[1->0].tvtp1",
    ]
    params = np.concatenate([-a, -b, mu, sigma2])
    model.initialize_known(np.array([0.6, 0.4]))
    result = model.smooth(params)

    log_trans = log_transitions(NP, {"trans_intercept": a, "trans_coef": b[:, None]}, x[:, None])
    log_emis = np.column_stack([stats.norm.logpdf(y, mu[k], np.sqrt(sigma2[k])) for k in (0, 1)])
    # statsmodels stores regression likelihoods in order-1 form, so its known initial
    # distribution passes through the first transition matrix twice before week 0.
    first = np.array(
        [
            [1 - special.expit(a[j] + b[j] * lagged[0]), special.expit(a[j] + b[j] * lagged[0])]
            for j in (0, 1)
        ]
    )
    p_week0 = np.array([0.6, 0.4]) @ first @ first
    loglik, filtered, smoothed = forward_backward(np.log(p_week0), log_trans, log_emis)

    assert loglik == pytest.approx(result.llf, abs=1e-8)
    np.testing.assert_allclose(
        filtered, np.asarray(result.filtered_marginal_probabilities), atol=1e-9
    )
    np.testing.assert_allclose(
        smoothed, np.asarray(result.smoothed_marginal_probabilities), atol=1e-9
    )
