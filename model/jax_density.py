"""The model's potential energy (-log p) for NumPyro and the start search, likelihood in JAX.

Why not PyMC's own translation of the model graph (``get_jaxified_logp``): the same
equations written through :class:`model.likelihood.Ops` with ``jax.numpy`` compute value and
gradient about twice as fast (full history, inside a compiled loop as in NUTS: ~0.4 ms
against ~0.9 ms, 2026-11-25), and XLA compiles them faster. Nothing is written twice:

- the priors, the transforms to the unconstrained space and their Jacobians are PyMC's,
  translated by PyMC (``model.logp`` over the free variables, a small scalar graph), as are
  the constrained parameters the likelihood reads;
- the likelihood is :mod:`model.likelihood`, :mod:`model.missing` and
  :func:`model.hmm.loglik_scan`, the functions the PyTensor model is built from; only the
  wiring of :func:`model.build.build_model` is repeated here, in a dozen lines.

``tests/test_jax_density.py`` checks value and gradient against PyMC's translation of the
whole model at random points.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import pymc as pm
from jax.scipy.special import gammaln
from pymc.sampling.jax import get_jaxified_graph

from model.config import ModelConfig
from model.hmm import loglik_scan
from model.inputs import ModelInputs
from model.likelihood import Ops, log_emissions, log_transitions
from model.missing import GapLayout, gap_moments, observed_logpdf
from model.posterior import PARAMETERS

JX = Ops(jnp.log, jnp.log1p, jax.nn.softplus, jnp.logaddexp, gammaln,
         lambda xs, axis: jnp.stack(xs, axis=axis), jnp.sqrt, jnp.exp, jnp.expm1,
         lambda xs, axis: jnp.concatenate(xs, axis=axis))


def log_likelihood_fn(inputs: ModelInputs, config: ModelConfig
                      ) -> Callable[[dict], jax.Array]:
    """params -> log p(data | params): the drivers' AR(1) term plus the forward algorithm,
    as in :func:`model.build.build_model` (``driver_ar1`` and ``regime_loglik``)."""
    layout = GapLayout.from_matrix(inputs.x)
    obs = {k: jnp.asarray(v) for k, v in inputs.obs.items()}
    p0 = config.initial_stress_probability
    log_init = jnp.log(jnp.array([1.0 - p0, p0]))
    shape = (layout.n_drivers, layout.n_weeks)

    def log_likelihood(p: dict) -> jax.Array:
        mu, phi, sigma = p["ar_mu"], p["ar_phi"], p["ar_sigma"]
        mean, var = jnp.asarray(layout.values), jnp.zeros(layout.values.size)
        if layout.n_missing:
            fill_mean, fill_var = gap_moments(JX, layout, mu, phi, sigma)
            mean = mean.at[layout.miss_index].set(fill_mean)
            var = var.at[layout.miss_index].set(fill_var)
        x, x_var = mean.reshape(shape).T, var.reshape(shape).T
        x_lagged = jnp.concatenate([x[:1], x[:-1]])
        x_lagged_var = jnp.concatenate([x_var[:1], x_var[:-1]])
        return (observed_logpdf(JX, layout, mu, phi, sigma)
                + loglik_scan(log_init, log_transitions(JX, p, x, x_var),
                              log_emissions(JX, p, obs, x_lagged, x_lagged_var)))

    return log_likelihood


def jax_potential(model: pm.Model, inputs: ModelInputs, config: ModelConfig
                  ) -> Callable[[Sequence], jax.Array]:
    """-log p of the values of ``model.value_vars`` (a list, in that order), as PyMC's
    ``get_jaxified_logp(model, negative_logp=False)`` returns it, for the model
    :func:`model.build.build_model` built from the same inputs and config."""
    prior_and_parameters = get_jaxified_graph(
        inputs=model.value_vars,
        outputs=[model.logp(vars=model.free_RVs),
                 *model.replace_rvs_by_values([model[name] for name in PARAMETERS])])
    log_likelihood = log_likelihood_fn(inputs, config)

    def potential(values: Sequence) -> jax.Array:
        log_prior, *parameters = prior_and_parameters(*values)
        return -(log_prior + log_likelihood(dict(zip(PARAMETERS, parameters, strict=True))))

    return potential

