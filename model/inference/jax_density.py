"""The model's potential energy (-log p) for NumPyro and the start search, likelihood in JAX.

Why not PyMC's own translation of the model graph (``get_jaxified_logp``): the same
equations written through :class:`model.equations.likelihood.Ops` with ``jax.numpy``
compute value and gradient about twice as fast inside a compiled loop as in NUTS (and
faster still than the translation of the PyMC model's forward tree), and XLA compiles them
faster. Nothing is written twice:

- the priors, the transforms to the unconstrained space and their Jacobians are PyMC's,
  translated by PyMC (``model.logp`` over the free variables, a small scalar graph), as are
  the constrained parameters the likelihood reads;
- the likelihood is :func:`model.equations.likelihood.likelihood_terms`, the function the
  PyTensor model is built from, on ``jax.numpy`` and with
  :func:`model.equations.hmm.loglik_scaled` as the forward algorithm.

``tests/test_jax_density.py`` checks value and gradient against PyMC's translation of the
whole model at random points.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import pymc as pm
from jax.scipy.special import gammaln
from pymc.sampling.jax import get_jaxified_graph

from model.equations.config import ModelConfig
from model.equations.hmm import loglik_scaled
from model.equations.inputs import ModelInputs
from model.equations.likelihood import Ops, likelihood_terms
from model.equations.missing import DENSITY_ARRAYS, GapLayout
from model.equations.parameters import parameter_names


@jax.custom_vjp
def take_once_each(a: jax.Array, index: jax.Array, inverse: jax.Array) -> jax.Array:
    """``a[index]`` whose gradient is the read ``g[inverse]`` (``Ops.take``): XLA writes
    the gradient of an indexed read as a scatter, which on a CPU costs several times a
    read."""
    return a[index]


def _take_forward(a, index, inverse):
    return a[index], (index, inverse)


def _take_backward(saved, g):
    index, inverse = saved
    return jnp.concatenate([g, jnp.zeros(1, g.dtype)])[inverse], None, None


take_once_each.defvjp(_take_forward, _take_backward)

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
    take_once_each,
)

#: The compiled program's shapes are the data's rounded up to these multiples (weeks; the
#: observed cells listed one by one; the missing cells), so that a refit on data a few
#: weeks longer (the monthly refit, the backtest's next origin) builds the same program
#: and JAX's persistent cache (:mod:`model.inference.runtime`) serves it instead of XLA compiling
#: it again. A year of weeks: at most 51 padding weeks on a history of ~1,100 (15 on the
#: snapshot's 1,077); 256 slots, because the snapshot's 641 gaps and the 640 of the fit
#: four weeks older fell on either side of a multiple of 128.
SHAPE_STEPS = {"weeks": 52, "listed": 16, "slots": 256}


def _round_up(n: int, step: int) -> int:
    return -(-n // step) * step


def program_data(inputs: ModelInputs, config: ModelConfig) -> dict:
    """The data as the potential's argument: the layout's arrays
    (:data:`model.equations.missing.DENSITY_ARRAYS`), the observation arrays and log P(s_0),
    padded to :data:`SHAPE_STEPS` (padding contributes exactly nothing:
    :meth:`GapLayout.padded`; the padded weeks' ``in_sample`` is 0)."""
    layout = GapLayout.from_matrix(inputs.x)
    weeks = _round_up(inputs.n_weeks, SHAPE_STEPS["weeks"])
    layout = layout.padded(
        weeks,
        _round_up(len(layout.obs_weight), SHAPE_STEPS["listed"]),
        _round_up(layout.n_missing, SHAPE_STEPS["slots"]),
    )
    extra = weeks - inputs.n_weeks
    obs = {
        k: np.concatenate([np.asarray(v, float), np.zeros(extra)]) for k, v in inputs.obs.items()
    }
    obs["in_sample"] = np.concatenate([np.ones(inputs.n_weeks), np.zeros(extra)])
    p0 = config.initial_stress_probability
    return {
        "layout": {name: getattr(layout, name) for name in DENSITY_ARRAYS},
        "obs": obs,
        "log_init": np.log([1.0 - p0, p0]),
    }


def layout_of(arrays: dict) -> GapLayout:
    """The :class:`GapLayout` of :func:`program_data`'s ``"layout"`` arrays (inside a
    compiled program: its sizes come from the arrays' shapes)."""
    n_drivers = arrays["pair_sums"].shape[0]
    return GapLayout(n_weeks=arrays["values"].shape[0] // n_drivers, n_drivers=n_drivers, **arrays)


def log_likelihood(data: dict, p: dict, forward: Callable = loglik_scaled) -> jax.Array:
    """log p(data | params): the two terms of :func:`model.equations.build.build_model`
    (``driver_ar1`` and ``regime_loglik``) on :func:`program_data`, with the forward
    algorithm as one scan (``forward``: :func:`model.equations.hmm.loglik_scaled`; the benchmark
    also times the log-space ``tests.forward_oracles.loglik_scan``)."""
    ar_logp, regime_loglik = likelihood_terms(
        JX, forward, layout_of(data["layout"]), data["obs"], p, data["log_init"]
    )
    return ar_logp + regime_loglik


def prior_and_parameters_fn(model: pm.Model) -> Callable[[Sequence], tuple[jax.Array, dict]]:
    """values of ``model.value_vars`` -> (log prior with the transforms' Jacobians, the
    constrained parameters the likelihood reads), both as PyMC translates them to JAX."""
    # every parameter the likelihood reads, including a variant's optional ones: a
    # parameter left out here would be sampled from its prior alone
    names = parameter_names(model.named_vars)
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


@dataclass(frozen=True)
class Potential:
    """-log p of the values of ``model.value_vars`` (a list, in that order), as PyMC's
    ``get_jaxified_logp(model, negative_logp=False)`` returns it: ``potential(values)``.

    The data are kept apart (``energy(data, values)``), so that a program that calls the
    potential can take them as an argument (:mod:`model.inference.sampling`,
    :mod:`model.inference.initial`):
    a constant inside the program would make every refit's program new to JAX's cache.
    """

    energy: Callable[[dict, Sequence], jax.Array]
    data: dict

    def __call__(self, values: Sequence) -> jax.Array:
        return self.energy(self.data, values)

    @classmethod
    def without_data(cls, potential: Callable[[Sequence], jax.Array]) -> Potential:
        """A potential whose data are constants inside it (PyMC's translation)."""
        return cls(lambda data, values: potential(values), {})

    @classmethod
    def of(cls, potential: Potential | Callable[[Sequence], jax.Array]) -> Potential:
        """``potential`` itself, or a plain -log p function as one without data."""
        return potential if isinstance(potential, cls) else cls.without_data(potential)


def jax_potential(
    model: pm.Model, inputs: ModelInputs, config: ModelConfig, forward: Callable = loglik_scaled
) -> Potential:
    """The potential of :func:`model.equations.build.build_model` built from the same inputs and
    config: PyMC's priors and transforms, the likelihood on :func:`program_data`."""
    prior_and_parameters = prior_and_parameters_fn(model)

    def energy(data: dict, values: Sequence) -> jax.Array:
        log_prior, parameters = prior_and_parameters(values)
        return -(log_prior + log_likelihood(data, parameters, forward))

    return Potential(energy, program_data(inputs, config))
