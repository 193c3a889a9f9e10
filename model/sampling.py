"""Run NUTS: NumPyro/JAX by default, PyMC's own sampler as the fallback backend.

Measured on the 2-core machine (bench/bench_fit.py): NumPyro is the fastest reliable route
for this model; PyMC's default backend gives the same posterior more slowly and never starts
JAX (which must still be installed: the package imports it).
NumPyro samples the potential it is given (:mod:`model.jax_density` from ``fit.py``), else
PyMC's translation of the model graph.

Chains start in the dominant posterior mode (``map_starts`` local optimizations, see
:mod:`model.initial`) without PyMC's random jitter, which on the full history sent one
chain in four into a mode ~200 nats lower. On NumPyro the warm-up also starts from the
Laplace variances at the best optimum as its diagonal mass matrix instead of the identity
(warm-up 2x faster on the full history); the step size starts at 1 in those units and dual
averaging takes it from there. With ``dense_mass`` the warm-up adapts a full mass matrix,
started from the same variances.
PyMC's backend keeps its own default adaptation (``adapt_diag``, or ``adapt_full`` with
``dense_mass``): it is the fallback and the benchmark's baseline. ``map_starts = 0``
restores the defaults on both. The search is recorded in
``sample_stats.attrs["initialization"]`` (and the manifest).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from unittest import mock

import arviz as az
import numpy as np
import numpyro.infer
import pymc as pm
import pymc.sampling.jax as pymc_jax
from numpyro.infer.util import ParamInfo
from pymc.sampling.jax import get_jaxified_logp, sample_numpyro_nuts

from model.initial import ChainStarts, chain_starts
from model.settings import BACKENDS, SamplerSettings
from model.timing import PhaseClock


def sample(
    model: pm.Model,
    settings: SamplerSettings,
    progressbar: bool = True,
    potential: Callable | None = None,
) -> az.InferenceData:
    """Posterior draws of ``model``. ``potential`` is its -log p in JAX over the value
    variables (:func:`model.jax_density.jax_potential`); on NumPyro the start search and
    NUTS then use it instead of PyMC's translation of the graph (without it, PyMC's
    translation, made once, serves both). PyMC's own sampler never starts JAX: its start
    search runs on PyTensor (:func:`model.initial.pytensor_objective`), so the fallback
    works where JAX cannot start its backend, and its forked chain processes start before
    any JAX thread does. ``sample_stats.attrs["timing"]`` (JSON) holds the seconds of
    the start search and of NUTS, on NumPyro each with the part JAX spent compiling
    (:class:`model.timing.PhaseClock`)."""
    if settings.backend not in BACKENDS:
        raise ValueError(f"unknown sampler backend {settings.backend!r}; use one of {BACKENDS}")
    kwargs = dict(
        draws=settings.draws,
        tune=settings.tune,
        chains=settings.chains,
        random_seed=settings.seed,
        target_accept=settings.target_accept,
        progressbar=progressbar,
        compute_convergence_checks=False,
    )
    record: dict = {"map_starts": 0, "jitter": True}
    nuts_kwargs: dict = {"dense_mass": settings.dense_mass}  # NumPyro's NUTS only
    starts = None
    clock = PhaseClock()
    if settings.backend == "pymc":
        potential = None
    elif potential is None:
        potential = get_jaxified_logp(model, negative_logp=False)
    if settings.map_starts > 0:
        with clock.phase("start_search"):
            starts = chain_starts(
                model, settings.chains, settings.map_starts, settings.seed, potential=potential
            )
        record, inverse_mass = starts.record, starts.inverse_mass
        record["jitter"] = False
        kwargs["initvals"] = starts.inits
        if inverse_mass is not None:
            # No heuristic step-size search: it puts a second copy of the gradient into
            # NumPyro's program (XLA compile 18.4 s -> 10.2 s without it, same steps per
            # draw and ESS); dual averaging finds the step from 1 in the Laplace units.
            # A dense metric starts from the same variances (as a diagonal matrix): started
            # from the full Laplace covariance, the one vintage measured (2023-01) mixed no
            # better (bulk ESS 549 against 690, one run each).
            nuts_kwargs["inverse_mass_matrix"] = (
                np.diag(inverse_mass) if settings.dense_mass else inverse_mass
            )
            nuts_kwargs["find_heuristic_step_size"] = False
    with model, clock.phase("nuts"):
        if settings.backend == "numpyro":
            # Straight to PyMC's NumPyro bridge: pm.sample(nuts_sampler="numpyro") first
            # assigns PyMC step methods, building a PyTensor gradient it never uses
            # (~10 s on the full history). Chains run in parallel, one per JAX host device
            # ("vectorized" chains in lockstep measured 2.4x slower on 2 cores).
            with translated_once(model, potential), started_with_gradient(starts):
                idata = sample_numpyro_nuts(
                    chain_method="parallel",
                    jitter=record["jitter"],
                    nuts_kwargs=nuts_kwargs,
                    **kwargs,
                )
        else:
            init = ("jitter+" if record["jitter"] else "") + (
                "adapt_full" if settings.dense_mass else "adapt_diag"
            )
            idata = pm.sample(cores=min(settings.chains, 2), init=init, **kwargs)
    idata.sample_stats.attrs["initialization"] = json.dumps(record)
    timing = clock.seconds
    if settings.backend == "pymc":  # JAX compiled nothing; PyTensor's compiling is not split
        timing = {k: v for k, v in timing.items() if not k.endswith("_compile_s")}
    idata.sample_stats.attrs["timing"] = json.dumps(timing)
    return idata


@contextmanager
def translated_once(model: pm.Model, potential: Callable | None) -> Iterator[None]:
    """Let PyMC's NumPyro bridge use the potential the start search used.

    The bridge translates the model itself (``pymc.sampling.jax.get_jaxified_logp``) and
    has no argument to pass one in; the translation takes seconds on the full history
    (~3 s, measured), and :func:`model.jax_density.jax_potential` is faster to run. Within
    this block that one lookup returns ``potential`` for this model; any other call goes to
    PyMC's own function. Nothing is replaced when there is no potential.
    """
    if potential is None:
        yield
        return
    original = pymc_jax.get_jaxified_logp

    def reuse(m: pm.Model, negative_logp: bool = True) -> Callable:
        if m is model and not negative_logp:
            return potential
        return original(m, negative_logp=negative_logp)

    with mock.patch.object(pymc_jax, "get_jaxified_logp", reuse):
        yield


@contextmanager
def started_with_gradient(starts: ChainStarts | None) -> Iterator[None]:
    """Hand NumPyro -log p and its gradient at the chains' starts, as the search found them.

    Given only the start points, NumPyro computes value and gradient there inside its
    compiled program, which puts a second copy of the gradient into it next to the
    leapfrog's: on the full history that copy cost 1.5 s of tracing and 1.8 s of XLA
    compilation (2.4 + 9.4 s against 0.9 + 7.6 s, one run each, 2026-12-01). NumPyro takes
    a ``ParamInfo(z, potential_energy, z_grad)`` instead and then skips it. PyMC's bridge
    has no argument for that, so within this block ``MCMC.run`` wraps the start points the
    bridge passes (one array per value variable, chains first) with the search's values.
    Nothing is replaced when the search has none (no starts, or a value not finite).
    """
    if starts is None or starts.gradient is None:
        yield
        return
    original = numpyro.infer.MCMC.run

    def run(self, rng_key, *args, init_params=None, **kwargs):
        if init_params is not None and not isinstance(init_params, ParamInfo):
            shapes = [np.shape(a) for a in init_params]
            if shapes != [np.shape(g) for g in starts.gradient]:
                raise ValueError(
                    f"start points {shapes} do not match the search's "
                    f"gradient {[np.shape(g) for g in starts.gradient]}"
                )
            init_params = ParamInfo(init_params, starts.potential_energy, starts.gradient)
        return original(self, rng_key, *args, init_params=init_params, **kwargs)

    with mock.patch.object(numpyro.infer.MCMC, "run", run):
        yield
