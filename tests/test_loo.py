"""PSIS-LOO of fits: pointwise terms add up to the likelihood; unlike data are refused."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from diagnostics.loo import LooError, compare_fits, pointwise_loglik
from model.equations.config import ModelConfig
from model.equations.hmm import forward_filter
from tests.forward_oracles import brute_force


def test_weekly_terms_add_up_to_the_brute_force_likelihood():
    rng = np.random.default_rng(0)
    log_init = np.log([0.8, 0.2])
    log_trans = np.log(rng.dirichlet([3, 1], size=(5, 2)))
    log_emis = rng.normal(-2, 1, size=(6, 2))
    increments, _ = forward_filter(log_init, log_trans, log_emis)
    total, _ = brute_force(log_init, log_trans, log_emis)
    assert increments.sum() == pytest.approx(total, rel=1e-12)
    # and each prefix is the likelihood of the weeks so far
    partial, _ = brute_force(log_init, log_trans[:2], log_emis[:3])
    assert increments[:3].sum() == pytest.approx(partial, rel=1e-12)


def fake_fit(first: str, events: str, move: str = "level") -> SimpleNamespace:
    weeks = pd.date_range(first, periods=10, freq="7D")
    return SimpleNamespace(
        idata=SimpleNamespace(constant_data=xr.Dataset(coords={"week": weeks})),
        config=ModelConfig(events=events, move_observable=move),
    )


def test_fits_of_different_data_are_not_compared():
    with pytest.raises(LooError, match="different data"):
        compare_fits(
            {"a": fake_fit("2020-01-01", "catalogue"), "b": fake_fit("2020-01-01", "objective")}
        )
    with pytest.raises(LooError, match="different data"):
        compare_fits(
            {"a": fake_fit("2020-01-01", "catalogue"), "b": fake_fit("2020-01-08", "catalogue")}
        )
    with pytest.raises(LooError, match="MOVE observable"):
        compare_fits(
            {
                "a": fake_fit("2020-01-01", "catalogue"),
                "b": fake_fit("2020-01-01", "catalogue", move="jump"),
            }
        )


@pytest.mark.slow
def test_pointwise_terms_of_a_real_fit_sum_to_its_regime_likelihood(small_real_fit):
    from model.equations.posterior import regime_probabilities

    data = pointwise_loglik(small_real_fit)
    weekly = data.log_likelihood["weekly"]
    assert weekly.sizes["week"] == small_real_fit.manifest["data"]["n_weeks"]
    regimes = regime_probabilities(data.posterior, small_real_fit.inputs(), small_real_fit.config)
    np.testing.assert_allclose(
        weekly.sum("week").to_numpy(), regimes["regime_loglik"].to_numpy(), rtol=1e-10
    )
