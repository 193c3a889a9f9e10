"""Missing driver weeks integrated out: closed forms against the explicit Gaussian joint.

An AR(1) started at N(mu, s0^2) is a Gaussian vector with a known covariance. The observed
cells' log density must equal that vector's marginal density, and each missing cell's mean
and variance must equal Gaussian conditioning on the observed cells (Schur complement),
for gaps that open the sample, sit inside it and close it.
"""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from scipy import integrate, stats
from scipy.special import expit as sigmoid

from model.equations.config import LATENT_START_SD
from model.equations.likelihood import NP, PT, expected_logit
from model.equations.missing import GapLayout, gap_moments, observed_logpdf


def ar1_joint(n: int, mu: float, phi: float, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of (x_0..x_{n-1}) built step by step (no closed form used)."""
    cov = np.zeros((n, n))
    cov[0, 0] = LATENT_START_SD**2
    for t in range(1, n):
        cov[t, :t] = phi * cov[t - 1, :t]
        cov[:t, t] = cov[t, :t]
        cov[t, t] = phi**2 * cov[t - 1, t - 1] + sigma**2
    return np.full(n, mu), cov


PATTERNS = {
    "gap opens the sample": [0, 1, 2, 3, 7, 9],
    "gaps inside": [2, 3, 5, 8, 9, 10, 11],
    "gap closes the sample": [4, 10, 11, 12, 13, 14],
    "every kind": [0, 1, 4, 5, 6, 13, 14],
}


@pytest.mark.parametrize("phi", [0.5, 0.97, 0.9995])
@pytest.mark.parametrize("pattern", list(PATTERNS))
def test_observed_density_and_gap_moments_equal_the_gaussian_joint(pattern, phi):
    n, mu, sigma = 15, 0.3, 0.4
    rng = np.random.default_rng(len(pattern))
    mean, cov = ar1_joint(n, mu, phi, sigma)
    x = rng.multivariate_normal(mean, cov)
    missing = np.array(PATTERNS[pattern])
    observed = np.setdiff1d(np.arange(n), missing)
    column = x.copy()
    column[missing] = np.nan
    layout = GapLayout.from_column(column)

    expected = stats.multivariate_normal(mean[observed], cov[np.ix_(observed, observed)]).logpdf(
        x[observed]
    )
    got = observed_logpdf(NP, layout, np.array([mu]), np.array([phi]), np.array([sigma]))
    assert float(got) == pytest.approx(expected, abs=1e-8)

    c_mo = cov[np.ix_(missing, observed)]
    gain = c_mo @ np.linalg.inv(cov[np.ix_(observed, observed)])
    cond_mean = mean[missing] + gain @ (x[observed] - mean[observed])
    cond_var = np.diag(cov[np.ix_(missing, missing)] - gain @ c_mo.T)
    fill_mean, fill_var = gap_moments(
        NP, layout, np.array([mu]), np.array([phi]), np.array([sigma])
    )
    np.testing.assert_allclose(fill_mean, cond_mean, atol=1e-8)
    np.testing.assert_allclose(fill_var, cond_var, rtol=1e-6, atol=1e-10)


def test_all_drivers_in_one_layout_equal_one_driver_at_a_time():
    """The model lays every driver out together (one array operation per case over all
    cells); each driver must get exactly its own density and gap moments, with its own
    parameters, whatever the gaps of its neighbours (a gap at a column's end must not take
    the next column's first week as its right anchor)."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(30, 4))
    x[:4, 0] = np.nan  # opens the sample
    x[-3:, 1] = np.nan  # closes it, next to column 2's observed first week
    x[10:15, 2] = np.nan  # inside
    x[[0, 12, 29], 3] = np.nan  # single weeks everywhere
    mu, phi, sigma = (
        np.array([0.1, -0.2, 0.3, 0.0]),
        np.array([0.5, 0.9, 0.99, 0.7]),
        np.array([0.3, 0.5, 0.2, 1.0]),
    )
    layout = GapLayout.from_matrix(x)
    fill_mean, fill_var = gap_moments(NP, layout, mu, phi, sigma)
    mean, var = layout.values.copy(), np.zeros(x.size)
    mean[layout.miss_index], var[layout.miss_index] = fill_mean, fill_var
    mean, var = layout.as_matrix(mean), layout.as_matrix(var)

    total = 0.0
    for k in range(x.shape[1]):
        one = GapLayout.from_column(x[:, k])
        args = (mu[k : k + 1], phi[k : k + 1], sigma[k : k + 1])
        total += float(observed_logpdf(NP, one, *args))
        want_mean, want_var = gap_moments(NP, one, *args)
        missing = np.isnan(x[:, k])
        np.testing.assert_allclose(mean[missing, k], want_mean, rtol=1e-12)
        np.testing.assert_allclose(var[missing, k], want_var, rtol=1e-12)
        np.testing.assert_array_equal(mean[~missing, k], x[~missing, k])
        assert (var[~missing, k] == 0).all()
    assert float(observed_logpdf(NP, layout, mu, phi, sigma)) == pytest.approx(total, rel=1e-12)


def test_one_drivers_degenerate_parameters_do_not_reach_another_drivers_cells():
    """Cells pick their driver's parameters by a product with a one-hot matrix; a
    parameter at the edge of its range (phi = 1: an infinite sigma^2 / (1 - phi^2)) must
    stay in its own driver's cells instead of turning the others' into NaN (inf * 0)."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(20, 2))
    x[5:9, 0] = np.nan
    x[12:15, 1] = np.nan
    layout = GapLayout.from_matrix(x)
    mu, sigma = np.array([0.0, 0.2]), np.array([0.3, 0.4])
    with np.errstate(divide="ignore", invalid="ignore"):
        mean, var = gap_moments(NP, layout, mu, np.array([1.0, 0.8]), sigma)
    want_mean, want_var = gap_moments(
        NP, GapLayout.from_column(x[:, 1]), mu[1:], np.array([0.8]), sigma[1:]
    )
    second = layout.miss_driver == 1
    np.testing.assert_allclose(mean[second], want_mean, rtol=1e-12)
    np.testing.assert_allclose(var[second], want_var, rtol=1e-12)


def _gappy_matrix() -> np.ndarray:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(25, 3))
    x[:4, 0] = np.nan
    x[10:13, 0] = np.nan
    x[-2:, 1] = np.nan
    x[[7, 20], 2] = np.nan
    return x


def test_jax_driver_matrices_and_their_gradient_equal_a_plain_indexed_read():
    """JAX places the gap moments with a read whose gradient is a read by the inverse
    index (:func:`model.inference.jax_density.take_once_each`); value and gradient must equal the
    NumPy fill and JAX's own gradient of a plain indexed read."""
    import dataclasses

    import jax
    import jax.numpy as jnp

    from model.equations.missing import driver_matrices
    from model.inference.jax_density import JX

    x = _gappy_matrix()
    layout = GapLayout.from_matrix(x)
    mu, phi, sigma = np.array([0.1, 0.0, -0.2]), np.array([0.6, 0.9, 0.3]), np.ones(3)
    fill_mean, fill_var = gap_moments(NP, layout, mu, phi, sigma)
    want_mean, want_var = layout.values.copy(), np.zeros(x.size)
    want_mean[layout.miss_index], want_var[layout.miss_index] = fill_mean, fill_var
    args = [jnp.asarray(a) for a in (mu, phi, sigma)]
    mean, var = driver_matrices(JX, layout, *args)
    np.testing.assert_allclose(mean, layout.as_matrix(want_mean), rtol=1e-12)
    np.testing.assert_allclose(var, layout.as_matrix(want_var), rtol=1e-12)

    weights = jnp.asarray(np.random.default_rng(0).normal(size=(2, *x.shape)))
    plain = dataclasses.replace(JX, take=lambda a, index, inverse: a[index])

    def summary(ops):
        def f(mu, phi, sigma):
            m, v = driver_matrices(ops, layout, mu, phi, sigma)
            return (weights[0] * m).sum() + (weights[1] * jnp.log1p(v)).sum()

        return jax.grad(f, argnums=(0, 1, 2))(*args)

    for ours, plain_read in zip(summary(JX), summary(plain), strict=True):
        np.testing.assert_allclose(ours, plain_read, rtol=1e-12, atol=1e-14)
    assert all(bool(jnp.any(g != 0)) for g in summary(JX))


@pytest.mark.slow
def test_padding_adds_nothing_to_the_density_or_the_driver_matrices():
    """A compiled program's data are padded to fixed shapes (:meth:`GapLayout.padded`):
    padding weeks, listed cells and slots must leave the AR(1) density, the gap moments of
    every real week and the gradient exactly as they were."""
    import jax
    import jax.numpy as jnp

    from model.equations.missing import driver_matrices
    from model.inference.jax_density import JX

    x = _gappy_matrix()
    layout = GapLayout.from_matrix(x)
    padded = layout.padded(40, 16, 64)
    assert padded.n_weeks == 40 and padded.n_missing == 64 and len(padded.obs_weight) == 16
    args = [jnp.asarray(a) for a in (np.array([0.1, 0.0, -0.2]), np.array([0.6, 0.9, 0.3]))]
    args.append(jnp.asarray([1.0, 0.5, 2.0]))

    def density(layout, *args):
        mean, var = driver_matrices(JX, layout, *args)
        weeks = x.shape[0]
        return observed_logpdf(JX, layout, *args) + (mean[:weeks] ** 2 + var[:weeks]).sum()

    for unpadded, with_padding in zip(
        jax.value_and_grad(lambda *p: density(layout, *p), argnums=(0, 1, 2))(*args),
        jax.value_and_grad(lambda *p: density(padded, *p), argnums=(0, 1, 2))(*args),
        strict=True,
    ):
        np.testing.assert_allclose(np.asarray(unpadded), np.asarray(with_padding), rtol=1e-12)
    mean, var = driver_matrices(JX, padded, *args)
    assert (np.asarray(mean[x.shape[0] :]) == 0).all() and (
        np.asarray(var[x.shape[0] :]) == 0
    ).all()
    with pytest.raises(ValueError, match="cannot pad"):
        layout.padded(20, 16, 64)


def test_a_driver_never_observed_is_refused():
    x = np.ones((10, 3))
    x[:, 1] = np.nan
    with pytest.raises(ValueError, match=r"column\(s\) \[1\] have no observed week"):
        GapLayout.from_matrix(x)


def test_gap_variance_peaks_inside_a_gap_and_vanishes_at_its_ends():
    column = np.r_[np.zeros(5), np.full(40, np.nan), np.zeros(5)]
    layout = GapLayout.from_column(column)
    _, var = gap_moments(NP, layout, np.array([0.0]), np.array([0.99]), np.array([0.2]))
    assert var.argmax() in (19, 20)  # the middle of the 40-week gap
    assert var[0] < 0.05 < var.max() and var[-1] < 0.05


def test_pytensor_and_numpy_backends_agree():
    rng = np.random.default_rng(1)
    column = rng.normal(size=60)
    column[[0, 1, 2, 20, 21, 22, 23, 40, 58, 59]] = np.nan
    layout = GapLayout.from_column(column)
    mu, phi, sigma = pt.vector(), pt.vector(), pt.vector()
    fill_mean, fill_var = gap_moments(PT, layout, mu, phi, sigma)
    fn = pytensor.function(
        [mu, phi, sigma], [observed_logpdf(PT, layout, mu, phi, sigma), fill_mean, fill_var]
    )
    args = (0.1, 0.93, 0.5)
    got = fn(*[np.array([a]) for a in args])
    draws = [np.array([[a], [a]]) for a in args]  # NumPy: a leading draw axis of 2
    want = [observed_logpdf(NP, layout, *draws), *gap_moments(NP, layout, *draws)]
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w[0], rtol=1e-10)
        np.testing.assert_allclose(w[0], w[1])


@pytest.mark.parametrize("mean_logit", [-6.0, -2.0, 0.0, 1.5, 4.0])
@pytest.mark.parametrize("x_var", [0.0, 0.3, 1.0, 3.0])
def test_expected_logit_is_close_to_the_logistic_normal_integral(mean_logit, x_var):
    coef = np.array([0.8])
    z_sd = np.sqrt(x_var) * coef[0]
    exact = (
        sigmoid(mean_logit)
        if x_var == 0
        else integrate.quad(
            lambda z: sigmoid(z) * stats.norm.pdf(z, mean_logit, z_sd),
            mean_logit - 12 * z_sd,
            mean_logit + 12 * z_sd,
        )[0]
    )
    approx = sigmoid(expected_logit(NP, np.array([mean_logit]), np.array([[x_var]]), coef))[0]
    assert float(approx) == pytest.approx(exact, abs=0.02)
    if x_var == 0:
        assert float(approx) == pytest.approx(exact, abs=1e-15)
