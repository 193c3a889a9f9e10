"""From stored draws back to numbers: parameters per draw, driver moments, regime probabilities.

Everything here is NumPy over a leading draw axis (chain x draw flattened), using the same
equations as the sampled model (:mod:`model.equations.likelihood` with the NumPy backend).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from model.equations.config import ModelConfig
from model.equations.hmm import forward_backward
from model.equations.inputs import ModelInputs, lag_once
from model.equations.likelihood import NP, log_emissions, log_transitions
from model.equations.missing import GapLayout, gap_moments
from model.equations.parameters import parameter_names


def flat_draws(group: xr.Dataset, name: str) -> np.ndarray:
    """(chain, draw, ...) -> (chain*draw, ...)."""
    values = group[name].to_numpy()
    return values.reshape((-1, *values.shape[2:]))


def parameters(group: xr.Dataset) -> dict[str, np.ndarray]:
    return {name: flat_draws(group, name) for name in parameter_names(group)}


def driver_moments(group: xr.Dataset, inputs: ModelInputs) -> tuple[np.ndarray, np.ndarray]:
    """(draws, T, K) mean and variance of the standardized drivers for every draw.

    Observed cells are the data with variance 0; missing cells hold their mean and variance
    under the draw's AR(1) parameters given the observed weeks (the same
    :func:`model.equations.missing.gap_moments` the sampled model integrates them out with).
    """
    return driver_moments_of(parameters(group), inputs)


def driver_moments_of(params: dict, inputs: ModelInputs) -> tuple[np.ndarray, np.ndarray]:
    """:func:`driver_moments` for parameter draws already flattened (D, ...)."""
    n_draws = len(params["ar_mu"])
    layout = GapLayout.from_matrix(inputs.x)
    mean = np.broadcast_to(layout.values, (n_draws, layout.values.size)).copy()
    var = np.zeros_like(mean)
    if layout.n_missing:
        mean[:, layout.miss_index], var[:, layout.miss_index] = gap_moments(
            NP, layout, params["ar_mu"], params["ar_phi"], params["ar_sigma"]
        )
    return layout.as_matrix(mean), layout.as_matrix(var)


def sample_drivers(x: np.ndarray, x_var: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One plausible value per missing cell and draw, from its N(mean, variance).

    For a single week (the forecast's starting point) this is an exact posterior draw; across
    weeks the cells are independent, which is the model's own approximation in gaps.
    """
    return x + np.sqrt(x_var) * rng.standard_normal(x.shape)


def fill_sd(x: np.ndarray, x_var: np.ndarray) -> np.ndarray:
    """(T, K) posterior sd of each driver week over draws: sqrt(E[var] + Var[mean]).

    0 on observed weeks; on missing weeks it combines the AR(1) uncertainty given the
    parameters with the parameters' own uncertainty.
    """
    return np.sqrt(x_var.mean(0) + x.var(0))


def regime_terms(
    params: dict,
    x: np.ndarray,
    inputs: ModelInputs,
    config: ModelConfig,
    x_var: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log_init, log_trans (D, T-1, 2, 2) and log_emis (D, T, 2) for every draw."""
    p0 = config.initial_stress_probability
    log_init = np.log([1 - p0, p0])
    log_trans = log_transitions(NP, params, x, x_var)
    lagged_var = None if x_var is None else lag_once(x_var)
    log_emis = log_emissions(NP, params, inputs.obs, lag_once(x), lagged_var)
    return log_init, log_trans, log_emis


#: Draws per block in :func:`regime_probabilities`: every intermediate array is (draws,
#: weeks, drivers); 4000 draws x 1077 weeks x 5 is 170 MB per array, far beyond the CPU
#: caches, and blocks of this size made the whole computation about twice as fast.
DRAW_BLOCK = 250


def regime_probabilities(group: xr.Dataset, inputs: ModelInputs, config: ModelConfig) -> xr.Dataset:
    """Filtered and smoothed P(stress) for every draw, as (chain, draw, week) arrays."""
    loglik, filtered, smoothed = stress_probabilities_of(parameters(group), inputs, config)
    shape = (group.sizes["chain"], group.sizes["draw"], inputs.n_weeks)
    dims = ("chain", "draw", "week")
    coords = {"chain": group["chain"], "draw": group["draw"], "week": inputs.weeks}
    return xr.Dataset(
        {
            "p_stress_filtered": (dims, filtered.reshape(shape)),
            "p_stress_smoothed": (dims, smoothed.reshape(shape)),
            "regime_loglik": (("chain", "draw"), loglik.reshape(shape[:2])),
        },
        coords=coords,
    )


def stress_probabilities_of(
    params: dict, inputs: ModelInputs, config: ModelConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(D,) log-likelihood and (D, T) filtered and smoothed P(stress) for parameter draws
    already flattened: :func:`regime_probabilities` without the xarray shape."""
    n_draws = len(params["ar_mu"])
    # the stress column only (P(calm) = 1 - P(stress)), each block written in place:
    # joining both columns of 4,000 draws x ~1,100 weeks afterwards took a second
    loglik = np.empty(n_draws)
    filtered, smoothed = np.empty((n_draws, inputs.n_weeks)), np.empty((n_draws, inputs.n_weeks))
    for first in range(0, n_draws, DRAW_BLOCK):
        block = {k: v[first : first + DRAW_BLOCK] for k, v in params.items()}
        x, x_var = driver_moments_of(block, inputs)
        log_init, log_trans, log_emis = regime_terms(block, x, inputs, config, x_var)
        rows = slice(first, first + DRAW_BLOCK)
        loglik[rows], block_filtered, block_smoothed = forward_backward(
            log_init, log_trans, log_emis
        )
        filtered[rows], smoothed[rows] = block_filtered[..., 1], block_smoothed[..., 1]
    return loglik, filtered, smoothed
