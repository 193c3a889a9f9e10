"""Run NUTS: NumPyro/JAX by default, PyMC's own sampler as the fallback backend.

Measured on the 2-core machine (bench/bench_fit.py): NumPyro is the fastest reliable route
for this model; PyMC's default backend gives the same posterior more slowly and needs no JAX.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import arviz as az
import pymc as pm

BACKENDS = ("numpyro", "pymc")


@dataclass(frozen=True)
class SamplerSettings:
    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    seed: int = 20061
    target_accept: float = 0.95
    backend: str = "numpyro"

    def to_dict(self) -> dict:
        return asdict(self)


def sample(model: pm.Model, settings: SamplerSettings, progressbar: bool = True
           ) -> az.InferenceData:
    if settings.backend not in BACKENDS:
        raise ValueError(f"unknown sampler backend {settings.backend!r}; use one of {BACKENDS}")
    kwargs = dict(draws=settings.draws, tune=settings.tune, chains=settings.chains,
                  random_seed=settings.seed, target_accept=settings.target_accept,
                  progressbar=progressbar, compute_convergence_checks=False)
    with model:
        if settings.backend == "numpyro":
            return pm.sample(nuts_sampler="numpyro",
                             nuts_sampler_kwargs={"chain_method": "parallel"}, **kwargs)
        return pm.sample(cores=min(settings.chains, 2), **kwargs)
