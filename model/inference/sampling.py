"""Run NUTS: NumPyro/JAX by default, PyMC's own sampler as the fallback backend.

Measured on the 2-core machine (bench/bench_fit.py): NumPyro is the fastest reliable route
for this model; PyMC's default backend gives the same posterior more slowly and never starts
JAX (which must still be installed: the package imports it).
NumPyro samples the potential it is given (:mod:`model.inference.jax_density` from ``fit.py``), else
PyMC's translation of the model graph.

Chains start in the dominant posterior mode (``map_starts`` local optimizations, see
:mod:`model.inference.initial`) without PyMC's random jitter, which on the full history sent one
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
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from operator import attrgetter

import arviz as az
import jax
import jax.numpy as jnp
import numpy as np
import pymc as pm
import xarray as xr
from numpyro.infer.hmc import HMCState, hmc
from numpyro.infer.util import ParamInfo
from numpyro.util import fori_collect
from pymc.backends.arviz import coords_and_dims_for_inferencedata
from pymc.initial_point import make_initial_point_fn
from pymc.sampling.jax import get_jaxified_graph, get_jaxified_logp
from pymc.util import get_default_varnames

from model.inference.initial import ChainStarts, chain_starts
from model.inference.jax_density import Potential
from model.inference.settings import BACKENDS, SamplerSettings
from model.inference.timing import PhaseClock


@dataclass(frozen=True)
class WarmStart:
    """Where an earlier fit's chains ended and what its warm-up learned (NumPyro only).

    A refit on data that extend an earlier passing fit of the same model starts there: no
    start search, the adapted step size and mass matrix as the initial ones, and a short
    warm-up (``SamplerSettings.warm_tune``) that adapts the step size to the new weeks
    (and the mass matrix too unless ``warm_keeps_mass``). The gate
    judges the result exactly as a cold fit's.
    """

    source_fit: str
    points: list[np.ndarray]  # value-variable order, chains first (unconstrained)
    step_size: float
    inverse_mass: np.ndarray  # (n,) diagonal or (n, n) dense

    @classmethod
    def from_idata(cls, idata: az.InferenceData, fit_id: str) -> WarmStart | None:
        if "warm_start" not in idata.groups():
            return None
        return cls.from_dataset(idata["warm_start"], fit_id)

    @classmethod
    def from_dataset(cls, ds: xr.Dataset, fit_id: str) -> WarmStart:
        """From the ``warm_start`` group (:func:`warm_start_dataset`)."""
        names = json.loads(ds.attrs["value_vars"])
        return cls(
            fit_id,
            [ds[f"z_{n}"].to_numpy() for n in names],
            float(np.median(ds["step_size"].to_numpy())),
            ds["inverse_mass"].to_numpy().mean(axis=0),
        )

    def damaged(self) -> str | None:
        """Why the stored state cannot start any chain (None: it can): a NaN or infinite
        position, step size or mass, or a step size or mass that is not positive."""
        if not all(np.isfinite(z).all() for z in self.points):
            return "holds a NaN or infinite position"
        if not (np.isfinite(self.step_size) and self.step_size > 0):
            return f"has step size {self.step_size}"
        mass = self.inverse_mass
        diagonal = np.diag(mass) if mass.ndim == 2 else mass
        if not (np.isfinite(mass).all() and (diagonal > 0).all()):
            return "has a NaN, infinite or non-positive mass matrix"
        return None

    def unusable_for(self, model: pm.Model, dense_mass: bool) -> str | None:
        """Why this state cannot start ``model``'s chains (None: it can)."""
        point = model.initial_point()
        want = [np.shape(point[v.name]) for v in model.value_vars]
        if want != [np.shape(z)[1:] for z in self.points]:
            return "its parameters have other shapes (another set of drivers)"
        if (self.inverse_mass.ndim == 2) != dense_mass:
            return "its mass matrix is of the other kind (dense vs diagonal)"
        return None

    def init_params(self, chains: int) -> list[np.ndarray]:
        have = len(self.points[0])
        return [np.stack([z[i % have] for i in range(chains)]) for z in self.points]


def warm_start_dataset(model: pm.Model, state: HMCState) -> xr.Dataset:
    """The last state of every chain (leading axis), to start a later refit from
    (:class:`WarmStart`)."""
    names = [v.name for v in model.value_vars]
    data = {}
    for name, z in zip(names, state.z, strict=True):
        z = np.asarray(z)
        data[f"z_{name}"] = (("chain", *[f"{name}_dim_{i}" for i in range(z.ndim - 1)]), z)
    data["step_size"] = ("chain", np.asarray(state.adapt_state.step_size))
    mass = np.asarray(state.adapt_state.inverse_mass_matrix)
    data["inverse_mass"] = (("chain", *[f"mass_dim_{i}" for i in range(mass.ndim - 1)]), mass)
    return xr.Dataset(data, attrs={"value_vars": json.dumps(names)})


def warm_start_options(warm: WarmStart, settings: SamplerSettings) -> dict:
    """NUTS options of a warm start: the earlier fit's step size and mass matrix (its
    warm-up already found the mode, so there is no search and a short re-adaptation)."""
    options = {
        "inverse_mass_matrix": warm.inverse_mass,
        "step_size": warm.step_size,
        "find_heuristic_step_size": False,
    }
    if settings.warm_keeps_mass:
        # the earlier fit estimated the mass matrix from its whole warm-up; a short
        # warm-up would re-estimate it from a window of a few dozen draws
        options["adapt_mass_matrix"] = False
    return options


def searched_start_options(starts, settings: SamplerSettings) -> dict:
    """NUTS options from the start search's Laplace variances, when it has them.

    No heuristic step-size search: it puts a second copy of the gradient into NumPyro's
    program (XLA compile 18.4 s -> 10.2 s without it, same steps per draw and ESS); dual
    averaging finds the step from 1 in the Laplace units. A dense metric starts from the
    same variances (as a diagonal matrix): started from the full Laplace covariance, the
    one vintage measured (2023-01) mixed no better (bulk ESS 549 against 690, one run
    each)."""
    if starts.inverse_mass is None:
        return {}
    inverse_mass = starts.inverse_mass
    return {
        "inverse_mass_matrix": np.diag(inverse_mass) if settings.dense_mass else inverse_mass,
        "find_heuristic_step_size": False,
    }


def sample(
    model: pm.Model,
    settings: SamplerSettings,
    progressbar: bool = True,
    potential: Potential | Callable | None = None,
    warm: WarmStart | None = None,
) -> az.InferenceData:
    """Posterior draws of ``model``. ``potential`` is its -log p in JAX over the value
    variables (:func:`model.inference.jax_density.jax_potential`); on NumPyro the start search and
    NUTS then use it instead of PyMC's translation of the graph (without it, PyMC's
    translation, made once, serves both). PyMC's own sampler never starts JAX: its start
    search runs on PyTensor (:func:`model.inference.initial.pytensor_objective`), so the fallback
    works where JAX cannot start its backend, and its forked chain processes start before
    any JAX thread does. ``sample_stats.attrs["timing"]`` (JSON) holds the seconds of
    the start search and of NUTS, on NumPyro each with the part JAX spent compiling
    (:class:`model.inference.timing.PhaseClock`)."""
    if settings.backend not in BACKENDS:
        raise ValueError(f"unknown sampler backend {settings.backend!r}; use one of {BACKENDS}")
    clock = PhaseClock()
    refused = None
    if warm is not None:
        refused = warm.unusable_for(model, settings.dense_mass) or (
            "PyMC's sampler takes no warm start" if settings.backend == "pymc" else None
        )
        warm = None if refused else warm
    if settings.backend == "pymc":
        idata, record = pymc_sample(model, settings, clock, progressbar)
    else:
        potential = Potential.of(potential or get_jaxified_logp(model, negative_logp=False))
        idata, record = numpyro_sample(model, settings, clock, potential, warm, progressbar)
    if refused:
        record["warm_start_refused"] = refused
    idata.sample_stats.attrs["initialization"] = json.dumps(record)
    timing = clock.seconds
    if settings.backend == "pymc":  # JAX compiled nothing; PyTensor's compiling is not split
        timing = {k: v for k, v in timing.items() if not k.endswith("_compile_s")}
    idata.sample_stats.attrs["timing"] = json.dumps(timing)
    return idata


def numpyro_sample(
    model: pm.Model,
    settings: SamplerSettings,
    clock: PhaseClock,
    potential: Potential,
    warm: WarmStart | None,
    progressbar: bool,
) -> tuple[az.InferenceData, dict]:
    """NumPyro's NUTS on ``potential`` from a warm start, the searched starts or PyMC's
    jittered initial point (PyMC's ``pm.sample`` would first assign PyMC step methods and
    build a PyTensor gradient it never uses). Returns the draws and how chains started."""
    nuts_kwargs: dict = {"dense_mass": settings.dense_mass}
    starts = None
    record: dict = {"map_starts": 0, "jitter": True}
    if warm is not None:
        record = {"warm_start_from": warm.source_fit, "jitter": False, "map_starts": 0}
        nuts_kwargs.update(warm_start_options(warm, settings))
    elif settings.map_starts > 0:
        with clock.phase("start_search"):
            starts = chain_starts(
                model, settings.chains, settings.map_starts, settings.seed, potential=potential
            )
        record = {**starts.record, "jitter": False}
        nuts_kwargs.update(searched_start_options(starts, settings))
    with model, clock.phase("nuts"):
        if warm is not None:
            init, tune = warm.init_params(settings.chains), settings.warm_tune
        else:
            init, tune = start_params(model, settings, starts), settings.tune
        idata = numpyro_nuts(model, settings, potential, init, tune, nuts_kwargs, progressbar)
    return idata, record


def pymc_sample(
    model: pm.Model, settings: SamplerSettings, clock: PhaseClock, progressbar: bool
) -> tuple[az.InferenceData, dict]:
    """PyMC's own sampler, the fallback and the benchmark's baseline: the start search on
    PyTensor, then ``pm.sample`` (jittered starts when there was no search)."""
    record: dict = {"map_starts": 0, "jitter": True}
    initvals = {}
    if settings.map_starts > 0:
        with clock.phase("start_search"):
            starts = chain_starts(model, settings.chains, settings.map_starts, settings.seed)
        record = {**starts.record, "jitter": False}
        initvals = {"initvals": starts.inits}
    adapt = "adapt_full" if settings.dense_mass else "adapt_diag"
    with model, clock.phase("nuts"):
        idata = pm.sample(
            draws=settings.draws,
            tune=settings.tune,
            chains=settings.chains,
            random_seed=settings.seed,
            target_accept=settings.target_accept,
            progressbar=progressbar,
            compute_convergence_checks=False,
            cores=min(settings.chains, 2),
            init=("jitter+" if record["jitter"] else "") + adapt,
            **initvals,
        )
    return idata, record


#: NumPyro's per-draw statistics, under the names PyMC and ArviZ use.
NUMPYRO_STATS = {
    "potential_energy": "lp",
    "adapt_state.step_size": "step_size",
    "num_steps": "n_steps",
    "accept_prob": "acceptance_rate",
    "diverging": "diverging",
    "energy": "energy",
}


def numpyro_nuts(
    model: pm.Model,
    settings: SamplerSettings,
    potential: Potential,
    init: ParamInfo | list[np.ndarray],
    tune: int,
    nuts_kwargs: dict,
    progressbar: bool,
) -> az.InferenceData:
    """NUTS by NumPyro's public functional API (``hmc`` and ``fori_collect``) on
    ``potential`` (-log p over ``model.value_vars``).

    Why not NumPyro's ``MCMC``: it puts the data, the starting step size and mass matrix
    into the compiled program as constants, so every refit on new data compiles it again
    (~9 s of a refit here). Here one program runs a whole chain (warm-up and draws) and
    takes all of them as arguments; with the data's shapes rounded up
    (:func:`model.inference.jax_density.program_data`) a refit on a few more weeks builds the same
    program and JAX's persistent cache serves it. Chains run in parallel, one per JAX
    host device ("vectorized" chains in lockstep measured 2.4x slower on 2 cores).

    Chains start at the search's points with -log p and its gradient there (a
    ``ParamInfo``), so the program does not hold a second copy of the gradient to evaluate
    them; without a search, at PyMC's jittered initial points. The draws are mapped back to
    the model's variables (constrained values and deterministics) by PyMC's own JAX
    translation of those expressions. The chains' last state is kept in a ``warm_start``
    group for a later refit (:class:`WarmStart`).
    """
    chains, draws = settings.chains, settings.draws
    options = dict(nuts_kwargs)
    inverse_mass = options.pop("inverse_mass_matrix", None)
    step_size = jnp.asarray(options.pop("step_size", 1.0), dtype=float)
    positions = FlatPositions.of_chains(init.z if isinstance(init, ParamInfo) else init)
    init = positions.flat_init(init)
    program = chain_program(positions.potential(potential), settings, tune, options)
    if progressbar:
        print(f"NUTS: {chains} chains x ({tune} warm-up + {draws} draws) ...", flush=True)
    keys = jax.random.split(jax.random.PRNGKey(settings.seed), chains)
    per_program = min(chains, jax.local_device_count())
    shared = (inverse_mass, step_size, potential.data)
    runs = []
    for a in range(0, chains, per_program):
        n = min(per_program, chains - a)
        # every argument has a chain axis: pmap's unmapped arguments (in_axes None) lose
        # their place when one of them is an empty pytree (the data of a potential
        # without data, {}), and the chains then get wrong slices
        copies = jax.tree.map(lambda x, n=n: np.broadcast_to(x, (n, *np.shape(x))), shared)
        starts = jax.tree.map(lambda x, a=a, n=n: x[a : a + n], init)
        runs.append(program(keys[a : a + n], starts, *copies))
    (z, extra), last_state = jax.tree.map(lambda *xs: np.concatenate(xs), *runs)
    return inference_data(model, positions, z, extra, last_state)


def inference_data(
    model: pm.Model, positions: FlatPositions, z: np.ndarray, extra: list, last_state: HMCState
) -> az.InferenceData:
    """The chains' flat draws as the model's variables (constrained values and
    deterministics, by PyMC's own JAX translation), their per-draw statistics, and the
    last state as a ``warm_start`` group."""
    names = list(get_default_varnames(model.unobserved_value_vars, include_transformed=False))
    to_model = jax.jit(jax.vmap(jax.vmap(get_jaxified_graph(model.value_vars, names))))
    posterior = {
        v.name: np.asarray(r) for v, r in zip(names, to_model(*positions.parts(z)), strict=True)
    }
    stats = {name: np.asarray(v) for name, v in zip(NUMPYRO_STATS.values(), extra, strict=True)}
    stats["tree_depth"] = np.log2(stats["n_steps"]).astype(int) + 1
    coords, dims = coords_and_dims_for_inferencedata(model)
    idata = az.from_dict(posterior=posterior, sample_stats=stats, coords=coords, dims=dims)
    last_state = last_state._replace(z=positions.parts(last_state.z))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*group.*")  # ArviZ: a group of our own
        idata.add_groups(warm_start=warm_start_dataset(model, last_state))
    return idata


@dataclass(frozen=True)
class FlatPositions:
    """The value variables as one vector: NUTS moves a single array per chain.

    Why: NumPyro applies every step of its tree building (leapfrog, momentum, the
    proposals it keeps) to each leaf of the position's pytree, so XLA's program grows with
    the number of value variables; with the model's ~20 variables as one vector, NUTS's
    program compiles in 10-25% less time, the draws unchanged (``bench/bench_gradient.py``
    prints both forms' compile seconds). The vector is NumPyro's own ravelling of the list
    (value-variable order, each variable in C order), so a mass matrix adapted either way
    is the same matrix and a stored warm start serves both.
    """

    shapes: tuple[tuple[int, ...], ...]

    @classmethod
    def of_chains(cls, parts: list) -> FlatPositions:
        """The layout of per-variable arrays with a leading chain axis (the chains' starts:
        read off them, where the model's initial point would compile a function)."""
        return cls(tuple(np.shape(p)[1:] for p in parts))

    def flat(self, parts: list) -> np.ndarray:
        """Per-variable arrays with the same leading axes -> (*leading, n)."""
        lead = np.shape(parts[0])[: np.ndim(parts[0]) - len(self.shapes[0])]
        return np.concatenate([np.reshape(p, (*lead, -1)) for p in parts], axis=-1)

    def parts(self, flat) -> list:
        """(*leading, n) -> the per-variable arrays (NumPy or, inside a program, JAX)."""
        out, at = [], 0
        for shape in self.shapes:
            size = int(np.prod(shape))
            out.append(flat[..., at : at + size].reshape(*flat.shape[:-1], *shape))
            at += size
        return out

    def flat_init(self, init: ParamInfo | list[np.ndarray]) -> ParamInfo | np.ndarray:
        """The chains' starts (with the search's -log p and gradient, if any) as vectors."""
        if isinstance(init, ParamInfo):
            return ParamInfo(self.flat(init.z), init.potential_energy, self.flat(init.z_grad))
        return self.flat(init)

    def potential(self, potential: Potential) -> Potential:
        """``potential`` of the flat vector."""
        return Potential(
            lambda data, flat: potential.energy(data, self.parts(flat)), potential.data
        )


def chain_program(
    potential: Potential, settings: SamplerSettings, tune: int, options: dict
) -> Callable:
    """The compiled program that runs chains, one per JAX device: (PRNG keys, starts,
    inverse mass matrix, step size, data) -> ((draws, per-draw statistics), last state).

    Everything a refit changes is an argument (the data as ``potential.data``); what it
    keeps (the model, ``tune``, ``settings.draws`` and ``target_accept``, the NUTS
    ``options``: whether to adapt the mass matrix, dense or diagonal, the heuristic step
    size) shapes the program.
    """
    init_kernel, sample_kernel = hmc(
        potential_fn_gen=lambda data: partial(potential.energy, data), algo="NUTS"
    )

    def run_chain(key, start, inverse_mass, step_size, data):
        state = init_kernel(
            start,
            tune,
            step_size=step_size,
            inverse_mass_matrix=inverse_mass,
            target_accept_prob=settings.target_accept,
            model_args=(data,),
            rng_key=key,
            **options,
        )
        return fori_collect(
            tune,
            tune + settings.draws,
            lambda state: sample_kernel(state, model_args=(data,)),
            state,
            transform=lambda state: (state.z, [attrgetter(f)(state) for f in NUMPYRO_STATS]),
            progbar=False,
            return_last_val=True,
        )

    return jax.pmap(run_chain)


def start_params(
    model: pm.Model, settings: SamplerSettings, starts: ChainStarts | None
) -> ParamInfo | list[np.ndarray]:
    """Each chain's start in the unconstrained space (value-variable order, chains first):
    the search's optima with their -log p and gradient, or PyMC's jittered initial points."""
    if starts is None:
        point = make_initial_point_fn(
            model=model, jitter_rvs=set(model.free_RVs), return_transformed=True
        )
        seeds = np.random.default_rng(settings.seed).integers(2**30, size=settings.chains)
        points = [point(int(seed)) for seed in seeds]
        return [np.stack([p[v.name] for p in points]) for v in model.value_vars]
    z = [np.stack([p[v.name] for p in starts.points]) for v in model.value_vars]
    if starts.gradient is None:
        return z
    return ParamInfo(z, starts.potential_energy, starts.gradient)
