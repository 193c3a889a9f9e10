"""The marginal likelihood equals brute-force enumeration, and is stable at T ~ 1000."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from model.config import ModelConfig
from model.hmm import brute_force, forward_backward, loglik_tree
from model.inputs import lag_once
from model.likelihood import NP, log_emissions, log_transitions
from model.missing import GapLayout, gap_moments, observed_logpdf
from tests.model_fixtures import random_short_inputs, true_parameters


def model_terms(params, inputs, p0=0.1, x_var=None):
    log_init = np.log([1 - p0, p0])
    lagged_var = None if x_var is None else lag_once(x_var)
    return (log_init, log_transitions(NP, params, inputs.x, x_var),
            log_emissions(NP, params, inputs.obs, lag_once(inputs.x), lagged_var))


def with_missing_drivers(inputs, params):
    """Knock out driver cells (a gap opening the sample, one inside, one at the end) and
    return the inputs with NaN there, the moments that replace them, and their AR(1) term."""
    x = inputs.x.copy()
    x[:3, 0] = np.nan
    x[4:6, 2] = np.nan
    x[-2:, 4] = np.nan
    mean, var, ar_logp = np.nan_to_num(x), np.zeros_like(x), 0.0
    for k in range(x.shape[1]):
        layout = GapLayout.from_column(x[:, k])
        ar = [np.array(params[f"ar_{n}"][k]) for n in ("mu", "phi", "sigma")]
        ar_logp += float(observed_logpdf(NP, layout, *ar))
        if layout.n_missing:
            mean[layout.miss_index, k], var[layout.miss_index, k] = gap_moments(NP, layout, *ar)
    return dataclasses.replace(inputs, x=x), mean, var, ar_logp


def tree_loglik(log_init, log_trans, log_emis):
    a, b, c = pt.vector(), pt.tensor3(), pt.matrix()
    fn = pytensor.function([a, b, c], loglik_tree(a, b, c, log_emis.shape[0]),
                           on_unused_input="ignore")
    return float(fn(log_init, log_trans, log_emis))


@pytest.mark.parametrize("n_weeks", [1, 2, 3, 6, 9, 10])
def test_forward_equals_enumeration_with_tvtp_missing_values_and_qe(n_weeks):
    rng = np.random.default_rng(n_weeks)
    inputs = random_short_inputs(rng, n_weeks)
    params = true_parameters()
    log_init, log_trans, log_emis = model_terms(params, inputs)
    # the transitions really vary over time and the QE term is really in the emissions
    if n_weeks > 2:
        assert np.ptp(log_trans[:, 0, 1]) > 0.1
    exact, exact_smoothed = brute_force(log_init, log_trans, log_emis)
    loglik, _, smoothed = forward_backward(log_init, log_trans, log_emis)
    assert loglik == pytest.approx(exact, abs=1e-9)
    assert tree_loglik(log_init, log_trans, log_emis) == pytest.approx(exact, abs=1e-9)
    np.testing.assert_allclose(smoothed, exact_smoothed, atol=1e-10)


@pytest.mark.parametrize("gaps", [False, True])
def test_pymc_model_potential_equals_enumeration(gaps):
    """The compiled PyMC graph (PyTensor terms) gives the NumPy/enumeration value, with
    missing driver weeks integrated out when there are any."""
    from model.build import build_model

    rng = np.random.default_rng(7)
    inputs = random_short_inputs(rng, 8)
    params = true_parameters()
    x_mean, x_var = inputs.x, None
    if gaps:
        inputs, x_mean, x_var, ar_logp = with_missing_drivers(inputs, params)
    model = build_model(inputs, ModelConfig())
    point = model.initial_point()
    # Set every parameter to the test point (in transformed space).
    for rv in model.free_RVs:
        name = rv.name
        value_var = model.rvs_to_values[rv]
        transform = model.rvs_to_transforms.get(rv)
        if name.startswith("trans_intercept_"):
            raw = params["trans_intercept"][0 if name.endswith("calm") else 1]
        elif name.endswith("_sigma_calm"):
            raw = params[name.removesuffix("_calm")][0]
        elif name.endswith("_sigma_extra"):
            scales = params[name.removesuffix("_extra")]
            raw = scales[1] - scales[0]
        else:
            raw = params[name]
        point[value_var.name] = (transform.forward(raw, *rv.owner.inputs).eval()
                                 if transform is not None else np.asarray(raw, dtype=float))
    potentials = {p.name: p for p in model.potentials}
    # Potentials are stored in terms of random variables: swap in the value variables,
    # or the compiled function would draw the parameters at random.
    regime, driver_ar1 = model.replace_rvs_by_values([potentials["regime_loglik"],
                                                      potentials["driver_ar1"]])
    regime_loglik, ar_term = model.compile_fn([regime, driver_ar1], inputs=model.value_vars,
                                              on_unused_input="ignore")(point)
    terms = model_terms(params, dataclasses.replace(inputs, x=x_mean), x_var=x_var)
    exact, _ = brute_force(*terms)
    assert float(regime_loglik) == pytest.approx(exact, abs=1e-8)
    if gaps:
        assert float(ar_term) == pytest.approx(ar_logp, abs=1e-8)
        # the missing weeks really changed the transitions (mean and variance enter)
        assert not np.allclose(terms[1], model_terms(params, dataclasses.replace(
            inputs, x=x_mean))[1])


def test_gradient_is_finite_at_a_thousand_weeks_with_extreme_emissions():
    # Un-normalized forward messages overflow near T ~ 90 with several emissions; the
    # log-semiring tree must not, and its gradient must stay finite.
    rng = np.random.default_rng(3)
    n_weeks = 1100
    scale = pt.scalar("scale")
    log_emis = pt.as_tensor_variable(rng.normal(size=(n_weeks, 2)) * 40.0) * scale
    log_trans = pt.as_tensor_variable(np.log(rng.dirichlet([1, 1], size=(n_weeks - 1, 2))))
    ll = loglik_tree(pt.as_tensor_variable(np.log([0.5, 0.5])), log_trans, log_emis, n_weeks)
    fn = pytensor.function([scale], [ll, pytensor.grad(ll, scale)])
    value, grad = fn(1.0)
    assert np.isfinite(value) and np.isfinite(grad)
    # a sum of 1100 weeks of |N(0, 40^2)| log terms: far beyond what exp() can hold
    assert abs(value) > 1e3
