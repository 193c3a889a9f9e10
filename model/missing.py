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
parameters. The price is one approximation, documented in ``docs/model.md``: the regime
transitions in a gap see each week's *distribution* of the missing value (its mean and
variance, through :func:`model.likelihood.expected_logit`) rather than one coherent path.
The gap's values are still never invented: their mean is pulled to the driver's mean and
their variance grows away from the observed ends of the gap, so the transition probability
in a gap is flattened toward "driver unknown".

Every function takes an ``ops`` backend (:mod:`model.likelihood`) so the same equations
serve PyTensor (sampling, parameters of shape (K,)) and NumPy (stored draws, parameters of
shape (draws, K)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.config import LATENT_START_SD


@dataclass(frozen=True)
class GapLayout:
    """Index arithmetic of the drivers' observed and missing weeks (NumPy, fixed per fit).

    All drivers are laid out together so that each case below is one vectorized expression
    over the cells of every driver (one set of array operations instead of one per driver:
    on JAX each operation is a kernel launch, and their number, not the arithmetic, set the
    gradient's cost). Cells are numbered driver-major, ``cell = k * T + t`` for week t of
    driver k; ``values`` holds the (T, K) matrix in that order. Observed cells: ``obs_index``,
    the previous observed cell of the same driver ``obs_prev`` (-1 for a driver's first) and
    the step ``obs_steps`` in weeks (from ``obs_prev``, or from week 0's start distribution).
    Missing cells: ``miss_index``, the observed anchors on each side (``left``/``right``,
    -1 if none) and the steps to them (dummy 1 where there is none). ``miss_driver`` gives
    each missing cell's driver; ``obs_onehot``/``miss_onehot`` (K, n) pick each cell's AR(1)
    parameters by a matrix product, and ``runs`` lists the runs of observed and missing
    cells, which put the gap moments back among the data (:func:`_place`).

    Observed cells whose previous week is observed too (the bulk: ~5,000 of the full
    history's ~5,400) enter the density only through per-driver sums, ``pair_sums`` (K, 6):
    the count and the sums of x_t, x_{t-1}, x_t^2, x_{t-1}^2 and x_t x_{t-1} over those pairs
    (:func:`observed_logpdf`), so the sampled density does no per-week work for them.
    ``obs_index`` and its companions list only the other observed cells (each driver's
    first, and the first after a gap).
    """

    n_weeks: int
    n_drivers: int
    values: np.ndarray  # (K * T,) standardized, 0 where missing
    obs_index: np.ndarray
    obs_prev: np.ndarray
    obs_steps: np.ndarray
    miss_index: np.ndarray
    left: np.ndarray
    left_steps: np.ndarray
    right: np.ndarray
    right_steps: np.ndarray
    miss_driver: np.ndarray
    pair_sums: np.ndarray  # (K, 6): n and five sums over consecutive observed weeks
    obs_onehot: np.ndarray  # (K, n_obs): 1 where an ``obs_index`` cell is of driver k
    miss_onehot: np.ndarray  # (K, n_missing): the same for ``miss_index``
    runs: tuple[tuple[bool, int, int], ...]  # (missing?, start, stop) of the cell vector

    @classmethod
    def from_matrix(cls, x: np.ndarray) -> GapLayout:
        """Layout of a (T, K) driver matrix with NaN where a week is missing."""
        n_weeks, n_drivers = x.shape
        empty = [c for c in range(n_drivers) if np.isnan(x[:, c]).all()]
        if empty:
            raise ValueError(
                f"driver column(s) {empty} have no observed week: an AR(1) "
                "cannot be integrated out without one"
            )
        flat = x.T.ravel()
        observed = ~np.isnan(flat)
        cells = np.arange(flat.size)
        driver, week = cells // n_weeks, cells % n_weeks
        obs_index, miss_index = cells[observed], cells[~observed]
        # previous observed cell of the same driver (-1 at each driver's first)
        prev = np.concatenate([[-1], obs_index[:-1]])
        first = np.concatenate([[True], driver[obs_index[1:]] != driver[obs_index[:-1]]])
        obs_prev = np.where(first, -1, prev).astype(int)
        obs_steps = np.where(first, week[obs_index], obs_index - prev)
        # observed anchors around each missing cell, within its own driver
        pos = np.searchsorted(obs_index, miss_index)
        before = obs_index[np.maximum(pos - 1, 0)]
        after = obs_index[np.minimum(pos, len(obs_index) - 1)]
        miss_driver = driver[miss_index]
        left = np.where((pos > 0) & (driver[before] == miss_driver), before, -1)
        right = np.where((pos < len(obs_index)) & (driver[after] == miss_driver), after, -1)
        left_steps = np.where(left >= 0, miss_index - left, week[miss_index])
        right_steps = np.where(right >= 0, right - miss_index, 1)
        # consecutive observed weeks: summarized per driver, not kept cell by cell
        paired = (obs_prev >= 0) & (obs_steps == 1)
        now, before_now = flat[obs_index[paired]], flat[obs_prev[paired]]
        pair_sums = np.zeros((n_drivers, 6))
        for column, values in enumerate(
            (
                np.ones_like(now),
                now,
                before_now,
                now * now,
                before_now * before_now,
                now * before_now,
            )
        ):
            np.add.at(pair_sums[:, column], driver[obs_index[paired]], values)
        keep = ~paired
        return cls(
            n_weeks,
            n_drivers,
            np.nan_to_num(flat),
            obs_index[keep],
            obs_prev[keep],
            obs_steps[keep],
            miss_index,
            left,
            left_steps,
            right,
            right_steps,
            miss_driver,
            pair_sums,
            _onehot(driver[obs_index[keep]], n_drivers),
            _onehot(miss_driver, n_drivers),
            _runs(~observed),
        )

    @classmethod
    def from_column(cls, column: np.ndarray) -> GapLayout:
        """Layout of one driver (K = 1): its parameters are then arrays of shape (..., 1)."""
        return cls.from_matrix(np.asarray(column)[:, None])

    @property
    def n_missing(self) -> int:
        return len(self.miss_index)

    def as_matrix(self, flat: np.ndarray) -> np.ndarray:
        """(..., K * T) in cell order -> (..., T, K)."""
        shaped = flat.reshape(*flat.shape[:-1], self.n_drivers, self.n_weeks)
        return np.ascontiguousarray(np.swapaxes(shaped, -1, -2))


def _onehot(drivers: np.ndarray, n_drivers: int) -> np.ndarray:
    """(K, n) with a 1 in the row of each cell's driver."""
    return (np.arange(n_drivers)[:, None] == drivers[None, :]).astype(float)


def _runs(missing: np.ndarray) -> tuple[tuple[bool, int, int], ...]:
    """Maximal runs of observed / missing cells, each as (missing?, start, stop), with
    start/stop counted in the cell vector for an observed run and in the list of missing
    cells (``miss_index`` order) for a missing one."""
    edges = np.flatnonzero(np.diff(missing.astype(int))) + 1
    starts = np.concatenate([[0], edges])
    stops = np.concatenate([edges, [missing.size]])
    before = np.concatenate([[0], np.cumsum(missing)])  # missing cells before each cell
    return tuple(
        (True, int(before[a]), int(before[b])) if missing[a] else (False, int(a), int(b))
        for a, b in zip(starts, stops, strict=True)
    )


def _per_cell(onehot: np.ndarray, *per_driver):
    """Each cell's value of per-driver arrays (..., K) -> (..., n), by a product with the
    cells' one-hot driver matrix rather than by indexing: on JAX the gradient of an
    indexed read is a scatter, several times slower than the product's transpose. The
    arrays must be finite (inf * 0 is NaN)."""
    return tuple(a @ onehot for a in per_driver)


def _power(ops, phi, steps):
    """phi ** steps for integer steps >= 0, as exp(steps log phi) (both backends)."""
    return ops.exp(steps * ops.log(phi))


def _sum_of_squares(ops, phi, steps):
    """S_k = 1 + phi^2 + ... + phi^(2(k-1)) = (1 - phi^(2k)) / (1 - phi^2), stably."""
    return -ops.expm1(2.0 * steps * ops.log(phi)) / (1.0 - phi * phi)


def _from_start(ops, phi, sigma, steps):
    """Variance of z_t = x_t - mu t weeks after the sample's start, with nothing observed."""
    return _power(ops, phi, 2.0 * steps) * LATENT_START_SD**2 + sigma * sigma * _sum_of_squares(
        ops, phi, steps
    )


def _normal_logpdf(ops, z, mean, var):
    return -0.5 * (np.log(2 * np.pi) + ops.log(var) + (z - mean) ** 2 / var)


def observed_logpdf(ops, layout: GapLayout, mu, phi, sigma):
    """Exact AR(1) log density of all drivers' observed cells, gaps integrated out.

    ``mu``, ``phi``, ``sigma`` are per driver, shape (..., K); the result has shape (...).
    Three cases, each written on its own (no 0/1 masks multiply symbolic terms: PyTensor's
    rewrites of ``0 * x`` and ``0 / x`` rebuild the graph for every such node and took
    minutes on the full history):

    - a week whose previous week is observed: ``x_t - mu ~ N(phi (x_{t-1} - mu), sigma^2)``.
      With ``c = mu (1 - phi)`` the squared residuals of a driver's n such weeks sum to
      ``Syy + phi^2 Sxx + n c^2 - 2 phi Sxy - 2 c Sy + 2 phi c Sx`` (the layout's
      ``pair_sums``), so this case costs O(K), not O(T K);
    - the first observed week after a gap of k - 1 weeks: the k-step transition density;
    - a driver's first observed week: the start distribution pushed forward.
    """
    n, s_now, s_before, s_now2, s_before2, s_cross = (layout.pair_sums[:, i] for i in range(6))
    c = mu * (1.0 - phi)
    squares = (
        s_now2
        + phi * phi * s_before2
        + n * c * c
        - 2.0 * phi * s_cross
        - 2.0 * c * s_now
        + 2.0 * phi * c * s_before
    )
    total = (
        -0.5 * (n * (np.log(2 * np.pi) + 2.0 * ops.log(sigma)) + squares / (sigma * sigma))
    ).sum(-1)
    first = layout.obs_prev < 0
    m, ph, sg = _per_cell(layout.obs_onehot[:, first], mu, phi, sigma)
    z0 = layout.values[layout.obs_index[first]] - m
    steps = layout.obs_steps[first].astype(float)
    total = total + _normal_logpdf(ops, z0, 0.0, _from_start(ops, ph, sg, steps)).sum(-1)
    if (~first).any():
        m, ph, sg = _per_cell(layout.obs_onehot[:, ~first], mu, phi, sigma)
        steps = layout.obs_steps[~first].astype(float)
        z = layout.values[layout.obs_index[~first]] - m
        z_prev = layout.values[layout.obs_prev[~first]] - m
        total = total + _normal_logpdf(
            ops, z, _power(ops, ph, steps) * z_prev, sg * sg * _sum_of_squares(ops, ph, steps)
        ).sum(-1)
    return total


def gap_moments(ops, layout: GapLayout, mu, phi, sigma):
    """Mean and variance of each missing cell given its driver's observed cells (same order
    as ``layout.miss_index``), shapes (..., n_missing); parameters per driver (..., K).

    With ``z = x - mu``, a missing cell i weeks after its left anchor and j weeks before
    its right anchor is the prediction from the left, ``N(phi^i z_left, sigma^2 S_i)``,
    conditioned on the right anchor, ``z_right | z ~ N(phi^j z, sigma^2 S_j)``. Without a
    left anchor the prediction starts from the start distribution i weeks back (mean 0,
    variance ``phi^(2i) s0^2 + sigma^2 S_i``); without a right one there is nothing to
    condition on. All cells are one vectorized expression in which a missing anchor enters
    through a constant 0/1 weight on finite dummy values (steps of 1, value 0), so the
    cases cost no separate operations or reordering.
    """
    # the parameters are picked per cell before any transform: a product with the
    # one-hot matrix would turn one driver's infinite log phi (phi = 0) or
    # sigma^2 / (1 - phi^2) (phi = 1, at the edge of a wild warm-up proposal) into NaN in
    # every other driver's cells (inf * 0)
    m, ph, sg = _per_cell(layout.miss_onehot, mu, phi, sigma)
    log_phi = ops.log(ph)
    scale2 = sg * sg / (1.0 - ph * ph)
    has_left = (layout.left >= 0).astype(float)
    has_right = (layout.right >= 0).astype(float)
    left_value = np.where(has_left > 0, layout.values[layout.left], 0.0)
    right_value = np.where(has_right > 0, layout.values[layout.right], 0.0)
    # phi^k - 1 by one expm1 per anchor; then phi^k = 1 + a and phi^(2k) - 1 = a (2 + a),
    # exact and without cancellation when phi^k is near 1
    a_left = ops.expm1(layout.left_steps.astype(float) * log_phi)
    a_right = ops.expm1(layout.right_steps.astype(float) * log_phi)
    phi_i, phi_j = 1.0 + a_left, 1.0 + a_right
    # sigma^2 S_k = sigma^2 (1 - phi^(2k)) / (1 - phi^2)
    var_left = (
        -scale2 * a_left * (2.0 + a_left) + (1.0 - has_left) * LATENT_START_SD**2 * phi_i * phi_i
    )
    var_right = -scale2 * a_right * (2.0 + a_right)
    precision = 1.0 / var_left + has_right * phi_j * phi_j / var_right
    weighted = (
        has_right * phi_j * (right_value - m) / var_right
        + has_left * phi_i * (left_value - m) / var_left
    )
    return m + weighted / precision, 1.0 / precision


def driver_matrices(ops, layout: GapLayout, mu, phi, sigma):
    """(T, K) mean and variance of the standardized drivers for one parameter set (PyTensor
    or JAX; no draw axis): the data with variance 0 where observed, :func:`gap_moments`
    where missing, put among the data by :func:`_place`."""
    mean, var = layout.values, np.zeros(layout.values.size)
    if layout.n_missing:
        fill_mean, fill_var = gap_moments(ops, layout, mu, phi, sigma)
        mean = _place(ops, layout.runs, layout.values, fill_mean)
        var = _place(ops, layout.runs, var, fill_var)
    shape = (layout.n_drivers, layout.n_weeks)
    return mean.reshape(shape).T, var.reshape(shape).T


def _place(ops, runs, observed: np.ndarray, missing):
    """The cell vector: observed runs from ``observed`` (cell order), missing runs from
    ``missing`` (``miss_index`` order).

    Where an indexed read's gradient is a scatter (JAX) the runs are joined one by one
    (the gradient is then a slice of each); elsewhere (PyTensor's C backend, where a join
    of many slices and its gradient cost more) the observed cells and the missing ones are
    joined once and put in cell order by a fixed permutation. Full history, value and
    gradient of the driver part: on JAX 93 µs with the runs against 136 µs with the
    permutation (medians, one run); the whole model's on PyTensor 2.0-2.4 ms with the
    permutation against 3.5-4.3 ms with the runs.
    """
    if ops.gather_grad_is_scatter:
        parts = [missing[a:b] if is_missing else observed[a:b] for is_missing, a, b in runs]
        return parts[0] if len(parts) == 1 else ops.concat(parts, 0)
    observed_cells, missing_cells, start = [], [], 0
    for is_missing, a, b in runs:
        (missing_cells if is_missing else observed_cells).append(np.arange(start, start + b - a))
        start += b - a
    observed_cells = np.concatenate([np.zeros(0, int), *observed_cells])
    order = np.argsort(np.concatenate([observed_cells, *missing_cells]), kind="stable")
    return ops.concat([observed[observed_cells], missing], 0)[order]
