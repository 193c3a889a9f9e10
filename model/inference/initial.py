"""Chain starting points and warm-up scales from the posterior's modes, before NUTS.

Why: the posterior can have separated modes. In the dominant one the stress regime is the
high-rate-volatility state; in another it is a funding-spread-volatility state, about 200
nats lower on the full history, so it holds no posterior mass worth the name, but a chain
started in its basin by PyMC's random jitter stays there (R-hat then fails). Each chain
therefore starts at its own local optimum found from a different start.

Which optima are kept is decided by their *Laplace mass*, log p(optimum) + 0.5 log det of
the inverse Hessian (the log of the Gaussian integral around it, up to a constant shared by
all): an optimum with under ``MIN_MASS_RATIO`` of the best one's mass is another mode, not
a start. A log-density gap alone is not enough: two optima a few nats apart in height can
differ by orders of magnitude in mass. R-hat across chains still checks that chains started
at kept optima agree after warm-up. What no rule here can fix is a search that misses the
dominant mode: the fit then passes the gate in the wrong mode.

Where the searches start (:func:`start_points`): half at PyMC's jittered initial point (the
priors' central values plus U(-1, 1) in the unconstrained space) and half at draws from the
prior. Jittered starts find the best mode where it lies near the priors' centre, prior draws
where it does not; neither kind alone is reliable on every data vintage, so both are used.
No count of starts is a guarantee; short histories (backtest origins) use more. The record
lists every optimum and the kind of start it came from.

The inverse Hessian at the best optimum also gives NUTS its starting diagonal mass matrix:
from the identity, NumPyro's first warm-up iterations take hundreds of leapfrog steps each.

The optimizer is SciPy's L-BFGS-B on the model's log density (value and gradient in one
call), in the unconstrained space NUTS also samples in: compiled by JAX when NUTS runs on
NumPyro, by PyTensor when it runs on PyMC's own sampler (which then never starts JAX).
The Hessian is central differences of that same compiled gradient (no second compilation).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import jax
import numpy as np
import pymc as pm
import pytensor
from pymc.initial_point import make_initial_point_fn
from scipy.optimize import minimize

from model.inference.jax_density import Potential

#: An optimum whose Laplace mass is below this fraction of the best one's is another mode.
MIN_MASS_RATIO = 0.01

#: Optimizer searches on JAX run concurrently, one thread per core.
SEARCH_THREADS = max(1, os.cpu_count() or 1)

#: What the optimizer sees where -log p or its gradient is not finite.
FAILED = 1e300

#: Correction pairs L-BFGS-B keeps (SciPy's default is 10). With 30 (of ~51 parameters) the
#: searches needed 27-30% fewer evaluations of -log p and reached the same best optimum
#: from as many starts (model 4.1, 32 starts, seed 20061, 2026-12-01: 2016-01 6620 -> 4802
#: evaluations, 16 -> 16 starts at the best; 2020-01 7890 -> 5492, 14 -> 14; 2022-01 7880
#: -> 5585, 19 -> 19; full history 9572 -> 6999, 17 -> 16).
LBFGS_MEMORY = 30

#: Central-difference step for the Hessian (unconstrained space, where scales are O(0.01-1)).
HESSIAN_STEP = 1e-5

#: Optima closer than this in log density may be one optimum found twice (then checked by
#: distance, :func:`attach_covariances`).
SAME_DENSITY = 0.5

#: Squared Mahalanobis distance within which two optima are one (0.1 posterior sd apart).
SAME_OPTIMUM_DISTANCE2 = 0.01


@dataclass
class Start:
    log_density: float
    point: dict[str, np.ndarray]  # unconstrained (value-variable) space
    converged: bool
    covariance: np.ndarray | None = None  # inverse Hessian of -log p, if positive definite
    kind: str = "jitter"  # where the search started: "jitter" or "prior"
    gradient: np.ndarray | None = None  # of -log p at ``point``, flat, value-variable order
    shares_hessian: bool = False  # covariance taken from the same optimum found earlier

    @property
    def log_mass(self) -> float:
        """Laplace log mass (up to a constant shared by all optima); -inf if not a maximum."""
        if self.covariance is None:
            return -np.inf
        return self.log_density + 0.5 * np.linalg.slogdet(self.covariance)[1]


def _flatten(point: dict, names: list[str]) -> np.ndarray:
    return np.concatenate([np.ravel(point[n]) for n in names]).astype(float)


def _unflatten(flat, names: list[str], shapes: list[tuple]) -> list:
    out, i = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        out.append(flat[i : i + size].reshape(shape))
        i += size
    return out


def start_points(model: pm.Model, n_starts: int, seed: int) -> list[tuple[str, dict]]:
    """``n_starts`` points in the unconstrained space, each with its kind: the first half
    (rounded up) jittered around the priors' central values, the rest drawn from the prior.
    Seeded: the same model, count and seed give the same points."""
    jittered = make_initial_point_fn(
        model=model, jitter_rvs=set(model.free_RVs), return_transformed=True
    )
    prior = make_initial_point_fn(
        model=model, jitter_rvs=set(), default_strategy="prior", return_transformed=True
    )
    n_jitter = (n_starts + 1) // 2
    return [("jitter", jittered(seed + i)) for i in range(n_jitter)] + [
        ("prior", prior(seed + i)) for i in range(n_starts - n_jitter)
    ]


@dataclass(frozen=True)
class Objective:
    """-log p and its gradient at a flat point of the unconstrained space (value-variable
    order), and how many searches may call it at once."""

    value_grad: Callable[[np.ndarray], tuple[float, np.ndarray]]
    threads: int


@dataclass(frozen=True)
class Layout:
    """How a flat point maps to the value variables: names and shapes in
    ``model.value_vars`` order, and the model's initial point (flat)."""

    names: list[str]
    shapes: list[tuple]
    initial: np.ndarray

    @classmethod
    def of(cls, model: pm.Model) -> Layout:
        names = [v.name for v in model.value_vars]
        point = model.initial_point()  # compiles a function: ~0.2-0.8 s on the full model
        return cls(names, [np.shape(point[n]) for n in names], _flatten(point, names))


def jax_objective(potential: Potential | Callable, layout: Layout) -> Objective:
    """``potential`` (-log p in JAX over the value variables, as NumPyro samples it) with its
    gradient, compiled once here, before the searches share it across threads. The data
    are the program's argument (:class:`model.inference.jax_density.Potential`), so a refit on a few
    more weeks finds it in JAX's persistent cache."""
    potential = Potential.of(potential)
    value_and_grad = jax.jit(
        jax.value_and_grad(
            lambda flat, data: potential.energy(data, _unflatten(flat, layout.names, layout.shapes))
        )
    )

    def value_grad(flat: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = value_and_grad(flat, potential.data)
        return float(value), np.asarray(grad, dtype=float)

    value_grad(layout.initial)
    return Objective(value_grad, SEARCH_THREADS)


def pytensor_objective(model: pm.Model) -> Objective:
    """-log p and its gradient compiled by PyTensor, PyMC's own backend: the search for
    PyMC's sampler, so that the fallback never starts JAX.

    Why: the fallback must work where JAX cannot start its backend (an XLA option set in
    :mod:`model` that a JAX release rejects aborts the process when the backend starts,
    not at import: checked with an unknown option on 2026-12-02; JAX must still be
    installed, since the package imports it), and PyMC runs its chains in
    forked processes, which JAX warns may deadlock once its threads run. It is the function
    PyMC's NUTS compiles (``logp_dlogp_function``, flat input in value-variable order), so
    the search sees the very density PyMC samples and PyMC's compilation finds the same C
    modules already built. One thread: a compiled PyTensor function keeps its own storage
    and is not safe to share.
    """
    log_p_and_gradient = model.logp_dlogp_function(grad_vars=model.value_vars, ravel_inputs=True)
    log_p_and_gradient.set_extra_values({})

    def value_grad(flat: np.ndarray) -> tuple[float, np.ndarray]:
        log_p, gradient = log_p_and_gradient(flat)
        return -float(log_p), -np.asarray(gradient, dtype=float)

    return Objective(value_grad, 1)


def local_optima(
    model: pm.Model,
    n_starts: int,
    seed: int,
    max_iter: int = 3000,
    potential: Callable | None = None,
) -> list[Start]:
    """L-BFGS from each of :func:`start_points`; sorted best first.

    ``potential`` is -log p in JAX over the value variables, if the caller samples with
    NumPyro (:func:`model.inference.jax_density.jax_potential`, or PyMC's ``get_jaxified_logp(model,
    negative_logp=False)``, which despite its argument's name returns the negative log
    density, NumPyro's potential energy). Without it the search runs on PyTensor's compiled
    density (:func:`pytensor_objective`) and JAX is never started.

    On JAX the searches are independent, so they run ``SEARCH_THREADS`` at a time (one
    thread per core; JAX releases the GIL while it computes). They share one compiled
    function: placing each thread on its own JAX device would compile it once per device
    (~5 s each). The results do not depend on the threading: each search is the same
    deterministic sequence of calls. Measured on the full history, 16 starts, two runs each
    (compilation included): 17.8 and 19.0 s on two threads against 21.1 and 21.2 s one at
    a time.
    """
    layout = Layout.of(model)
    names, shapes = layout.names, layout.shapes
    objective = pytensor_objective(model) if potential is None else jax_objective(potential, layout)

    def search(job: tuple[str, dict]) -> Start:
        kind, start = job

        def bounded(flat: np.ndarray) -> tuple[float, np.ndarray]:
            value, grad = objective.value_grad(flat)
            if not np.isfinite(value) or not np.isfinite(grad).all():
                return FAILED, np.zeros_like(flat)
            return value, grad

        result = minimize(
            bounded,
            _flatten(start, names),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": max_iter, "maxcor": LBFGS_MEMORY},
        )
        point = dict(zip(names, _unflatten(result.x, names, shapes), strict=True))
        # the gradient where the search ended, unless it ended where -log p is not finite
        # (the objective's stand-in value 1e300): NumPyro then computes its own
        gradient = np.asarray(result.jac, dtype=float) if result.fun < FAILED else None
        return Start(-float(result.fun), point, bool(result.success), kind=kind, gradient=gradient)

    def covariance_at(start: Start) -> np.ndarray | None:
        return laplace_covariance(
            lambda flat: objective.value_grad(flat)[1], _flatten(start.point, names)
        )

    with ThreadPoolExecutor(max_workers=objective.threads) as pool:
        starts = sorted(
            pool.map(search, start_points(model, n_starts, seed)), key=lambda s: -s.log_density
        )
        attach_covariances(starts, covariance_at, names, pool.map)
    return starts


def attach_covariances(
    optima: list[Start],
    covariance_at: Callable[[Start], np.ndarray | None],
    names: list[str],
    parallel_map: Callable = map,
) -> None:
    """Give every optimum its Laplace covariance, computing one Hessian per distinct optimum.

    Why: several starts usually end at the same optimum (on the full history 16 starts
    reach two), and each Hessian costs two gradient calls per parameter. Optima within
    ``SAME_DENSITY`` nats of each other are candidates for being one; the first of each
    such group (best first) gets its Hessian computed, and another member shares it only if
    it lies within a squared Mahalanobis distance ``SAME_OPTIMUM_DISTANCE2`` of it under
    that covariance (the quadratic model there, which the Laplace mass already trusts,
    puts it at most 0.5 x that many nats lower). A member that fails the check, or whose
    leader has no positive-definite Hessian, gets its own: sharing never replaces a
    computation that could come out differently at a point that is not the same optimum.
    """
    leaders: list[Start] = []
    for start in optima:
        if not any(abs(start.log_density - lead.log_density) <= SAME_DENSITY for lead in leaders):
            leaders.append(start)
    for lead, cov in zip(leaders, parallel_map(covariance_at, leaders), strict=True):
        lead.covariance = cov
    own = []
    for start in optima:
        if any(start is lead for lead in leaders):
            continue
        twin = next(
            (
                lead
                for lead in leaders
                if lead.covariance is not None
                and abs(start.log_density - lead.log_density) <= SAME_DENSITY
                and _distance2(start, lead, names) <= SAME_OPTIMUM_DISTANCE2
            ),
            None,
        )
        if twin is None:
            own.append(start)
        else:
            start.covariance, start.shares_hessian = twin.covariance, True
    for start, cov in zip(own, parallel_map(covariance_at, own), strict=True):
        start.covariance = cov


def _distance2(start: Start, lead: Start, names: list[str]) -> float:
    """Squared Mahalanobis distance between two optima under ``lead``'s covariance."""
    step = _flatten(start.point, names) - _flatten(lead.point, names)
    return float(step @ np.linalg.solve(lead.covariance, step))


def laplace_covariance(gradient, flat: np.ndarray) -> np.ndarray | None:
    """Inverse Hessian of -log p at an optimum (central differences of its gradient), or
    None where the Hessian is not finite or not positive definite (not a local maximum)."""
    columns = []
    for e in np.eye(len(flat)) * HESSIAN_STEP:
        columns.append((gradient(flat + e) - gradient(flat - e)) / (2 * HESSIAN_STEP))
    hessian = np.array(columns)
    hessian = 0.5 * (hessian + hessian.T)
    if not np.isfinite(hessian).all() or np.linalg.eigvalsh(hessian)[0] <= 0:
        return None
    return np.linalg.inv(hessian)


def constrained(
    model: pm.Model, points: list[dict[str, np.ndarray]]
) -> list[dict[str, np.ndarray]]:
    """Value-variable points -> values of the free random variables (what ``initvals`` takes).

    One function maps every value variable through its backward transform, compiled once
    for all points. ``FAST_COMPILE`` runs it in Python: evaluating each transform on its
    own compiled a C module per variable and chain (~13 x 4 compilations, 5-15 s per refit).
    """
    names = [rv.name for rv in model.free_RVs]
    to_values = pytensor.function(
        model.value_vars,
        model.replace_rvs_by_values(model.free_RVs),
        mode="FAST_COMPILE",
        on_unused_input="ignore",
    )
    out = []
    for point in points:
        values = to_values(*[point[v.name] for v in model.value_vars])
        out.append({n: np.asarray(v) for n, v in zip(names, values, strict=True)})
    return out


@dataclass
class ChainStarts:
    """Where each chain starts, and what the search knows there.

    ``inits``: one point per chain in the constrained space (what ``initvals`` takes);
    ``points``: the same in the unconstrained space NUTS samples in (value variables);
    ``record``: the search, for the fit's manifest; ``inverse_mass``: the Laplace variances
    at the best optimum (flat, value-variable order) for NUTS's initial diagonal mass
    matrix, or None if the best optimum's Hessian is not positive definite;
    ``potential_energy`` (chains,) and ``gradient`` (one array per value variable, chains
    first, in ``model.value_vars`` order): -log p and its gradient at each chain's start in
    the unconstrained space, as the search computed them, or None where one is not finite.
    """

    inits: list[dict]
    record: dict
    inverse_mass: np.ndarray | None
    points: list[dict[str, np.ndarray]]
    potential_energy: np.ndarray | None = None
    gradient: list[np.ndarray] | None = None


def chain_starts(
    model: pm.Model, chains: int, n_starts: int, seed: int, potential: Callable | None = None
) -> ChainStarts:
    """One starting point per chain, all in the kept modes (:class:`ChainStarts`)."""
    optima = local_optima(model, n_starts, seed, potential=potential)
    best = max(optima, key=lambda s: s.log_mass)
    if best.covariance is None:  # no optimum with a usable Hessian: density only
        best = optima[0]
        kept = [best]
    else:
        kept = [s for s in optima if s.log_mass >= best.log_mass + np.log(MIN_MASS_RATIO)]
    per_chain = [kept[i % len(kept)] for i in range(chains)]
    inits = constrained(model, [s.point for s in per_chain])
    record = {
        "n_starts": n_starts,
        "log_density_of_optima": [round(s.log_density, 1) for s in optima],
        "log_mass_of_optima": [
            round(s.log_mass, 1) if np.isfinite(s.log_mass) else None for s in optima
        ],
        "start_kind_of_optima": [s.kind for s in optima],
        "min_mass_ratio": MIN_MASS_RATIO,
        "n_kept": len(kept),
        "hessians_computed": sum(not s.shares_hessian for s in optima),
        "all_converged": all(s.converged for s in optima),
        "laplace_mass_matrix": best.covariance is not None,
    }
    inverse_mass = None if best.covariance is None else np.diag(best.covariance).copy()
    energy = np.array([-s.log_density for s in per_chain])
    if (
        not np.isfinite(energy).all()
        or any(s.gradient is None for s in per_chain)
        or not all(np.isfinite(s.gradient).all() for s in per_chain)
    ):
        return ChainStarts(inits, record, inverse_mass, [s.point for s in per_chain])
    names = [v.name for v in model.value_vars]
    shapes = [np.shape(best.point[n]) for n in names]
    by_chain = [_unflatten(s.gradient, names, shapes) for s in per_chain]
    gradient = [np.stack(parts) for parts in zip(*by_chain, strict=True)]
    return ChainStarts(inits, record, inverse_mass, [s.point for s in per_chain], energy, gradient)
