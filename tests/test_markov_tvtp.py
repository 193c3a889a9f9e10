"""The MS-TVTP baseline's faster transitions are statsmodels' own, bit for bit.

The baseline's published scores were computed with statsmodels' ``MarkovRegression``; the
faster subclass may only change the time a fit takes, never a number. So every comparison
here is exact equality, on real parameters, on the complex ones of the complex-step
gradient, and on whole maximum-likelihood fits.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from statsmodels.tsa.regime_switching.markov_regression import MarkovRegression

from diagnostics.evaluation.markov_tvtp import TwoRegimeTvtpRegression


def simulated_switching_series(seed: int, n_weeks: int = 300, k_regimes: int = 2):
    """A series with regime-dependent mean and variance, and four lagged drivers."""
    rng = np.random.default_rng(seed)
    drivers = rng.normal(size=(n_weeks, 4))
    regime = (rng.random(n_weeks) < 0.25 + 0.2 * (drivers[:, 0] > 1)).astype(int)
    if k_regimes == 3:
        regime = regime + (rng.random(n_weeks) < 0.1)
    endog = rng.normal(size=n_weeks) * (1 + regime) + 2.0 * regime
    exog_tvtp = sm.add_constant(np.vstack([drivers[:1], drivers[:-1]]))
    # column-major, as the baseline's driver matrix is: BLAS's order of sums depends on it
    exog_tvtp = np.asfortranarray(exog_tvtp)
    return endog, exog_tvtp


def both_models(seed: int, k_regimes: int = 2):
    endog, exog_tvtp = simulated_switching_series(seed, k_regimes=k_regimes)
    kwargs = dict(k_regimes=k_regimes, switching_variance=True, exog_tvtp=exog_tvtp)
    return MarkovRegression(endog, **kwargs), TwoRegimeTvtpRegression(endog, **kwargs)


@pytest.mark.parametrize("scale", [0.1, 3.0, 40.0, 1e4])
def test_transition_matrices_equal_statsmodels_on_real_and_complex_parameters(scale):
    stock, fast = both_models(seed=1)
    rng = np.random.default_rng(int(scale * 10))
    params = rng.normal(size=stock.k_params) * scale
    assert np.array_equal(
        fast.regime_transition_matrix(params), stock.regime_transition_matrix(params)
    )
    # the complex step statsmodels differentiates the likelihood with
    stepped = params + 1e-20j * rng.normal(size=stock.k_params)
    assert np.array_equal(
        fast.regime_transition_matrix(stepped), stock.regime_transition_matrix(stepped)
    )
    # a new row of drivers, as the forecast's last-week transition reads it
    row = np.array([[1.0, 2.5, -1.0, 0.3, 4.0]])
    assert np.array_equal(
        fast.regime_transition_matrix(params, exog_tvtp=row),
        stock.regime_transition_matrix(params, exog_tvtp=row),
    )


def fitted(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(search_reps=3, disp=False, rng=np.random.default_rng(0))


@pytest.mark.parametrize("seed", [0, 2])
def test_whole_fits_equal_statsmodels(seed):
    stock, fast = (fitted(model) for model in both_models(seed))
    assert fast.llf == stock.llf
    assert np.array_equal(fast.params, stock.params)
    assert np.array_equal(
        fast.filtered_marginal_probabilities, stock.filtered_marginal_probabilities
    )


def test_three_regimes_use_statsmodels_method():
    stock, fast = both_models(seed=3, k_regimes=3)
    params = np.random.default_rng(3).normal(size=stock.k_params)
    assert np.array_equal(
        fast.regime_transition_matrix(params), stock.regime_transition_matrix(params)
    )


@pytest.mark.slow
def test_the_baseline_on_real_data_equals_statsmodels(snapshot, monkeypatch):
    """The backtest's MS-TVTP forecast at a real vintage, with the faster class and with
    statsmodels' own put in its place: the same dictionary."""
    from data.panel import build_panel
    from diagnostics.evaluation import baselines
    from model.equations.config import ModelConfig
    from model.equations.inputs import model_inputs

    inputs = model_inputs(
        build_panel(snapshot, end="2019-06-26"), ModelConfig(move_observable="level")
    )
    fast = baselines.markov_forecast(inputs, 13)
    monkeypatch.setattr(baselines, "TwoRegimeTvtpRegression", MarkovRegression)
    assert baselines.markov_forecast(inputs, 13) == fast
    assert fast["status"] == "ok"
