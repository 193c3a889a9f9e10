"""``SamplerSettings.dense_mass`` reaches both NUTS backends and changes how they move.

A ridge (two parameters correlated at 0.995) is what a diagonal mass matrix cannot follow:
NUTS then needs long trajectories along it. With a full mass matrix adapted in warm-up the
ridge becomes round and trajectories short. If the setting were dropped on its way to a
backend, the step counts below would be the diagonal ones and the test fails.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest

from model.inference.sampling import sample
from model.inference.settings import SamplerSettings

RHO = 0.995


def ridge_model() -> pm.Model:
    cov = np.array([[1.0, RHO * 2.0], [RHO * 2.0, 4.0]])
    with pm.Model() as model:
        pm.MvNormal("theta", mu=np.zeros(2), cov=cov)
    return model


def steps_per_draw(backend: str, dense: bool) -> float:
    settings = SamplerSettings(
        draws=300, tune=500, chains=2, seed=3, backend=backend, map_starts=2, dense_mass=dense
    )
    idata = sample(ridge_model(), settings, progressbar=False)
    theta = idata.posterior["theta"].values.reshape(-1, 2)
    assert np.corrcoef(theta.T)[0, 1] == pytest.approx(RHO, abs=0.01)  # same posterior
    return float(idata.sample_stats["n_steps"].mean())


@pytest.mark.parametrize("backend", ["numpyro", "pymc"])
def test_dense_mass_shortens_trajectories_along_a_ridge(backend):
    diagonal, dense = steps_per_draw(backend, False), steps_per_draw(backend, True)
    assert dense < 0.5 * diagonal, (diagonal, dense)
