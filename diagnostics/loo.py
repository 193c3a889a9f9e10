"""PSIS-LOO comparison of fits that explain the same data (ArviZ ``loo`` and ``compare``).

The pointwise terms are the weekly one-step predictive log densities of the regime
likelihood, log p(y_t | y_<t, drivers, theta) from the forward filter
(:func:`model.equations.hmm.forward_filter`): funding and MOVE observables, event onsets and QE
restarts, given the drivers. The drivers' own AR(1) density is left out: it is the same
equation in every variant and says nothing about how the events are explained. Fits compared
must share their weeks and their event definition (a catalogue-trained and an
objective-trained fit explain different data, so their LOO is not comparable; that is
checked).

Weeks of an HMM are not exchangeable, so this is an in-sample predictive check of fit, not
the out-of-sample test; the dense backtest is that (``docs/backtest.md``).
"""

from __future__ import annotations

import arviz as az
import pandas as pd
import xarray as xr

from model.equations.hmm import forward_filter
from model.equations.posterior import driver_moments, parameters, regime_terms
from model.records.store import Fit

#: Posterior draws used per fit (thinned evenly).
LOO_DRAWS = 1000


class LooError(ValueError):
    """The fits cannot be compared (different weeks or event definitions)."""


def pointwise_loglik(fit: Fit) -> az.InferenceData:
    """InferenceData with a ``log_likelihood`` group (chain, draw, week) for ``arviz.loo``."""

    posterior = fit.idata.posterior
    step = max(1, posterior.sizes["chain"] * posterior.sizes["draw"] // LOO_DRAWS)
    thinned = posterior.isel(draw=slice(None, None, step))
    inputs = fit.inputs()
    params = parameters(thinned)
    x, x_var = driver_moments(thinned, inputs)
    log_init, log_trans, log_emis = regime_terms(params, x, inputs, fit.config, x_var)
    increments, _ = forward_filter(log_init, log_trans, log_emis)
    shape = (thinned.sizes["chain"], thinned.sizes["draw"], inputs.n_weeks)
    loglik = xr.Dataset(
        {"weekly": (("chain", "draw", "week"), increments.reshape(shape))},
        coords={"chain": thinned["chain"], "draw": thinned["draw"], "week": inputs.weeks},
    )
    return az.InferenceData(posterior=thinned, log_likelihood=loglik)


def compare_fits(fits: dict[str, Fit]) -> pd.DataFrame:
    """``arviz.compare`` (PSIS-LOO, log scale) of fits of the same weeks and events."""
    weeks = {
        name: (
            str(f.idata.constant_data["week"].values[0])[:10],
            str(f.idata.constant_data["week"].values[-1])[:10],
        )
        for name, f in fits.items()
    }
    events = {name: f.config.events for name, f in fits.items()}
    move = {name: f.config.move_observable for name, f in fits.items()}
    if any(len(set(d.values())) > 1 for d in (weeks, events, move)):
        raise LooError(
            f"fits explain different data (weeks {weeks}, events {events}, MOVE observable "
            f"{move}): their log densities are not comparable"
        )
    data = {name: pointwise_loglik(fit) for name, fit in fits.items()}
    table = az.compare(data, ic="loo", scale="log")
    pareto = {
        name: int((az.loo(d, pointwise=True).pareto_k.values > 0.7).sum())
        for name, d in data.items()
    }
    table["pareto_k_above_0.7"] = pd.Series(pareto)
    return table
