"""The model's potential energy (-log p) for NumPyro and the start search, likelihood in JAX.

Why not PyMC's own translation of the model graph (``get_jaxified_logp``): the same
equations written through :class:`model.likelihood.Ops` with ``jax.numpy`` compute value and
gradient about twice as fast (full history, inside a compiled loop as in NUTS: ~0.4 ms
against ~0.9 ms, 2026-11-25), and XLA compiles them faster. Nothing is written twice:

- the priors, the transforms to the unconstrained space and their Jacobians are PyMC's,
  translated by PyMC (``model.logp`` over the free variables, a small scalar graph), as are
  the constrained parameters the likelihood reads;
- the likelihood is :func:`model.likelihood.likelihood_terms`, the function the PyTensor
  model is built from, on ``jax.numpy`` and with :func:`model.hmm.loglik_scaled` as the
  forward algorithm.

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
from model.hmm import loglik_scaled
from model.inputs import ModelInputs
from model.likelihood import Ops, likelihood_terms
from model.missing import GapLayout
from model.posterior import OPTIONAL_PARAMETERS, PARAMETERS

JX = Ops(
    jnp.log,
    jnp.log1p,
    jax.nn.softplus,
    jnp.logaddexp,
    gammaln,
    lambda xs, axis: jnp.stack(xs, axis=axis),
    jnp.sqrt,
    jnp.exp,
    jnp.expm1,
    lambda xs, axis: jnp.concatenate(xs, axis=axis),
    gather_grad_is_scatter=True,
)


def log_likelihood_fn(
    inputs: ModelInputs, config: ModelConfig, forward: Callable = loglik_scaled
) -> Callable[[dict], jax.Array]:
    """params -> log p(data | params): the two terms of :func:`model.build.build_model`
    (``driver_ar1`` and ``regime_loglik``), with the forward algorithm as one scan
    (``forward``: :func:`model.hmm.loglik_scaled`; the benchmark also times the log-space
    :func:`model.hmm.loglik_scan`)."""
    layout = GapLayout.from_matrix(inputs.x)
    obs = {k: jnp.asarray(v) for k, v in inputs.obs.items()}
    p0 = config.initial_stress_probability
    log_init = jnp.log(jnp.array([1.0 - p0, p0]))

    def log_likelihood(p: dict) -> jax.Array:
        ar_logp, regime_loglik = likelihood_terms(JX, forward, layout, obs, p, log_init)
        return ar_logp + regime_loglik

    return log_likelihood


def prior_and_parameters_fn(model: pm.Model) -> Callable[[Sequence], tuple[jax.Array, dict]]:
    """values of ``model.value_vars`` -> (log prior with the transforms' Jacobians, the
    constrained parameters the likelihood reads), both as PyMC translates them to JAX."""
    # every parameter the likelihood reads, including a variant's optional ones: a
    # parameter left out here would be sampled from its prior alone
    names = [*PARAMETERS, *(n for n in OPTIONAL_PARAMETERS if n in model.named_vars)]
    graph = get_jaxified_graph(
        inputs=model.value_vars,
        outputs=[
            model.logp(vars=model.free_RVs),
            *model.replace_rvs_by_values([model[name] for name in names]),
        ],
    )

    def prior_and_parameters(values: Sequence) -> tuple[jax.Array, dict]:
        log_prior, *parameters = graph(*values)
        return log_prior, dict(zip(names, parameters, strict=True))

    return prior_and_parameters


def jax_potential(
    model: pm.Model, inputs: ModelInputs, config: ModelConfig, forward: Callable = loglik_scaled
) -> Callable[[Sequence], jax.Array]:
    """-log p of the values of ``model.value_vars`` (a list, in that order), as PyMC's
    ``get_jaxified_logp(model, negative_logp=False)`` returns it, for the model
    :func:`model.build.build_model` built from the same inputs and config."""
    prior_and_parameters = prior_and_parameters_fn(model)
    log_likelihood = log_likelihood_fn(inputs, config, forward)

    def potential(values: Sequence) -> jax.Array:
        log_prior, parameters = prior_and_parameters(values)
        return -(log_prior + log_likelihood(parameters))

    return potential
