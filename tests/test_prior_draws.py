"""The prior group of a fit: draws from the declared priors, whatever the data, and no
misleading warning about the model's Potentials (which are its likelihood) or PyTensor's
BLAS in a refit's output."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from data.sources import REPO_ROOT
from model.equations.build import build_model
from model.equations.config import ModelConfig
from model.inference.checks import prior_group
from tests.model_fixtures import random_short_inputs

DRAWS = 2000


@pytest.fixture(scope="module")
def two_models():
    config = ModelConfig(move_observable="level")  # the priors of the table below
    first = build_model(random_short_inputs(np.random.default_rng(1), 30), config)
    other = build_model(random_short_inputs(np.random.default_rng(2), 45), config)
    return first, other


def test_prior_draws_follow_the_declared_priors_and_ignore_the_data(two_models):
    first, other = two_models
    prior = prior_group(first, DRAWS, seed=7)
    assert prior.sizes["chain"] == 1 and prior.sizes["draw"] == DRAWS
    expected_means = {
        "qe_intercept": -7.0,  # Normal(-7, 0.75)
        "funding_shift": 3.0 * np.sqrt(2 / np.pi),  # HalfNormal(3)
        "move_mu_calm": 4.4,  # Normal(4.4, 0.5)
    }
    sds = {"qe_intercept": 0.75, "funding_shift": 3.0 * np.sqrt(1 - 2 / np.pi), "move_mu_calm": 0.5}
    for name, mean in expected_means.items():
        assert float(prior[name].mean()) == pytest.approx(mean, abs=4 * sds[name] / DRAWS**0.5)
    phi = prior["ar_phi"].to_numpy()  # Beta(20, 1.5) for each driver
    assert phi.mean() == pytest.approx(20 / 21.5, abs=0.005)

    # the likelihood (the model's Potentials) plays no part: other data, the same draws
    again = prior_group(other, DRAWS, seed=7)
    for name in ("qe_intercept", "trans_coef", "ar_phi", "stress_type_weights"):
        np.testing.assert_array_equal(prior[name].to_numpy(), again[name].to_numpy())


def test_no_warning_about_potentials_and_pymcs_log_level_is_restored(two_models):
    first, _ = two_models
    forward_log = logging.getLogger("pymc.sampling.forward")
    level = forward_log.level
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prior_group(first, 50, seed=3)
    assert not [w for w in caught if "Potentials" in str(w.message)]
    assert forward_log.level == level


def test_no_blas_warning_once_a_command_is_configured(tmp_path):
    """pip's PyTensor finds no BLAS here and warns of "severely degraded" operations, which
    does not apply to this model (``model/inference/runtime.py``); the refit's output stays quiet.
    Without :func:`model.inference.runtime.configure` the warning is printed: the check can fail."""
    code = "import pytensor; pytensor.config.blas__ldflags"
    configured = "from model.inference.runtime import configure; configure(); " + code
    env = {**os.environ, "PYTENSOR_FLAGS": f"compiledir={tmp_path}"}
    env.pop("PYTHONWARNINGS", None)
    stderr = {}
    for name, program in (("bare", code), ("configured", configured)):
        result = subprocess.run(
            [sys.executable, "-c", program],
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            env=env,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        stderr[name] = result.stderr
    assert "could not link to a BLAS" in stderr["bare"]
    assert "could not link to a BLAS" not in stderr["configured"]
