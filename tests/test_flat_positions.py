"""NUTS on one flat vector draws exactly what it draws on the value variables one by one.

The sampler hands NumPyro the value variables as a single vector because its program then
compiles faster; that may change nothing else. A toy model with a scalar, a vector, a
matrix and a transformed variable is sampled both ways with the same keys, starts, step
size and data: the same chains must come out (every tree the same size, every draw equal
to rounding), so the vector maps to the variables as NumPyro's own ravelling does. On the
model's own density a refit's draws came out equal bit for bit; on this toy density XLA
fuses the two programs' arithmetic differently (a few units in the ninth digit at first),
and a chain of a toy funnel amplifies that over many iterations, so the chains are
compared over their first twenty.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pymc as pm
from jax.flatten_util import ravel_pytree
from numpyro.infer.util import ParamInfo
from pymc.sampling.jax import get_jaxified_logp

from model.inference.jax_density import Potential
from model.inference.sampling import FlatPositions, chain_program, start_params
from model.inference.settings import SamplerSettings


def toy_model() -> pm.Model:
    with pm.Model() as model:
        level = pm.Normal("level", 0.0, 2.0)
        scales = pm.HalfNormal("scales", 1.0, shape=3)
        grid = pm.Normal("grid", mu=level, sigma=scales.sum(), shape=(2, 2))
        pm.Normal("y", mu=grid.sum(), sigma=1.0, observed=np.array([0.4, 1.3]))
    return model


def run(potential: Potential, settings: SamplerSettings, start, n_values: int):
    program = chain_program(potential, settings, settings.tune, {"dense_mass": False})
    chains = settings.chains
    copies = jax.tree.map(
        lambda x: jnp.stack([x] * chains), (jnp.ones(n_values), jnp.asarray(0.5), {})
    )
    return program(jax.random.split(jax.random.PRNGKey(3), chains), start, *copies)


def test_flat_and_per_variable_positions_round_trip():
    parts = [np.arange(5.0), np.arange(15.0).reshape(5, 3), np.arange(20.0).reshape(5, 2, 2)]
    positions = FlatPositions.of_chains(parts)
    assert positions.shapes == ((), (3,), (2, 2))
    flat = positions.flat(parts)
    assert flat.shape == (5, 8)
    # NumPyro's own ravelling of one chain's list is the same vector
    assert np.array_equal(flat[2], ravel_pytree([p[2] for p in parts])[0])
    assert all(np.array_equal(a, b) for a, b in zip(positions.parts(flat), parts, strict=True))


def test_nuts_on_the_flat_vector_draws_what_it_draws_per_variable():
    model = toy_model()
    settings = SamplerSettings(draws=10, tune=10, chains=2)
    potential = Potential.of(get_jaxified_logp(model, negative_logp=False))
    per_variable = start_params(model, settings, None)
    positions = FlatPositions.of_chains(per_variable)
    assert positions.shapes == ((), (3,), (2, 2))
    n_values = positions.flat(per_variable).shape[-1]

    (z_tree, stats_tree), last_tree = run(potential, settings, per_variable, n_values)
    flat_start = positions.flat_init(per_variable)
    (z_flat, stats_flat), last_flat = run(
        positions.potential(potential), settings, flat_start, n_values
    )
    np.testing.assert_allclose(
        positions.flat([np.asarray(z) for z in z_tree]), np.asarray(z_flat), rtol=1e-6, atol=1e-9
    )
    for a, b in zip(stats_tree, stats_flat, strict=True):
        a, b = np.asarray(a), np.asarray(b)
        if np.issubdtype(a.dtype, np.floating):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)
        else:  # tree sizes, divergences: the same trees were built
            assert np.array_equal(a, b)
    np.testing.assert_allclose(
        np.asarray(last_tree.adapt_state.inverse_mass_matrix),
        np.asarray(last_flat.adapt_state.inverse_mass_matrix),
        rtol=1e-6,
    )
    assert np.isfinite(np.asarray(z_flat)).all() and np.ptp(np.asarray(z_flat)[0, :, 0]) > 0


def test_a_searched_start_keeps_its_energy_and_gradient():
    z = [np.zeros(2), np.ones((2, 3)), np.full((2, 2, 2), 0.5)]
    positions = FlatPositions.of_chains(z)
    grad = [np.full(2, 0.1), np.full((2, 3), 0.2), np.full((2, 2, 2), 0.3)]
    flat = positions.flat_init(ParamInfo(z, np.array([1.0, 2.0]), grad))
    assert isinstance(flat, ParamInfo)
    assert np.array_equal(flat.z, positions.flat(z))
    assert np.array_equal(flat.z_grad[1], [0.1, 0.2, 0.2, 0.2, 0.3, 0.3, 0.3, 0.3])
    assert np.array_equal(flat.potential_energy, [1.0, 2.0])
