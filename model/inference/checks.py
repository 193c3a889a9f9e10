"""Prior and posterior predictive checks of event and restart frequencies.

The question a reviewer asks of the priors: do they imply a plausible number of liquidity
events and QE restarts over the sample (a handful per two decades), before seeing data?
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pymc as pm
import xarray as xr

from model.equations.inputs import ModelInputs
from model.equations.parameters import parameter_names
from model.equations.posterior import driver_moments_of, parameters
from model.equations.simulate import episodes, simulate_event_counts


def observed_counts(inputs: ModelInputs) -> dict[str, int]:
    any_event = np.maximum(inputs.obs["event_funding"], inputs.obs["event_market"])
    return {"event_episodes": episodes(any_event), "qe_restarts": int(inputs.obs["restart"].sum())}


def predictive_counts(
    group: xr.Dataset, inputs: ModelInputs, seed: int, max_draws: int = 500
) -> dict[str, np.ndarray]:
    """Simulated counts over the sample period for (up to ``max_draws``) draws of a group."""
    params = parameters(group)
    n = len(params["ar_mu"])
    take = np.random.default_rng(seed).choice(n, size=min(n, max_draws), replace=False)
    params = {k: v[take] for k, v in params.items()}
    # the driver moments of the chosen draws only: each draw's are its own
    x, x_var = driver_moments_of(params, inputs)
    return simulate_event_counts(
        np.random.default_rng(seed + 1), params, x, inputs.obs["at_risk"], x_var=x_var
    )


def prior_group(model: pm.Model, draws: int, seed: int) -> xr.Dataset:
    """Prior draws of every parameter, as a (chain=1, draw) dataset.

    PyMC warns here that "the effect of Potentials on other parameters is ignored" and that
    the draws may be "invalid or biased". Not in this model: its two Potentials
    (``driver_ar1``, ``regime_loglik``, :func:`model.equations.build.build_model`) are the
    likelihood, and no prior constraint lives in a Potential (the regime ordering is built
    into the parameters: stress = calm + a positive shift). Ignoring the likelihood is what
    a prior draw means, so the warning is silenced, as is PyMC's "Sampling: [...]" line,
    which in ``fit.py``'s output read like a second run of NUTS.
    ``tests/test_prior_draws.py`` checks the draws against the declared priors.
    """
    names = parameter_names(model.named_vars)
    forward_log = logging.getLogger("pymc.sampling.forward")
    level = forward_log.level
    forward_log.setLevel(logging.WARNING)
    try:
        with model, warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message="The effect of Potentials", category=UserWarning
            )
            prior = pm.sample_prior_predictive(draws=draws, var_names=names, random_seed=seed)
    finally:
        forward_log.setLevel(level)
    return prior.prior


def summarize_counts(counts: dict[str, np.ndarray], observed: dict[str, int], n_weeks: int) -> dict:
    """Quantiles per 20 years, and where the observed count falls (predictive p-value)."""
    scale = 20 * 52.18 / n_weeks
    out = {}
    for key, values in counts.items():
        per20 = values * scale
        row = {
            "mean_per_20y": float(per20.mean()),
            "q05_per_20y": float(np.quantile(per20, 0.05)),
            "q95_per_20y": float(np.quantile(per20, 0.95)),
        }
        if key in observed:
            row["observed"] = observed[key]
            row["observed_per_20y"] = observed[key] * scale
            row["p_value_ge_observed"] = float((values >= observed[key]).mean())
        out[key] = row
    return out
