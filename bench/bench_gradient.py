"""Gradient benchmark: the project's density against a minimal stand-in, timed interleaved.

    python bench/bench_gradient.py [--repeats 9] [--calls 200]

What NUTS calls (value and gradient of -log p, compiled by JAX, inside a compiled loop as
in NUTS' tree building, so Python's dispatch cost is not counted), per call in
microseconds:

- ``project``: the full model density on the snapshot (priors, transforms, missing-driver
  moments, emissions, QE hazard, the scaled forward recursion), as ``fit.py`` samples it;
- ``project, log-space forward``: the same density with the log-space recursion
  (``tests.forward_oracles.loglik_scan``), the sampler's forward pass before the scaled one;
- ``reference``: the smallest model of the same shape written here, synthetic data
  (machinery only): 2-state HMM, logistic TVTP in 5 drivers, T = 1077, Student-t, normal and
  Bernoulli emissions, 24 parameters, float64, with the same scaled recursion;
- ``reference, the project's terms``: the stand-in with every per-week term the project
  has (missing weeks' flattened logits, two event kinds with onsets and continuations, the
  three-way stress-kind mixture, the QE hazard) but not the drivers' AR(1) and gap
  moments, written directly for this shape: the floor of those terms;
- where the project's time goes: the same gradient for growing parts of its density
  (priors and transforms; + the drivers' AR(1) with the gap moments; + log transitions and
  log emissions, summed; the full density adds the forward recursion).

All are timed in turns (round robin, ``--repeats`` rounds of ``--calls`` calls each) so
that the machine's load falls on all of them alike; medians and the ratio project /
reference are printed last. Target: project <= 1.5x the reference.

First, the seconds XLA takes to compile the two programs a cold refit compiles (the start
search's value and gradient, NUTS's chain program) for the project's density and the two
stand-ins, each in a fresh process with JAX's persistent cache off: the compile floor of a
model of this shape. The project's density is taken as NUTS and the search take it, over
one flat vector of the value variables, and also over the list of variables.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.inference.runtime import configure  # noqa: E402

N_WEEKS = 1077
N_DRIVERS = 5


def t_lpdf(y, mu, s, nu):
    """Student-t log density (the stand-in's funding emission)."""
    import jax.numpy as jnp
    from jax.scipy.special import gammaln

    zz = (y - mu) / s
    return (
        gammaln((nu + 1) / 2)
        - gammaln(nu / 2)
        - 0.5 * jnp.log(nu * jnp.pi)
        - jnp.log(s)
        - (nu + 1) / 2 * jnp.log1p(zz * zz / nu)
    )


def n_lpdf(y, mu, s):
    """Normal log density (the stand-in's MOVE emission)."""
    import jax.numpy as jnp

    return -0.5 * jnp.log(2 * jnp.pi) - jnp.log(s) - 0.5 * ((y - mu) / s) ** 2


def shared_parameters(theta):
    """The parameters both stand-ins read first: transition intercepts and coefficients,
    then the funding emission (mean, log scales, log nu) and the MOVE emission (mean, log
    scales)."""
    a, b = theta[:2], theta[2:12].reshape(2, N_DRIVERS)
    return a, b, theta[12], theta[13:15], theta[15], theta[16], theta[17:19]


def reference_potential():
    """A minimal stand-in of the model's shape; returns (potential, initial params)."""
    import jax
    import jax.numpy as jnp

    from model.equations.hmm import loglik_scaled

    rng = jax.random.PRNGKey(0)
    k1, k2, k3, k4 = jax.random.split(rng, 4)
    x = jax.random.normal(k1, (N_WEEKS, N_DRIVERS))
    f = jax.random.normal(k2, (N_WEEKS,))
    m = 4.4 + 0.2 * jax.random.normal(k3, (N_WEEKS,))
    e = (jax.random.uniform(k4, (N_WEEKS,)) < 0.02).astype(float)

    def potential(theta):
        a, b, mu_f, log_sf, log_nu, mu_m, log_sm = shared_parameters(theta)
        logit_q, shift_f, shift_m = theta[19:21], theta[21], theta[22]
        z = a[:, None] + b @ x[:-1].T  # (2, T-1): logit P(stress_t | s_t-1 = j)
        ls = -jax.nn.softplus(-z)
        lc = ls - z
        log_trans = jnp.stack([lc.T, ls.T], axis=-1)  # (T-1, 2, 2)
        nu = jnp.exp(log_nu)

        q = jax.nn.sigmoid(logit_q)
        sf, sm = jnp.exp(log_sf), jnp.exp(log_sm)
        calm = (
            t_lpdf(f, mu_f, sf[0], nu)
            + n_lpdf(m, mu_m, sm[0])
            + e * jnp.log(q[0])
            + (1 - e) * jnp.log1p(-q[0])
        )
        stress = (
            t_lpdf(f, mu_f + shift_f, sf[1], nu)
            + n_lpdf(m, mu_m + shift_m, sm[1])
            + e * jnp.log(q[1])
            + (1 - e) * jnp.log1p(-q[1])
        )
        log_emis = jnp.stack([calm, stress], -1)
        loglik = loglik_scaled(jnp.log(jnp.array([0.9, 0.1])), log_trans, log_emis)
        return -(loglik - 0.5 * jnp.sum(theta**2))

    theta = jnp.zeros(24).at[0].set(-4.0).at[1].set(3.0).at[16].set(4.4).at[15].set(2.0)
    return potential, theta


def same_terms_data():
    """Synthetic arrays of the project's shape for :func:`reference_same_terms` (machinery
    only): drivers with ~12% missing cells, the two observables, two event kinds with their
    at-risk weeks, and QE at-risk and restart weeks."""
    import jax
    import jax.numpy as jnp

    keys = jax.random.split(jax.random.PRNGKey(1), 8)
    x = jax.random.normal(keys[0], (N_WEEKS, N_DRIVERS))
    x_var = jnp.where(jax.random.uniform(keys[1], x.shape) < 0.12, 0.3, 0.0)
    f = jax.random.normal(keys[2], (N_WEEKS,))
    m = 4.4 + 0.2 * jax.random.normal(keys[3], (N_WEEKS,))
    events = (jax.random.uniform(keys[4], (N_WEEKS, 2)) < 0.03).astype(float)
    at_risk_event = 1.0 - jnp.concatenate([jnp.zeros((1, 2)), events[:-1]])
    qe_at_risk = (jax.random.uniform(keys[5], (N_WEEKS,)) < 0.6).astype(float)
    restart = qe_at_risk * (jax.random.uniform(keys[6], (N_WEEKS,)) < 0.01)
    return x, x_var, f, m, events, at_risk_event, qe_at_risk, restart


def reference_same_terms():
    """A minimal stand-in with every per-week term the project has: the transitions' logits
    flattened where a driver week is missing (its variance), two event kinds whose onsets
    are at risk only after a quiet week and whose continuations have their own rate, the
    three-way stress-kind mixture, and the QE hazard on at-risk weeks. Written directly in
    ``jax.numpy`` for this shape, synthetic data; returns (potential, initial params)."""
    import jax
    import jax.numpy as jnp

    from model.equations.hmm import loglik_scaled

    x, x_var, f, m, events, at_risk_event, qe_at_risk, restart = same_terms_data()
    xl, vl = x[:-1], x_var[:-1]  # the drivers of the week before
    probit = jnp.pi / 8

    def log_bern(e, p):
        return e * jnp.log(p) + (1 - e) * jnp.log1p(-p)

    def potential(theta):
        a, b, mu_f, log_sf, log_nu, mu_m, log_sm = shared_parameters(theta)
        shift_f, shift_m = theta[19], theta[20]
        eps, hit, cont = (jax.nn.sigmoid(theta[i : i + 2]) for i in (21, 23, 25))
        log_w = jax.nn.log_softmax(theta[27:30])
        c0, c_stress, c = theta[30], theta[31], theta[32:37]
        z = (a[:, None] + b @ xl.T) / jnp.sqrt(1 + probit * ((b * b) @ vl.T))
        ls = -jax.nn.softplus(-z)
        log_trans = jnp.stack([(ls - z).T, ls.T], axis=-1)
        nu, sf, sm = jnp.exp(log_nu), jnp.exp(log_sf), jnp.exp(log_sm)
        f0, f1 = t_lpdf(f, mu_f, sf[0], nu), t_lpdf(f, mu_f + shift_f, sf[1], nu)
        m0, m1 = n_lpdf(m, mu_m, sm[0]), n_lpdf(m, mu_m + shift_m, sm[1])
        calm_ev = at_risk_event * log_bern(events, eps)
        hit_ev = at_risk_event * log_bern(events, hit)
        going = ((1 - at_risk_event) * log_bern(events, cont)).sum(-1)
        calm = f0 + m0 + calm_ev.sum(-1)
        kinds = jnp.stack(
            [
                log_w[0] + f1 + m0 + hit_ev[:, 0] + calm_ev[:, 1],
                log_w[1] + f0 + m1 + calm_ev[:, 0] + hit_ev[:, 1],
                log_w[2] + f1 + m1 + hit_ev.sum(-1),
            ]
        )
        stress = jax.nn.logsumexp(kinds, axis=0)
        base = c0 + jnp.concatenate([xl[:1], xl]) @ c
        spread = jnp.sqrt(1 + probit * (jnp.concatenate([vl[:1], vl]) @ (c * c)))
        qe = [
            qe_at_risk * (-jax.nn.softplus(-eta) - (1 - restart) * eta)
            for eta in (base / spread, (base + c_stress) / spread)
        ]
        log_emis = jnp.stack([calm + going + qe[0], stress + going + qe[1]], -1)
        loglik = loglik_scaled(jnp.log(jnp.array([0.9, 0.1])), log_trans, log_emis)
        return -(loglik - 0.5 * jnp.sum(theta**2))

    theta = jnp.zeros(37).at[0].set(-4.0).at[1].set(3.0).at[16].set(4.4).at[15].set(2.0)
    theta = theta.at[21:23].set(-4.0).at[23:25].set(-1.0).at[25:27].set(1.0).at[30].set(-5.0)
    return potential, theta


def project_densities() -> tuple[dict, list]:
    """The model's potential on the snapshot with both forward passes, and growing parts
    of it (see the module's docstring), at the model's initial point."""
    import jax.numpy as jnp

    from data.panel import build_panel
    from data.sources import resolve_source
    from model.equations.build import build_model
    from model.equations.config import ModelConfig
    from model.equations.hmm import loglik_scaled
    from model.equations.inputs import model_inputs
    from model.equations.likelihood import regime_inputs
    from model.equations.missing import driver_matrices, observed_logpdf
    from model.inference.jax_density import (
        JX,
        Potential,
        jax_potential,
        layout_of,
        prior_and_parameters_fn,
    )
    from tests.forward_oracles import loglik_scan

    config = ModelConfig()
    inputs = model_inputs(build_panel(resolve_source(None), start=config.start), config)
    model = build_model(inputs, config)
    point = model.initial_point()
    values = [jnp.asarray(point[v.name]) for v in model.value_vars]
    prior_and_parameters = prior_and_parameters_fn(model)
    project = jax_potential(model, inputs, config, loglik_scaled)

    def priors(data, values):
        return -prior_and_parameters(values)[0]

    def with_drivers(data, values):
        log_prior, p = prior_and_parameters(values)
        ar = (p["ar_mu"], p["ar_phi"], p["ar_sigma"])
        layout = layout_of(data["layout"])
        x, x_var = driver_matrices(JX, layout, *ar)
        return -(log_prior + observed_logpdf(JX, layout, *ar) + x.sum() + x_var.sum())

    def with_emissions(data, values):
        log_prior, p = prior_and_parameters(values)
        ar_logp, log_trans, log_emis = regime_inputs(JX, layout_of(data["layout"]), data["obs"], p)
        return -(log_prior + ar_logp + log_trans.sum() + log_emis.sum())

    densities = {
        "project": project,
        "project, data as constants": Potential.without_data(project),
        "project, log-space forward": jax_potential(model, inputs, config, loglik_scan),
        "  part: priors and transforms": Potential(priors, project.data),
        "  part: + drivers, gap moments": Potential(with_drivers, project.data),
        "  part: + transitions, emissions": Potential(with_emissions, project.data),
    }
    return densities, values


def looped(potential, calls: int):
    """``calls`` evaluations of value and gradient inside one compiled loop, each at a
    point nudged by the previous gradient (so none can be skipped or hoisted); the data
    are the program's argument, as in NUTS (:class:`model.inference.jax_density.Potential`)."""
    import jax

    value_and_grad = jax.value_and_grad(potential.energy, argnums=1)

    def loop(x, data):
        def body(_, carry):
            x, total = carry
            value, grad = value_and_grad(data, x)
            return jax.tree.map(lambda a, g: a - 1e-12 * g, x, grad), total + value

        return jax.lax.fori_loop(0, calls, body, (x, 0.0))

    compiled = jax.jit(loop)
    return lambda x: compiled(x, potential.data)


def compile_seconds(potential, start) -> tuple[float, float]:
    """Seconds XLA takes to compile the two programs a cold refit compiles for this
    density: the start search's value and gradient, and NUTS's chain program
    (:func:`model.inference.sampling.chain_program`, four chains, the production warm-up
    and draws, the options a searched start gives). Ahead of time, nothing run."""
    import jax
    import jax.numpy as jnp
    from numpyro.infer.util import ParamInfo

    from model.inference.sampling import chain_program
    from model.inference.settings import SamplerSettings

    started = time.perf_counter()
    search = jax.jit(jax.value_and_grad(potential.energy, argnums=1))
    compiled_search = search.lower(potential.data, start).compile()
    search_seconds = time.perf_counter() - started
    # chains start from the search's point with its -log p and gradient, as in a refit
    start = ParamInfo(start, *compiled_search(potential.data, start))
    settings = SamplerSettings()
    options = {"dense_mass": False, "find_heuristic_step_size": False}
    started = time.perf_counter()
    nuts = chain_program(potential, settings, settings.tune, options)
    n_values = sum(jnp.size(z) for z in jax.tree.leaves(start.z))
    per_chain = (start, jnp.ones(n_values), jnp.asarray(0.1), potential.data)
    chains = min(settings.chains, jax.local_device_count())
    nuts.lower(
        jax.random.split(jax.random.PRNGKey(0), chains),
        *jax.tree.map(lambda x: jnp.stack([x] * chains), per_chain),
    ).compile()
    return search_seconds, time.perf_counter() - started


#: The densities whose refit programs are compiled, each in a process of its own.
COMPILE_SUBJECTS = (
    "project",
    "project, the variables one by one",
    "reference, the project's terms",
    "reference (minimal stand-in)",
)


def compile_subject(name: str):
    """(potential, start) of one of :data:`COMPILE_SUBJECTS`: the project's density over
    one flat vector as NUTS takes it, or over the list of value variables (the form NUTS
    took before), or a stand-in."""
    import jax.numpy as jnp
    import numpy as np

    from model.inference.jax_density import Potential
    from model.inference.sampling import FlatPositions

    if name.startswith("reference"):
        make = reference_same_terms if "terms" in name else reference_potential
        potential, theta = make()
        return Potential.without_data(potential), theta
    densities, values = project_densities()
    if name == "project, the variables one by one":
        return densities["project"], values
    positions = FlatPositions(tuple(np.shape(v) for v in values))
    flat = jnp.asarray(positions.flat([np.asarray(v) for v in values]))
    return positions.potential(densities["project"]), flat


def print_compile_seconds() -> None:
    """Each subject's two refit programs compiled in a fresh process (a process that has
    traced a density before compiles it again faster than a refit does), with JAX's
    persistent cache off."""
    import json
    import subprocess

    print("compiling a cold refit's two programs, seconds (each in a fresh process, no cache)")
    print(f"  {'':<34} {'search':>7} {'NUTS':>7} {'both':>7}")
    for name in COMPILE_SUBJECTS:
        child = subprocess.run(
            [sys.executable, __file__, "--compile-one", name],
            capture_output=True,
            text=True,
            check=True,
        )
        search, nuts = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"  {name:<34} {search:7.1f} {nuts:7.1f} {search + nuts:7.1f}")


def compile_one(name: str) -> None:
    import json

    import jax

    jax.config.update("jax_enable_compilation_cache", False)
    print(json.dumps(compile_seconds(*compile_subject(name))))


def interleaved_microseconds(subjects: dict, repeats: int, calls: int) -> dict[str, list]:
    """Microseconds per call of each subject's compiled loop, timed in turns (round robin)
    so that the machine's load falls on all of them alike; compiled before the clock."""
    import jax

    for fn, x in subjects.values():
        jax.block_until_ready(fn(x))
    times: dict[str, list[float]] = {name: [] for name in subjects}
    for _ in range(repeats):
        for name, (fn, x) in subjects.items():
            started = time.perf_counter()
            jax.block_until_ready(fn(x))
            times[name].append(1e6 * (time.perf_counter() - started) / calls)
    return times


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--repeats", type=int, default=9, help="rounds of timing (default 9)")
    p.add_argument("--calls", type=int, default=200, help="calls per round (default 200)")
    p.add_argument("--compile-one", choices=COMPILE_SUBJECTS, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    configure()
    import jax
    import numpy as np

    from model.inference.jax_density import Potential
    from model.inference.sampling import FlatPositions

    if args.compile_one:
        compile_one(args.compile_one)
        return 0
    print_compile_seconds()
    densities, values = project_densities()
    # as NUTS and the start search see it: the value variables as one vector
    positions = FlatPositions(tuple(np.shape(v) for v in values))
    densities = {name: positions.potential(d) for name, d in densities.items()}
    values = jax.numpy.asarray(positions.flat([np.asarray(v) for v in values]))
    reference, theta = reference_potential()
    same_terms, theta_same = reference_same_terms()
    subjects = {name: (looped(f, args.calls), values) for name, f in densities.items()}
    subjects["reference (minimal stand-in)"] = (
        looped(Potential.without_data(reference), args.calls),
        theta,
    )
    subjects["reference, the project's terms"] = (
        looped(Potential.without_data(same_terms), args.calls),
        theta_same,
    )
    times = interleaved_microseconds(subjects, args.repeats, args.calls)
    print(
        f"value + gradient, microseconds per call, inside a compiled loop "
        f"({args.repeats} rounds x {args.calls} calls)"
    )
    for name, t in times.items():
        print(f"  {name:<34} median {np.median(t):7.0f}   min {min(t):7.0f}   max {max(t):7.0f}")
    ref = np.median(times["reference (minimal stand-in)"])
    print(
        f"ratio log-space project / reference: "
        f"{np.median(times['project, log-space forward']) / ref:.2f}x"
    )
    print(f"ratio project / reference: {np.median(times['project']) / ref:.2f}x (target <= 1.5x)")
    same = np.median(times["reference, the project's terms"])
    print(
        f"ratio project / reference with the project's terms: "
        f"{np.median(times['project']) / same:.2f}x (the floor of those terms: "
        f"{same / ref:.2f}x the minimal stand-in)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
