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
variance, through :func:`model.equations.likelihood.expected_logit`) rather than one coherent path.
The gap's values are still never invented: their mean is pulled to the driver's mean and
their variance grows away from the observed ends of the gap, so the transition probability
in a gap is flattened toward "driver unknown".

Every function takes an ``ops`` backend (:mod:`model.equations.likelihood`) so the same equations
serve PyTensor (sampling, parameters of shape (K,)) and NumPy (stored draws, parameters of
shape (draws, K)).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from model.equations.config import LATENT_START_SD


@dataclass(frozen=True)
class GapLayout:
    """The drivers' observed and missing weeks as the arrays the density reads (NumPy, fixed
    per fit, or the same arrays padded and passed to a compiled program at run time).

    All drivers are laid out together so that each case below is one vectorized expression
    over the cells of every driver (on JAX each operation is a kernel launch, and their
    number, not the arithmetic, set the gradient's cost). Cells are numbered driver-major,
    ``cell = k * T + t`` for week t of driver k; ``values`` holds the (T, K) matrix in that
    order, 0 where missing.

    - Observed cells whose previous week is observed too (the bulk: ~5,000 of the full
      history's ~5,400) enter the density only through per-driver sums, ``pair_sums``
      (K, 6): the count and the sums of x_t, x_{t-1}, x_t^2, x_{t-1}^2 and x_t x_{t-1}
      (:func:`observed_logpdf`), so the sampled density does no per-week work for them.
    - The other observed cells (each driver's first, and the first after a gap) are listed
      with their value, the previous observed value of the same driver (``obs_has_prev``
      0 for a driver's first), the step in weeks from it (or from week 0's start
      distribution) and a one-hot (K, n) of their driver.
    - Missing cells ("slots") are listed with the observed anchors on each side (value, 0/1
      presence, steps; a missing anchor has value 0 and a step of 1) and a one-hot of their
      driver. ``cell_slot`` gives each cell's slot (``n_slots`` for a cell that is not
      missing) and ``slot_cell`` each slot's cell (``K * T`` for a padding slot and for the
      extra last entry), which put the gap moments among the data (:func:`driver_matrices`).

    ``obs_weight`` is 1 for a listed observed cell and 0 for padding. :meth:`padded` makes
    every shape depend only on the bucket the data fall in, not on the exact number of
    weeks or gaps, so that a compiled program serves refits on more data
    (:mod:`model.inference.jax_density`). ``miss_index``/``miss_driver`` (each real slot's cell and
    driver) are bookkeeping for NumPy callers; the density never reads them.
    """

    n_weeks: int
    n_drivers: int
    values: np.ndarray  # (K * T,) standardized, 0 where missing
    pair_sums: np.ndarray  # (K, 6): n and five sums over consecutive observed weeks
    obs_value: np.ndarray
    obs_prev_value: np.ndarray
    obs_has_prev: np.ndarray
    obs_steps: np.ndarray
    obs_weight: np.ndarray
    obs_onehot: np.ndarray  # (K, n_obs)
    left_value: np.ndarray
    has_left: np.ndarray
    left_steps: np.ndarray
    right_value: np.ndarray
    has_right: np.ndarray
    right_steps: np.ndarray
    miss_onehot: np.ndarray  # (K, n_slots)
    cell_slot: np.ndarray  # (K * T,) int
    slot_cell: np.ndarray  # (n_slots + 1,) int
    miss_index: np.ndarray | None = None
    miss_driver: np.ndarray | None = None

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
        values = np.nan_to_num(flat)
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
        # consecutive observed weeks: summarized per driver, not kept cell by cell
        paired = (obs_prev >= 0) & (obs_steps == 1)
        pair_sums = _pair_sums(
            flat[obs_index[paired]], flat[obs_prev[paired]], driver[obs_index[paired]], n_drivers
        )
        keep = ~paired
        listed, listed_prev = obs_index[keep], obs_prev[keep]
        n_slots = len(miss_index)
        cell_slot = np.full(flat.size, n_slots)
        cell_slot[miss_index] = np.arange(n_slots)
        return cls(
            n_weeks=n_weeks,
            n_drivers=n_drivers,
            values=values,
            pair_sums=pair_sums,
            obs_value=values[listed],
            obs_prev_value=np.where(listed_prev >= 0, values[listed_prev], 0.0),
            obs_has_prev=(listed_prev >= 0).astype(float),
            obs_steps=obs_steps[keep].astype(float),
            obs_weight=np.ones(len(listed)),
            obs_onehot=_onehot(driver[listed], n_drivers),
            left_value=np.where(left >= 0, values[left], 0.0),
            has_left=(left >= 0).astype(float),
            left_steps=np.where(left >= 0, miss_index - left, week[miss_index]).astype(float),
            right_value=np.where(right >= 0, values[right], 0.0),
            has_right=(right >= 0).astype(float),
            right_steps=np.where(right >= 0, right - miss_index, 1).astype(float),
            miss_onehot=_onehot(miss_driver, n_drivers),
            cell_slot=cell_slot,
            slot_cell=np.concatenate([miss_index, [flat.size]]),
            miss_index=miss_index,
            miss_driver=miss_driver,
        )

    @classmethod
    def from_column(cls, column: np.ndarray) -> GapLayout:
        """Layout of one driver (K = 1): its parameters are then arrays of shape (..., 1)."""
        return cls.from_matrix(np.asarray(column)[:, None])

    @property
    def n_missing(self) -> int:
        """Slots of the gap moments (padding slots included)."""
        return len(self.has_left)

    def padded(self, n_weeks: int, n_listed: int, n_slots: int) -> GapLayout:
        """The same layout with ``n_weeks`` weeks per driver, ``n_listed`` listed observed
        cells and ``n_slots`` missing-cell slots, each at least the real number.

        What padding adds contributes nothing: padding weeks are cells of value 0 that are
        neither observed nor missing (the caller gives their log emissions weight 0, see
        :func:`model.equations.likelihood.regime_inputs`), padding observed cells have weight 0, and
        padding slots are no cell's slot. Their parameters come from driver 0 with steps of
        1, so every padding term is finite and its gradient exactly 0.
        """
        k, t = self.n_drivers, self.n_weeks
        extra_weeks, extra_listed = n_weeks - t, n_listed - len(self.obs_weight)
        extra_slots = n_slots - self.n_missing
        if min(extra_weeks, extra_listed, extra_slots) < 0:
            raise ValueError(
                f"cannot pad {t} weeks, {len(self.obs_weight)} listed cells and "
                f"{self.n_missing} slots to {n_weeks}, {n_listed} and {n_slots}"
            )

        def pad(name: str, extra: int) -> np.ndarray:
            a = getattr(self, name)
            if a.ndim == 2:  # a one-hot (K, n): padding cells pick driver 0
                return np.concatenate([a, _onehot(np.zeros(extra, int), k)], axis=1)
            return np.concatenate([a, np.full(extra, _PADDING[name], dtype=a.dtype)])

        by_driver = self.values.reshape(k, t)
        values = np.concatenate([by_driver, np.zeros((k, extra_weeks))], axis=1).ravel()
        cell_slot = np.where(self.cell_slot == self.n_missing, n_slots, self.cell_slot)
        cell_slot = np.concatenate(
            [cell_slot.reshape(k, t), np.full((k, extra_weeks), n_slots)], axis=1
        ).ravel()
        real = self.slot_cell[:-1]
        slot_cell = (real // t) * n_weeks + real % t
        return replace(
            self,
            n_weeks=n_weeks,
            values=values,
            **{name: pad(name, extra_listed) for name in _LISTED},
            **{name: pad(name, extra_slots) for name in _SLOTS},
            cell_slot=cell_slot,
            slot_cell=np.concatenate([slot_cell, np.full(extra_slots + 1, k * n_weeks)]),
            miss_index=None,
            miss_driver=None,
        )

    def as_matrix(self, flat: np.ndarray) -> np.ndarray:
        """(..., K * T) in cell order -> (..., T, K)."""
        shaped = flat.reshape(*flat.shape[:-1], self.n_drivers, self.n_weeks)
        return np.ascontiguousarray(np.swapaxes(shaped, -1, -2))


#: What :meth:`GapLayout.padded` fills padding cells with: weight and presence 0, value 0,
#: steps of 1 (one-hots get driver 0).
_PADDING = {
    "obs_value": 0.0,
    "obs_prev_value": 0.0,
    "obs_has_prev": 0.0,
    "obs_steps": 1.0,
    "obs_weight": 0.0,
    "left_value": 0.0,
    "has_left": 0.0,
    "left_steps": 1.0,
    "right_value": 0.0,
    "has_right": 0.0,
    "right_steps": 1.0,
}
_LISTED = (*(n for n in _PADDING if n.startswith("obs_")), "obs_onehot")
_SLOTS = (*(n for n in _PADDING if not n.startswith("obs_")), "miss_onehot")

#: The layout's arrays the density reads: what a compiled program takes as its argument.
DENSITY_ARRAYS = tuple(
    f.name
    for f in fields(GapLayout)
    if f.name not in ("n_weeks", "n_drivers", "miss_index", "miss_driver")
)


def _pair_sums(
    now: np.ndarray, before: np.ndarray, driver: np.ndarray, n_drivers: int
) -> np.ndarray:
    """(K, 6) per driver, over its pairs of consecutive observed weeks: the count and the
    sums of x_t, x_t-1, x_t^2, x_t-1^2 and x_t x_t-1, all the AR(1) density of those pairs
    needs (so they are not kept cell by cell)."""
    out = np.zeros((n_drivers, 6))
    terms = (np.ones_like(now), now, before, now * now, before * before, now * before)
    for column, sums in enumerate(terms):
        np.add.at(out[:, column], driver, sums)
    return out


def _onehot(drivers: np.ndarray, n_drivers: int) -> np.ndarray:
    """(K, n) with a 1 in the row of each cell's driver."""
    return (np.arange(n_drivers)[:, None] == drivers[None, :]).astype(float)


def _per_cell(onehot: np.ndarray, *per_driver):
    """Each cell's value of per-driver arrays (..., K) -> (..., n), by a product with the
    cells' one-hot driver matrix rather than by indexing: on JAX the gradient of an
    indexed read is a scatter, several times slower than the product's transpose. The
    arrays must be finite (inf * 0 is NaN)."""
    return tuple(a @ onehot for a in per_driver)


def _normal_logpdf(ops, z, mean, var):
    return -0.5 * (np.log(2 * np.pi) + ops.log(var) + (z - mean) ** 2 / var)


def observed_logpdf(ops, layout: GapLayout, mu, phi, sigma):
    """Exact AR(1) log density of all drivers' observed cells, gaps integrated out.

    ``mu``, ``phi``, ``sigma`` are per driver, shape (..., K); the result has shape (...).

    - a week whose previous week is observed: ``x_t - mu ~ N(phi (x_{t-1} - mu), sigma^2)``.
      With ``c = mu (1 - phi)`` the squared residuals of a driver's n such weeks sum to
      ``Syy + phi^2 Sxx + n c^2 - 2 phi Sxy - 2 c Sy + 2 phi c Sx`` (the layout's
      ``pair_sums``), so this case costs O(K), not O(T K);
    - the listed cells, one expression: the first observed week after a gap of k - 1 weeks
      has the k-step transition density ``N(phi^k z_prev, sigma^2 S_k)``, a driver's first
      observed week (no previous value) the start distribution pushed forward k weeks,
      ``N(0, phi^(2k) s0^2 + sigma^2 S_k)``.
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
    m, ph, sg = _per_cell(layout.obs_onehot, mu, phi, sigma)
    a = ops.expm1(layout.obs_steps * ops.log(ph))  # phi^k - 1, see gap_moments
    has_prev = layout.obs_has_prev
    var = -sg * sg / (1.0 - ph * ph) * a * (2.0 + a) + (1.0 - has_prev) * (
        LATENT_START_SD**2 * (1.0 + a) * (1.0 + a)
    )
    mean = has_prev * (1.0 + a) * (layout.obs_prev_value - m)
    listed = _normal_logpdf(ops, layout.obs_value - m, mean, var)
    return total + (layout.obs_weight * listed).sum(-1)


def gap_moments(ops, layout: GapLayout, mu, phi, sigma):
    """Mean and variance of each missing cell given its driver's observed cells (slot
    order), shapes (..., n_slots); parameters per driver (..., K).

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
    has_left, has_right = layout.has_left, layout.has_right
    # phi^k - 1 by one expm1 per anchor; then phi^k = 1 + a and phi^(2k) - 1 = a (2 + a),
    # exact and without cancellation when phi^k is near 1
    a_left = ops.expm1(layout.left_steps * log_phi)
    a_right = ops.expm1(layout.right_steps * log_phi)
    phi_i, phi_j = 1.0 + a_left, 1.0 + a_right
    # sigma^2 S_k = sigma^2 (1 - phi^(2k)) / (1 - phi^2)
    var_left = (
        -scale2 * a_left * (2.0 + a_left) + (1.0 - has_left) * LATENT_START_SD**2 * phi_i * phi_i
    )
    var_right = -scale2 * a_right * (2.0 + a_right)
    precision = 1.0 / var_left + has_right * phi_j * phi_j / var_right
    weighted = (
        has_right * phi_j * (layout.right_value - m) / var_right
        + has_left * phi_i * (layout.left_value - m) / var_left
    )
    return m + weighted / precision, 1.0 / precision


def driver_matrices(ops, layout: GapLayout, mu, phi, sigma):
    """(T, K) mean and variance of the standardized drivers for one parameter set (PyTensor
    or JAX; no draw axis): the data with variance 0 where observed, :func:`gap_moments`
    where missing.

    Each cell reads its slot from the moments with a 0 appended (the slot of every cell
    that is not missing), through ``ops.take`` with the inverse index: on JAX the gradient
    of a read at unique places is then a read too, not XLA's scatter (value and gradient
    of the whole density on the snapshot, interleaved in one run: 334 µs against 407 µs
    with a plain indexed read, medians of 15 rounds).
    """
    mean, var = layout.values, np.zeros(layout.values.shape[0])
    if layout.n_missing:
        fill_mean, fill_var = gap_moments(ops, layout, mu, phi, sigma)
        zero = np.zeros(1)
        index, inverse = layout.cell_slot, layout.slot_cell
        mean = mean + ops.take(ops.concat([fill_mean, zero], 0), index, inverse)
        var = ops.take(ops.concat([fill_var, zero], 0), index, inverse)
    shape = (layout.n_drivers, layout.n_weeks)
    return mean.reshape(shape).T, var.reshape(shape).T
