"""Warm-started refits: start where an earlier fit's chains ended, with its adapted metric."""

from __future__ import annotations

import json

import numpy as np
import pymc as pm
import pytest

from model.inference.sampling import WarmStart, sample
from model.inference.settings import SamplerSettings


def toy_model(n_obs: int = 3, extra: bool = False) -> pm.Model:
    """Vectors, a scalar and a log transform (machinery only, not market data)."""
    y = np.array([0.4, 1.3, -0.2, 0.9, 1.1])[:n_obs]
    with pm.Model() as m:
        v = pm.Normal("v", 1.0, 2.0, shape=3 if not extra else 4)
        s = pm.HalfNormal("s", 1.0)
        pm.Normal("y", v.sum(), s + 0.5, observed=y)
    return m


def test_chains_started_without_a_search_run_on_a_potential_without_data():
    """PyMC's jittered starts (a list, no search) and PyMC's own translation of the
    density (no data argument): each chain must get its own start, of each variable's
    shape (jax.pmap once sliced such arguments wrongly next to an empty pytree)."""
    idata = sample(
        toy_model(3),
        SamplerSettings(draws=20, tune=20, chains=2, seed=1, map_starts=0),
        progressbar=False,
    )
    assert idata.posterior["v"].shape == (2, 20, 3) and idata.posterior["s"].shape == (2, 20)
    assert (idata.posterior["s"] > 0).all()


@pytest.mark.slow
def test_a_refit_starts_where_the_earlier_chains_ended_and_samples_the_new_posterior():
    cold = sample(
        toy_model(3),
        SamplerSettings(draws=300, tune=300, chains=2, seed=1, map_starts=2),
        progressbar=False,
    )
    warm = WarmStart.from_idata(cold, "earlier")
    state = cold["warm_start"]
    assert warm.points[0].shape == (2, 3) and warm.inverse_mass.shape == (4,)
    np.testing.assert_array_equal(warm.points[0], state["z_v"].to_numpy())
    # the positions are the last draws (unconstrained s = log s)
    np.testing.assert_allclose(warm.points[0], cold.posterior["v"].to_numpy()[:, -1], rtol=1e-12)
    np.testing.assert_allclose(
        warm.points[1], np.log(cold.posterior["s"].to_numpy()[:, -1]), rtol=1e-10
    )
    new_model = toy_model(5)  # the data grew
    settings = SamplerSettings(draws=600, tune=600, chains=2, seed=2, map_starts=2, warm_tune=100)
    refit = sample(new_model, settings, progressbar=False, warm=warm)
    record = json.loads(refit.sample_stats.attrs["initialization"])
    assert record["warm_start_from"] == "earlier" and record["map_starts"] == 0
    assert refit.posterior.sizes["draw"] == 600
    # the earlier fit's mass matrix is kept: the short warm-up adapts the step size only
    np.testing.assert_array_equal(
        refit["warm_start"]["inverse_mass"].to_numpy(),
        np.broadcast_to(warm.inverse_mass, (2, *warm.inverse_mass.shape)),
    )
    readapted = sample(
        new_model,
        SamplerSettings(**{**settings.to_dict(), "warm_keeps_mass": False}),
        progressbar=False,
        warm=warm,
    )
    assert not np.allclose(readapted["warm_start"]["inverse_mass"].to_numpy(), warm.inverse_mass)
    reference = sample(new_model, settings, progressbar=False)  # cold, same data
    for name in ("v", "s"):
        warm_mean = refit.posterior[name].mean(("chain", "draw")).to_numpy()
        cold_mean = reference.posterior[name].mean(("chain", "draw")).to_numpy()
        sd = reference.posterior[name].std(("chain", "draw")).to_numpy()
        assert np.all(np.abs(warm_mean - cold_mean) < 0.3 * sd)


def test_a_state_of_another_shape_is_refused_and_the_fit_starts_cold():
    state = WarmStart("earlier", [np.zeros((2, 3)), np.zeros(2)], 0.5, np.ones(4))
    assert state.unusable_for(toy_model(3), dense_mass=False) is None
    assert "shapes" in state.unusable_for(toy_model(3, extra=True), dense_mass=False)
    assert "dense" in state.unusable_for(toy_model(3), dense_mass=True)
    refit = sample(
        toy_model(3, extra=True),
        SamplerSettings(draws=50, tune=50, chains=2, seed=3, map_starts=2),
        progressbar=False,
        warm=state,
    )
    record = json.loads(refit.sample_stats.attrs["initialization"])
    assert "shapes" in record["warm_start_refused"] and record["n_starts"] == 2
    assert "warm_start_from" not in record


def damaged_earlier_fit(state):
    """An earlier passing fit of the default model whose kept chain state is ``state``."""
    from types import SimpleNamespace

    import arviz as az
    import pandas as pd

    from model.equations.config import ModelConfig
    from model.inference.fitting import warm_start_for
    from model.records.store import Fit

    manifest = {
        "fit_id": "earlier",
        "convergence": {"passed": True},
        "data": {"cutoff": "2020-01-01"},
    }
    earlier = Fit(None, manifest, ModelConfig(), az.InferenceData(warm_start=state))
    panel = SimpleNamespace(cutoff=pd.Timestamp("2020-06-03"))
    return warm_start_for(earlier, ModelConfig(), panel)


def stored_state(position: float = 0.0, step: float = 0.5, drop_attrs: bool = False):
    import xarray as xr

    ds = xr.Dataset(
        {
            "z_v": (("chain", "v_dim_0"), np.full((2, 3), position)),
            "step_size": ("chain", np.full(2, step)),
            "inverse_mass": (("chain", "mass_dim_0"), np.ones((2, 3))),
        },
        attrs={} if drop_attrs else {"value_vars": json.dumps(["v"])},
    )
    return ds


@pytest.mark.parametrize(
    ("state", "says"),
    [
        (stored_state(position=np.nan), "NaN or infinite position"),
        (stored_state(step=0.0), "step size 0.0"),
        (stored_state(drop_attrs=True), "unreadable (KeyError"),
    ],
    ids=["NaN position", "zero step", "missing attribute"],
)
def test_a_damaged_chain_state_falls_back_to_a_cold_start_and_says_why(state, says):
    warm, reason = damaged_earlier_fit(state)
    assert warm is None and reason.startswith("earlier") and says in reason
    good, none = damaged_earlier_fit(stored_state())
    assert good is not None and none is None
