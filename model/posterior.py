"""From stored draws back to numbers: parameters per draw, filled drivers, regime probabilities.

Everything here is NumPy over a leading draw axis (chain x draw flattened), using the same
equations as the sampled model (:mod:`model.likelihood` with the NumPy backend).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from model.config import ModelConfig
from model.hmm import forward_backward
from model.inputs import ModelInputs, lag_once
from model.likelihood import NP, log_emissions, log_transitions

PARAMETERS = ("trans_intercept", "trans_coef", "funding_mu_calm", "funding_shift",
              "funding_sigma", "funding_nu", "move_mu_calm", "move_shift", "move_sigma",
              "stress_type_weights", "event_false_rate", "event_hit_rate", "qe_intercept",
              "qe_stress_effect", "qe_coef", "ar_mu", "ar_phi", "ar_sigma")


def flat_draws(group: xr.Dataset, name: str) -> np.ndarray:
    """(chain, draw, ...) -> (chain*draw, ...)."""
    values = group[name].to_numpy()
    return values.reshape((-1, *values.shape[2:]))


def parameters(group: xr.Dataset) -> dict[str, np.ndarray]:
    return {name: flat_draws(group, name) for name in PARAMETERS}


def filled_drivers(group: xr.Dataset, inputs: ModelInputs) -> np.ndarray:
    """(draws, T, K): observed drivers, with each draw's latent values in the missing cells."""
    n_draws = group.sizes["chain"] * group.sizes["draw"]
    x = np.broadcast_to(np.nan_to_num(inputs.x), (n_draws, *inputs.x.shape)).copy()
    for k, (driver, missing) in enumerate(inputs.missing_index().items()):
        if len(missing):
            x[:, missing, k] = flat_draws(group, f"filled_{driver}")
    return x


def regime_terms(params: dict, x: np.ndarray, inputs: ModelInputs, config: ModelConfig
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log_init, log_trans (D, T-1, 2, 2) and log_emis (D, T, 2) for every draw."""
    p0 = config.initial_stress_probability
    log_init = np.log([1 - p0, p0])
    log_trans = log_transitions(NP, params, x)
    log_emis = log_emissions(NP, params, inputs.obs, lag_once(x))
    return log_init, log_trans, log_emis


def regime_probabilities(group: xr.Dataset, inputs: ModelInputs, config: ModelConfig
                         ) -> xr.Dataset:
    """Filtered and smoothed P(stress) for every draw, as (chain, draw, week) arrays."""
    params = parameters(group)
    x = filled_drivers(group, inputs)
    log_init, log_trans, log_emis = regime_terms(params, x, inputs, config)
    loglik, filtered, smoothed = forward_backward(log_init, log_trans, log_emis)
    shape = (group.sizes["chain"], group.sizes["draw"], inputs.n_weeks)
    dims = ("chain", "draw", "week")
    coords = {"chain": group["chain"], "draw": group["draw"], "week": inputs.weeks}
    return xr.Dataset({
        "p_stress_filtered": (dims, filtered[..., 1].reshape(shape)),
        "p_stress_smoothed": (dims, smoothed[..., 1].reshape(shape)),
        "regime_loglik": (("chain", "draw"), loglik.reshape(shape[:2])),
    }, coords=coords)
