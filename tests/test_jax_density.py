"""The JAX potential NumPyro samples is PyMC's model: value and gradient at random points.

:func:`model.inference.jax_density.jax_potential` runs the model's likelihood terms on ``jax.numpy``
with the forward algorithm as a scan, and takes the priors, transforms and the
parameters' constrained values from PyMC. Any difference from PyMC's own translation of the
model graph (the forward tree, the parameters' order or transforms, a prior, the drivers'
gaps, the event onsets, the QE at-risk weeks) shows up here.
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
import pytest
from pymc.initial_point import make_initial_point_fn
from pymc.sampling.jax import get_jaxified_logp

from data.panel import build_panel
from model.equations.build import build_model
from model.equations.config import ModelConfig
from model.equations.inputs import model_inputs
from model.inference.jax_density import jax_potential
from tests.model_fixtures import random_short_inputs


def jittered_points(model, n: int) -> list[list[np.ndarray]]:
    draw = make_initial_point_fn(
        model=model, jitter_rvs=set(model.free_RVs), return_transformed=True
    )
    return [[np.asarray(draw(seed)[v.name]) for v in model.value_vars] for seed in range(n)]


def assert_same_potential(model, inputs, config, n_points: int = 4) -> None:
    reference = jax.jit(jax.value_and_grad(get_jaxified_logp(model, negative_logp=False)))
    ours = jax.jit(jax.value_and_grad(jax_potential(model, inputs, config)))
    for point in jittered_points(model, n_points):
        want, want_grad = reference(point)
        got, got_grad = ours(point)
        assert float(got) == pytest.approx(float(want), rel=1e-12, abs=1e-9)
        for g, w in zip(got_grad, want_grad, strict=True):
            np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-9, atol=1e-9)


@pytest.mark.slow
def test_equals_pymcs_translation_on_real_data_with_gaps(snapshot):
    """2010-2016: driver weeks missing (the CFTC basis series' gaps) and weeks not at risk
    of a QE restart (QE3)."""
    config = ModelConfig(start="2010-01-06")
    inputs = model_inputs(build_panel(snapshot, start=config.start, end="2016-06-29"), config)
    assert np.isnan(inputs.x).any()
    assert (inputs.obs["at_risk"] == 0).any()
    assert_same_potential(build_model(inputs, config), inputs, config)


@pytest.mark.slow
def test_equals_pymcs_translation_on_simulated_inputs():
    """Short random inputs with gaps that open, sit inside and close the drivers' columns."""
    inputs = random_short_inputs(np.random.default_rng(3), 40)
    x = inputs.x.copy()
    x[:5, 0], x[10:14, 1], x[-3:, 2], x[[7, 20], 4] = np.nan, np.nan, np.nan, np.nan
    inputs = dataclasses.replace(inputs, x=x)
    config = ModelConfig()
    assert_same_potential(build_model(inputs, config), inputs, config, n_points=3)


@pytest.mark.slow
def test_equals_pymcs_translation_with_the_onset_hazard_and_objective_events(snapshot):
    """The hazard variant's extra parameter reaches the JAX likelihood (left out, it would be
    sampled from its prior alone: this test fails then), on real data labelled with the
    objective episodes."""
    config = ModelConfig(start="2015-06-03", event_coef_prior_sd=0.25, events="objective")
    inputs = model_inputs(build_panel(snapshot, start=config.start, end="2020-06-24"), config)
    assert inputs.obs["event_funding"].sum() > 0
    assert_same_potential(build_model(inputs, config), inputs, config, n_points=3)


def refit_programs(inputs, config, with_data_as_argument: bool = True) -> list[str]:
    """The text of the two programs a refit compiles, the start search's (value and
    gradient) and NUTS' (:func:`model.inference.sampling.chain_program`), as JAX lowers them."""
    import jax.numpy as jnp

    from model.inference.jax_density import Potential
    from model.inference.sampling import chain_program
    from model.inference.settings import SamplerSettings

    model = build_model(inputs, config)
    potential = jax_potential(model, inputs, config)
    if not with_data_as_argument:
        potential = Potential.without_data(potential)
    start = [jnp.asarray(z) for z in jittered_points(model, 1)[0]]
    search = jax.jit(jax.value_and_grad(potential.energy, argnums=1))
    settings = SamplerSettings(draws=10, tune=10, chains=2)
    nuts = chain_program(potential, settings, 10, {"find_heuristic_step_size": False})
    n_parameters = sum(z.size for z in start)
    return [
        search.lower(potential.data, start).as_text(),
        nuts.lower(
            jax.random.split(jax.random.PRNGKey(0), 2),
            *jax.tree.map(
                lambda x: jnp.stack([x, x]),
                (start, jnp.ones(n_parameters), jnp.asarray(0.1), potential.data),
            ),
        ).as_text(),
    ]


@pytest.mark.slow
def test_a_refit_on_four_more_weeks_builds_the_very_same_programs(snapshot):
    """The monthly refit's programs are the last month's, so JAX's persistent cache
    serves them instead of XLA compiling them again: the data are the programs' argument,
    padded to shapes that four more weeks do not change
    (``model.inference.jax_density.SHAPE_STEPS``).
    With the data as constants inside (PyMC's translation, NumPyro's ``MCMC``) the
    programs differ."""
    config = ModelConfig()
    full = model_inputs(build_panel(snapshot, start=config.start), config)
    earlier = model_inputs(
        build_panel(snapshot, start=config.start, end=str(full.weeks[-5].date())), config
    )
    assert earlier.n_weeks == full.n_weeks - 4
    assert refit_programs(earlier, config) == refit_programs(full, config)
    constants = [refit_programs(i, config, with_data_as_argument=False) for i in (earlier, full)]
    assert constants[0][0] != constants[1][0] and constants[0][1] != constants[1][1]
