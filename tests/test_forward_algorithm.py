"""The marginal likelihood equals brute-force enumeration, and is stable at T ~ 1000."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from model.equations.config import ModelConfig
from model.equations.hmm import forward_backward, loglik_scaled, loglik_tree
from model.equations.inputs import lag_once
from model.equations.likelihood import NP, log_emissions, log_transitions
from model.equations.missing import GapLayout, gap_moments, observed_logpdf
from tests.forward_oracles import brute_force, loglik_scan
from tests.model_fixtures import random_short_inputs, true_parameters


def model_terms(params, inputs, p0=0.1, x_var=None):
    log_init = np.log([1 - p0, p0])
    lagged_var = None if x_var is None else lag_once(x_var)
    return (
        log_init,
        log_transitions(NP, params, inputs.x, x_var),
        log_emissions(NP, params, inputs.obs, lag_once(inputs.x), lagged_var),
    )


def with_missing_drivers(inputs, params):
    """Knock out driver cells (a gap opening the sample, one inside, one at the end) and
    return the inputs with NaN there, the moments that replace them, and their AR(1) term."""
    x = inputs.x.copy()
    x[:3, 0] = np.nan
    x[4:6, 2] = np.nan
    x[-2:, 4] = np.nan
    layout = GapLayout.from_matrix(x)
    ar = [np.asarray(params[f"ar_{n}"]) for n in ("mu", "phi", "sigma")]
    ar_logp = float(observed_logpdf(NP, layout, *ar))
    mean, var = layout.values.copy(), np.zeros_like(layout.values)
    mean[layout.miss_index], var[layout.miss_index] = gap_moments(NP, layout, *ar)
    mean, var = layout.as_matrix(mean), layout.as_matrix(var)
    return dataclasses.replace(inputs, x=x), mean, var, ar_logp


def tree_loglik(log_init, log_trans, log_emis):
    a, b, c = pt.vector(), pt.tensor3(), pt.matrix()
    fn = pytensor.function(
        [a, b, c], loglik_tree(a, b, c, log_emis.shape[0]), on_unused_input="ignore"
    )
    return float(fn(log_init, log_trans, log_emis))


@pytest.mark.parametrize("n_weeks", [1, 2, 3, 6, 9, 10])
@pytest.mark.slow
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
    assert float(loglik_scan(log_init, log_trans, log_emis)) == pytest.approx(exact, abs=1e-9)
    assert float(loglik_scaled(log_init, log_trans, log_emis)) == pytest.approx(exact, abs=1e-9)
    np.testing.assert_allclose(smoothed, exact_smoothed, atol=1e-10)


@pytest.mark.parametrize("gaps", [False, True])
@pytest.mark.slow
def test_pymc_model_potential_equals_enumeration(gaps):
    """The compiled PyMC graph (PyTensor terms) gives the NumPy/enumeration value, with
    missing driver weeks integrated out when there are any."""
    from model.equations.build import build_model

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
        elif name == "stress_market_share":  # the stick-breaking of w
            raw = params["stress_type_weights"][1]
        elif name == "stress_both_share_of_rest":
            w = params["stress_type_weights"]
            raw = w[2] / (w[0] + w[2])
        else:
            raw = params[name]
        point[value_var.name] = (
            transform.forward(raw, *rv.owner.inputs).eval()
            if transform is not None
            else np.asarray(raw, dtype=float)
        )
    potentials = {p.name: p for p in model.potentials}
    # Potentials are stored in terms of random variables: swap in the value variables,
    # or the compiled function would draw the parameters at random.
    regime, driver_ar1 = model.replace_rvs_by_values(
        [potentials["regime_loglik"], potentials["driver_ar1"]]
    )
    regime_loglik, ar_term = model.compile_fn(
        [regime, driver_ar1], inputs=model.value_vars, on_unused_input="ignore"
    )(point)
    terms = model_terms(params, dataclasses.replace(inputs, x=x_mean), x_var=x_var)
    exact, _ = brute_force(*terms)
    assert float(regime_loglik) == pytest.approx(exact, abs=1e-8)
    if gaps:
        assert float(ar_term) == pytest.approx(ar_logp, abs=1e-8)
        # the missing weeks really changed the transitions (mean and variance enter)
        assert not np.allclose(
            terms[1], model_terms(params, dataclasses.replace(inputs, x=x_mean))[1]
        )


def random_terms(n_weeks: int, emission_sd: float, seed: int, scale, xp):
    """Forward-algorithm inputs that depend on one scalar ``scale`` (the emissions' size and
    the transitions' sharpness), built with ``xp`` (``pytensor.tensor`` or ``jax.numpy``),
    so each backend differentiates through expressions, not leaves."""
    rng = np.random.default_rng(seed)
    log_emis = rng.normal(size=(n_weeks, 2)) * emission_sd * scale
    logits = rng.normal(size=(n_weeks - 1, 2, 2)) * scale
    if xp is pt:
        log_trans = logits - pt.logsumexp(logits, axis=-1, keepdims=True)
    else:
        import jax

        log_trans = logits - jax.nn.logsumexp(logits, axis=-1, keepdims=True)
    return xp.log(np.array([0.5, 0.5])), log_trans, log_emis


def c_backend_value_and_grad(n_weeks: int, emission_sd: float, seed: int):
    """The PyMC model's forward pass (the tree) compiled by PyTensor's C backend, with
    PyTensor's gradient, as a function of the scalar."""
    scale = pt.scalar("scale")
    ll = loglik_tree(*random_terms(n_weeks, emission_sd, seed, scale, pt), n_weeks)
    return pytensor.function([scale], [ll, pytensor.grad(ll, scale)])


def jax_value_and_grad(n_weeks: int, emission_sd: float, seed: int):
    """The sampler's forward pass (the scaled scan) with JAX's own gradient."""
    import jax
    import jax.numpy as jnp

    return jax.value_and_grad(
        lambda s: loglik_scaled(*random_terms(n_weeks, emission_sd, seed, s, jnp))
    )


@pytest.mark.parametrize("n_weeks", [2, 7, 64])
@pytest.mark.slow
def test_each_backend_runs_its_own_forward_and_they_agree(n_weeks):
    """PyTensor's C backend compiles the tree and differentiates it; JAX runs the scaled
    scan and differentiates it itself. Values and gradients agree, and the C gradient
    matches a finite difference."""
    c_fn = c_backend_value_and_grad(n_weeks, 3.0, seed=n_weeks)
    jax_fn = jax_value_and_grad(n_weeks, 3.0, seed=n_weeks)
    for s in (0.3, 1.0, 1.7):
        c_value, c_grad = c_fn(s)
        j_value, j_grad = jax_fn(s)
        assert float(j_value) == pytest.approx(float(c_value), rel=1e-12, abs=1e-10)
        assert float(j_grad) == pytest.approx(float(c_grad), rel=1e-9, abs=1e-9)
        step = 1e-6
        numeric = (c_fn(s + step)[0] - c_fn(s - step)[0]) / (2 * step)
        assert float(c_grad) == pytest.approx(float(numeric), rel=1e-5, abs=1e-6)


@pytest.mark.slow
def test_gradient_is_finite_at_a_thousand_weeks_with_extreme_emissions():
    # Un-normalized forward messages overflow near T ~ 90 with several emissions; the
    # log-space tree (C backend) and the scaled scan (JAX) must not, and their gradients
    # stay finite.
    c_value, c_grad = c_backend_value_and_grad(1100, 40.0, seed=3)(1.0)
    j_value, j_grad = jax_value_and_grad(1100, 40.0, seed=3)(1.0)
    for value, grad in ((c_value, c_grad), (j_value, j_grad)):
        assert np.isfinite(value) and np.isfinite(grad)
        # a sum of 1100 weeks of |N(0, 40^2)| log terms: far beyond what exp() can hold
        assert abs(value) > 1e3
    assert float(j_value) == pytest.approx(float(c_value), rel=1e-10)


@pytest.mark.slow
def test_importing_the_model_registers_no_rewrite_and_sets_no_jax_option():
    """The forward algorithms are plain functions: importing the model's modules (after the
    libraries they use) leaves PyTensor's rewrite database and JAX's configuration as they
    were."""
    import subprocess
    import sys

    probe = (
        "import jax, numpyro, pymc, pymc.sampling.jax, pytensor.compile as c\n"
        "before = (sorted(c.optdb.__db__), jax.config.jax_enable_x64)\n"
        "import model.equations.hmm, model.equations.build, model.inference.jax_density\n"
        "import model.inference.initial, model.inference.sampling\n"
        "after = (sorted(c.optdb.__db__), jax.config.jax_enable_x64)\n"
        "print(before == after)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.stdout.strip() == "True", out.stderr[-2000:]


@pytest.mark.parametrize("stay", [0.95, 1 - 1e-12])
def test_the_scaled_recursion_equals_the_log_space_one_in_value_and_gradient(stay):
    """The sampler's forward pass (probabilities, normalized every week) against the
    log-space oracle, at T = 1100 with emissions of sd 40 nats (far beyond exp's range) and
    transitions that vary by week, including a stay probability within 1e-12 of 1."""
    import jax

    rng = np.random.default_rng(11)
    n = 1100
    log_emis = rng.normal(0.0, 40.0, (n, 2))
    p_stay = np.clip(stay + rng.uniform(-0.04, 0.0, n - 1) * (stay < 0.99), 1e-6, None)
    enter = rng.uniform(0.001, 0.05, n - 1)
    trans = np.stack([np.stack([1 - enter, enter], -1), np.stack([1 - p_stay, p_stay], -1)], axis=1)
    log_trans = np.log(trans)
    log_init = np.log([0.9, 0.1])
    value, grad = jax.value_and_grad(loglik_scaled, argnums=(1, 2))(log_init, log_trans, log_emis)
    want, want_grad = jax.value_and_grad(loglik_scan, argnums=(1, 2))(log_init, log_trans, log_emis)
    assert abs(float(value)) > 1e4
    assert float(value) == pytest.approx(float(want), rel=1e-12)
    for got, expected in zip(grad, want_grad, strict=True):
        assert np.isfinite(np.asarray(got)).all()
        np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-7, atol=1e-9)


def test_regime_probabilities_do_not_depend_on_the_draw_blocks(monkeypatch):
    """Draws are processed in blocks for speed; the blocks must not change any number."""
    import xarray as xr

    import model.equations.posterior as posterior
    from model.equations.config import ModelConfig
    from tests.model_fixtures import random_short_inputs, true_parameters

    rng = np.random.default_rng(8)
    inputs = random_short_inputs(rng, 40)
    draws = 7
    p = true_parameters()
    group = xr.Dataset(
        {
            k: (
                ("chain", "draw", *(f"{k}_{i}" for i in range(np.ndim(v)))),
                np.broadcast_to(v, (1, draws, *np.shape(v)))
                + 0.01 * rng.standard_normal((1, draws, *np.shape(v))) * (k.startswith("trans")),
            )
            for k, v in p.items()
        }
    )
    whole = posterior.regime_probabilities(group, inputs, ModelConfig())
    monkeypatch.setattr(posterior, "DRAW_BLOCK", 3)  # blocks of 3, 3 and 1 draws
    blocked = posterior.regime_probabilities(group, inputs, ModelConfig())
    for name in ("p_stress_filtered", "p_stress_smoothed", "regime_loglik"):
        np.testing.assert_array_equal(whole[name].to_numpy(), blocked[name].to_numpy())
    assert whole["p_stress_filtered"].std() > 0
