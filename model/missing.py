"""Missing driver weeks, integrated out under each driver's AR(1) instead of sampled.

Each standardized driver follows ``x_t = mu + phi (x_{t-1} - mu) + sigma eta_t`` with
``x_0 ~ N(mu, LATENT_START_SD^2)``. For a scalar AR(1) everything needed is closed form:

- **observed cells**: the exact likelihood of the observed values with gaps between them is
  the product of k-step transition densities ``z_o | z_prev ~ N(phi^k z_prev, sigma^2 S_k)``
  with ``z = x - mu``, ``k = o - prev`` and ``S_k = (1 - phi^(2k)) / (1 - phi^2)`` (the Kalman
  filter of an AR(1) observed without noise); the first observed cell has the marginal of the
  start distribution pushed forward ``o`` weeks;
- **missing cells**: given the parameters, x_t in a gap is Gaussian (a Brownian-bridge-like
  interpolation between the last observed value before the gap and the first one after it,
  or the forward prediction where the gap has no right end). Its mean and variance per week
  are :func:`gap_moments`.

Why this and not a sampled latent path (model versions <= 2.2): the CFTC basis series
leaves ~590 weeks to fill, and sampling them made NUTS take ~255 leapfrog steps per draw on a
690-dimensional posterior (11 minutes per refit). Integrating them out leaves ~60 sampled
parameters. The price is one approximation, documented in ``model/README.md``: the regime
transitions in a gap see each week's *distribution* of the missing value (its mean and
variance, through :func:`model.likelihood.expected_logit`) rather than one coherent path.
The gap's values are still never invented: their mean is pulled to the driver's mean and
their variance grows away from the observed ends of the gap, so the transition probability
in a gap is flattened toward "driver unknown".

Every function takes an ``ops`` backend (:mod:`model.likelihood`) so the same equations
serve PyTensor (sampling, scalar parameters) and NumPy (stored draws, parameters with a
leading draw axis).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.config import LATENT_START_SD


@dataclass(frozen=True)
class GapLayout:
    """Index arithmetic of one driver's observed and missing weeks (NumPy, fixed per fit).

    Observed cells: ``obs_index``, the previous observed week ``obs_prev`` (-1 for the
    first) and the step ``obs_steps`` (from ``obs_prev``, or from week 0's start
    distribution). Missing cells: ``miss_index``, the observed anchors on each side
    (``left``/``right``, -1 if none) and the steps to them (dummy 1 where there is none).
    """

    n_weeks: int
    values: np.ndarray        # (T,) standardized, 0 where missing
    obs_index: np.ndarray
    obs_prev: np.ndarray
    obs_steps: np.ndarray
    miss_index: np.ndarray
    left: np.ndarray
    left_steps: np.ndarray
    right: np.ndarray
    right_steps: np.ndarray

    @classmethod
    def from_column(cls, column: np.ndarray) -> GapLayout:
        observed = ~np.isnan(column)
        weeks = np.arange(len(column))
        obs_index = weeks[observed]
        miss_index = weeks[~observed]
        obs_prev = np.concatenate([[-1], obs_index[:-1]]).astype(int)
        obs_steps = np.where(obs_prev >= 0, obs_index - obs_prev, obs_index)
        pos = np.searchsorted(obs_index, miss_index)        # observed cells before each gap cell
        left = np.where(pos > 0, obs_index[np.maximum(pos - 1, 0)], -1)
        right = np.where(pos < len(obs_index),
                         obs_index[np.minimum(pos, max(len(obs_index) - 1, 0))], -1)
        left_steps = np.where(left >= 0, miss_index - left, miss_index)
        right_steps = np.where(right >= 0, right - miss_index, 1)
        return cls(len(column), np.nan_to_num(column), obs_index, obs_prev, obs_steps,
                   miss_index, left, left_steps, right, right_steps)

    @property
    def n_missing(self) -> int:
        return len(self.miss_index)


def _power(ops, phi, steps):
    """phi ** steps for integer steps >= 0, as exp(steps log phi) (both backends)."""
    return ops.exp(steps * ops.log(phi))


def _sum_of_squares(ops, phi, steps):
    """S_k = 1 + phi^2 + ... + phi^(2(k-1)) = (1 - phi^(2k)) / (1 - phi^2), stably."""
    return -ops.expm1(2.0 * steps * ops.log(phi)) / (1.0 - phi * phi)


def _from_start(ops, phi, sigma, steps):
    """Variance of z_t = x_t - mu t weeks after the sample's start, with nothing observed."""
    return _power(ops, phi, 2.0 * steps) * LATENT_START_SD**2 + sigma * sigma * _sum_of_squares(
        ops, phi, steps)


def _params(mu, phi, sigma):
    """Give per-driver parameters a trailing cell axis: scalars (PyTensor) become (1,),
    per-draw vectors (NumPy) become (draws, 1), so both broadcast against the cells."""
    return mu[..., None], phi[..., None], sigma[..., None]


def _normal_logpdf(ops, z, mean, var):
    return -0.5 * (np.log(2 * np.pi) + ops.log(var) + (z - mean) ** 2 / var)


def _in_order(ops, parts: list, index_parts: list[np.ndarray]):
    """Concatenate per-case results (last axis) and put them back in cell order."""
    if len(parts) == 1:
        return parts[0]
    order = np.argsort(np.concatenate(index_parts), kind="stable")
    return ops.concat(parts, -1)[..., order]


def observed_logpdf(ops, layout: GapLayout, mu, phi, sigma):
    """Exact AR(1) log density of the observed cells, the gaps between them integrated out.

    Each case (first observed cell, cells with an observed predecessor) is written on its
    own: no 0/1 masks multiply symbolic terms, since PyTensor's rewrites of ``0 * x`` and
    ``0 / x`` rebuild the graph for every such node and took minutes on the full history.
    """
    if len(layout.obs_index) == 0:
        raise ValueError("a driver with no observed week cannot be integrated out")
    mu, phi, sigma = _params(mu, phi, sigma)
    first = layout.obs_index[0]
    z0 = layout.values[first] - mu
    total = _normal_logpdf(ops, z0, 0.0, _from_start(ops, phi, sigma, float(first))).sum(-1)
    if len(layout.obs_index) > 1:
        steps = layout.obs_steps[1:].astype(float)
        z = layout.values[layout.obs_index[1:]] - mu
        z_prev = layout.values[layout.obs_prev[1:]] - mu
        total = total + _normal_logpdf(ops, z, _power(ops, phi, steps) * z_prev,
                                       sigma * sigma * _sum_of_squares(ops, phi, steps)).sum(-1)
    return total


def gap_moments(ops, layout: GapLayout, mu, phi, sigma):
    """Mean and variance of each missing cell given the observed cells (same order as
    ``layout.miss_index``), shapes (..., n_missing).

    Three cases, each written on its own (see :func:`observed_logpdf` for why): an observed
    week on both sides (prediction from the left conditioned on the right), on the left only
    (prediction), on the right only (the start distribution conditioned on the right).
    """
    mu, phi, sigma = _params(mu, phi, sigma)
    has_left, has_right = layout.left >= 0, layout.right >= 0
    means, variances, where = [], [], []
    for cells in (has_left & has_right, has_left & ~has_right, ~has_left & has_right):
        if not cells.any():
            continue
        i = layout.left_steps[cells].astype(float)
        if has_left[cells][0]:
            z_left = layout.values[layout.left[cells]] - mu
            mean_left = _power(ops, phi, i) * z_left
            var_left = sigma * sigma * _sum_of_squares(ops, phi, i)
        else:
            var_left = _from_start(ops, phi, sigma, i)
        if has_right[cells][0]:
            # condition on the right anchor: z_right | z_t ~ N(phi^j z_t, sigma^2 S_j)
            j = layout.right_steps[cells].astype(float)
            z_right = layout.values[layout.right[cells]] - mu
            phi_j = _power(ops, phi, j)
            var_right = sigma * sigma * _sum_of_squares(ops, phi, j)
            precision = 1.0 / var_left + phi_j * phi_j / var_right
            weighted = phi_j * z_right / var_right
            if has_left[cells][0]:
                weighted = weighted + mean_left / var_left
            means.append(mu + weighted / precision)
            variances.append(1.0 / precision)
        else:
            means.append(mu + mean_left)
            variances.append(var_left)
        where.append(np.flatnonzero(cells))
    return _in_order(ops, means, where), _in_order(ops, variances, where)
