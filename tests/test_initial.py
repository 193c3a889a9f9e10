"""Chains start in the dominant mode: the multi-start search drops inferior local optima."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest
from pymc.sampling.jax import get_jaxified_logp

from model.inference.initial import (
    MIN_MASS_RATIO,
    chain_starts,
    constrained,
    local_optima,
    start_points,
)


def jax_optima(model: pm.Model, **kwargs) -> list:
    """The search as a NumPyro fit runs it: on the model's density compiled by JAX."""
    return local_optima(model, potential=get_jaxified_logp(model, negative_logp=False), **kwargs)


def jax_chain_starts(model: pm.Model, **kwargs):
    return chain_starts(model, potential=get_jaxified_logp(model, negative_logp=False), **kwargs)


def two_mode_model() -> pm.Model:
    """x: a minor mode at -1 (30 nats lower) and the dominant one at +4; s > 0.

    PyMC's jitter starts x in [-1, 1]: left of about 0 the minor mode's basin, right of it
    the dominant one's, so a plain jittered start can land in either.
    """
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 10.0)
        s = pm.HalfNormal("s", 1.0)
        minor = -30.0 - 0.5 * ((x + 1.0) / 0.3) ** 2
        major = -0.5 * ((x - 4.0) / 0.5) ** 2
        pm.Potential("modes", pt.logaddexp(minor, major))
        pm.Normal("y", 0.0, s, observed=np.array([0.3, -0.2, 0.5]))
    return model


def test_local_optima_find_both_modes_and_rank_them():
    optima = jax_optima(two_mode_model(), n_starts=12, seed=0)
    xs = np.array([float(o.point["x"]) for o in optima])
    assert np.any(np.abs(xs - 4.0) < 0.1) and np.any(np.abs(xs + 1.0) < 0.1)
    assert abs(float(optima[0].point["x"]) - 4.0) < 0.1  # best first
    assert optima[0].log_density - optima[-1].log_density > 25


def test_every_chain_starts_in_the_dominant_mode():
    model = two_mode_model()
    starts = jax_chain_starts(model, chains=4, n_starts=12, seed=0)
    inits, record = starts.inits, starts.record
    assert len(inits) == 4
    assert all(abs(float(i["x"]) - 4.0) < 0.1 for i in inits)
    assert record["n_kept"] < record["n_starts"]  # the minor-mode optima were dropped
    masses = [m for m in record["log_mass_of_optima"] if m is not None]
    kept = [m for m in masses if m >= max(masses) + np.log(MIN_MASS_RATIO)]
    assert len(kept) == record["n_kept"]
    # constrained space: the scale comes back positive (log transform undone)
    assert all(float(i["s"]) > 0 for i in inits)


def test_constrained_undoes_the_transform():
    model = two_mode_model()
    point = model.initial_point()
    point["s_log__"] = np.array(np.log(0.7))
    assert float(constrained(model, [point])[0]["s"]) == pytest.approx(0.7)


def test_constrained_matches_pymcs_own_initial_point_for_every_transform():
    """log, log-odds and simplex transforms: the jittered point PyMC draws in the
    unconstrained space must come back as the same point PyMC draws in the constrained one."""
    from pymc.initial_point import make_initial_point_fn

    with pm.Model() as model:
        pm.HalfNormal("scale", 1.0)
        pm.Beta("rate", 2.0, 5.0, shape=2)
        pm.Dirichlet("weights", a=np.ones(3))
        pm.Normal("free", 0.0, 1.0)
    kwargs = dict(model=model, jitter_rvs=set(model.free_RVs))
    unconstrained = make_initial_point_fn(return_transformed=True, **kwargs)(3)
    want = make_initial_point_fn(return_transformed=False, **kwargs)(3)
    got = constrained(model, [unconstrained])[0]
    assert set(got) == set(want)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-10)


def test_laplace_variances_at_the_dominant_mode():
    """x's mode is N(4, 0.5^2) times a N(0, 10^2) prior: variance 1 / (1/0.25 + 1/100)."""
    starts = jax_chain_starts(two_mode_model(), chains=2, n_starts=12, seed=0)
    record, inverse_mass = starts.record, starts.inverse_mass
    assert record["laplace_mass_matrix"]
    assert inverse_mass[0] == pytest.approx(1 / (1 / 0.25 + 1 / 100), rel=1e-3)
    assert inverse_mass[1] > 0  # log s: the HalfNormal's scale


def test_a_nearby_but_narrow_mode_is_not_a_start():
    """Two modes 3 nats apart in height; the lower one is 20x narrower, so it holds
    ~e^-3 / 20 = 0.25% of the mass: chains must not start there, though its density is
    close (a fixed log-density tolerance would have kept it)."""
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 10.0)
        wide = -0.5 * ((x - 4.0) / 1.0) ** 2
        narrow = -3.0 - 0.5 * ((x + 0.5) / 0.05) ** 2
        pm.Potential("modes", pt.logaddexp(wide, narrow))
    optima = jax_optima(model, n_starts=40, seed=0)
    assert any(abs(float(o.point["x"]) + 0.5) < 0.01 for o in optima)  # the search finds it
    inits = jax_chain_starts(model, chains=4, n_starts=40, seed=0).inits
    assert all(abs(float(i["x"]) - 4.0) < 0.1 for i in inits)


def far_mode_model() -> pm.Model:
    """x ~ N(0, 10): a minor mode at 0 (~40 nats lower) whose basin holds every jittered
    start (x in [-1, 1]), and the dominant one near 15 (at 15 / (1 + 1/100) = 14.85 with
    the prior), reachable only from far out in the prior."""
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 10.0)
        minor = -40.0 - 0.5 * x**2
        major = -0.5 * (x - 15.0) ** 2
        pm.Potential("modes", pt.logaddexp(minor, major))
    return model


def test_half_the_starts_are_prior_draws_and_they_are_seeded():
    model = far_mode_model()
    points = start_points(model, n_starts=9, seed=3)
    assert [kind for kind, _ in points] == ["jitter"] * 5 + ["prior"] * 4
    jittered = np.array([float(p["x"]) for kind, p in points if kind == "jitter"])
    drawn = np.array([float(p["x"]) for kind, p in points if kind == "prior"])
    assert np.all(np.abs(jittered) <= 1.0)  # U(-1, 1) around the prior's centre
    assert np.max(np.abs(drawn)) > 1.0  # N(0, 10) draws reach further
    again = start_points(model, n_starts=9, seed=3)
    assert all(float(a["x"]) == float(b["x"]) for (_, a), (_, b) in zip(points, again, strict=True))


def test_prior_draws_find_a_mode_the_jittered_starts_cannot_reach():
    model = far_mode_model()
    optima = jax_optima(model, n_starts=16, seed=0)
    at_major = [o for o in optima if abs(float(o.point["x"]) - 14.85) < 0.01]
    assert at_major and all(o.kind == "prior" for o in at_major)
    assert all(abs(float(o.point["x"])) < 0.1 for o in optima if o.kind == "jitter")
    starts = jax_chain_starts(model, chains=4, n_starts=16, seed=0)
    inits, record = starts.inits, starts.record
    assert all(abs(float(i["x"]) - 14.85) < 0.01 for i in inits)
    assert record["start_kind_of_optima"][0] == "prior"


def test_one_hessian_per_distinct_optimum_and_it_is_each_ones_own(monkeypatch):
    """Starts that end at the same optimum share its Hessian: one computation per distinct
    optimum, and the shared covariance equals what each optimum's own would be."""
    import model.inference.initial as initial

    calls = []
    original = initial.laplace_covariance

    def counting(gradient, flat):
        calls.append(flat.copy())
        return original(gradient, flat)

    monkeypatch.setattr(initial, "laplace_covariance", counting)
    optima = jax_optima(two_mode_model(), n_starts=12, seed=0)
    distinct = {round(float(o.point["x"]), 2) for o in optima}
    assert len(distinct) == 2 < len(optima)
    assert len(calls) == len(distinct)
    assert sum(not o.shares_hessian for o in optima) == len(distinct)
    monkeypatch.setattr(initial, "laplace_covariance", original)
    own = jax_optima(two_mode_model(), n_starts=12, seed=0)
    for shared, alone in zip(optima, own, strict=True):
        np.testing.assert_allclose(shared.covariance, alone.covariance, rtol=1e-3)


def test_optima_of_equal_height_in_different_places_each_get_their_own_hessian():
    """Two modes whose peak densities differ by 0.005 nats (so density alone cannot tell
    them apart) but whose widths are 0.5 and 0.4: each must carry its own curvature, not
    its twin's. With the N(0, 3^2) prior each mode's variance is 1 / (1 / w^2 + 1 / 9)."""
    from model.inference.initial import SAME_DENSITY

    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 3.0)
        pm.Potential(
            "modes", pt.logaddexp(-0.5 * ((x - 3.0) / 0.5) ** 2, -0.5 * ((x + 3.0) / 0.4) ** 2)
        )
    optima = jax_optima(model, n_starts=16, seed=1)
    by_side = {np.sign(float(o.point["x"])): o for o in optima}
    assert set(by_side) == {-1.0, 1.0}
    assert abs(by_side[1.0].log_density - by_side[-1.0].log_density) < SAME_DENSITY
    for side, width in ((1.0, 0.5), (-1.0, 0.4)):
        want = 1 / (1 / width**2 + 1 / 9)
        assert all(
            o.covariance[0, 0] == pytest.approx(want, rel=1e-3)
            for o in optima
            if np.sign(float(o.point["x"])) == side
        )


def test_without_a_positive_definite_hessian_the_chains_start_at_the_best_density(monkeypatch):
    """If no optimum has a positive-definite Hessian (none is a clean maximum), there is no
    Laplace mass: the best log density decides alone, every chain starts there, and NUTS
    gets no mass matrix from the search (its own adaptation starts from the identity)."""
    import model.inference.initial

    monkeypatch.setattr(model.inference.initial, "laplace_covariance", lambda gradient, flat: None)
    starts = jax_chain_starts(two_mode_model(), chains=3, n_starts=12, seed=0)
    inits, record, inverse_mass = starts.inits, starts.record, starts.inverse_mass
    assert inverse_mass is None and not record["laplace_mass_matrix"]
    assert record["log_mass_of_optima"] == [None] * 12
    assert record["n_kept"] == 1 and len(inits) == 3
    assert all(abs(float(i["x"]) - 4.0) < 0.1 for i in inits)  # the best density


def test_concurrent_searches_give_the_same_optima_as_one_at_a_time(monkeypatch):
    """On JAX the searches run on several threads sharing one compiled density; each must
    still be its own deterministic run (no state shared between concurrent L-BFGS-B runs)."""
    import model.inference.initial as initial

    model = two_mode_model()
    potential = get_jaxified_logp(model, negative_logp=False)
    monkeypatch.setattr(initial, "SEARCH_THREADS", 1)
    assert initial.jax_objective(potential, initial.Layout.of(model)).threads == 1
    serial = local_optima(model, n_starts=12, seed=3, potential=potential)
    monkeypatch.setattr(initial, "SEARCH_THREADS", 4)
    assert initial.jax_objective(potential, initial.Layout.of(model)).threads == 4
    concurrent = local_optima(model, n_starts=12, seed=3, potential=potential)
    assert [s.kind for s in serial] == [s.kind for s in concurrent]
    for a, b in zip(serial, concurrent, strict=True):
        assert a.log_density == b.log_density
        np.testing.assert_array_equal(a.point["x"], b.point["x"])
        np.testing.assert_array_equal(a.covariance, b.covariance)


def test_numpyro_fit_translates_the_model_to_jax_once(monkeypatch):
    """The start search and NumPyro's NUTS share one translated potential (the translation
    takes seconds on the full history); the draws still come from this model."""
    import pymc.sampling.jax as pymc_jax

    import model.inference.sampling as sampling

    calls = []
    original = pymc_jax.get_jaxified_logp

    def counting(m, negative_logp=True):
        calls.append(negative_logp)
        return original(m, negative_logp=negative_logp)

    monkeypatch.setattr(pymc_jax, "get_jaxified_logp", counting)
    monkeypatch.setattr(sampling, "get_jaxified_logp", counting)
    idata = sampling.sample(
        two_mode_model(),
        sampling.SamplerSettings(draws=200, tune=200, chains=2, seed=1, map_starts=6),
        progressbar=False,
    )
    assert calls == [False]
    assert abs(float(idata.posterior["x"].mean()) - 4.0) < 0.2


def test_numpyro_gets_the_true_value_and_gradient_at_each_chains_start(monkeypatch):
    """NumPyro is handed -log p and its gradient at the chains' starts from the search
    (so its program holds one copy of the gradient, not two). They must be the potential's
    own value and gradient at the very points PyMC's bridge passes, chain by chain and
    variable by variable; a wrong sign, order or chain would fail here."""
    import jax
    from numpyro.infer.util import ParamInfo

    import model.inference.sampling as sampling

    m = several_variables_model()
    received = []
    original = sampling.numpyro_nuts

    def spy(model, settings, potential, init, *args, **kwargs):
        received.append(init)
        return original(model, settings, potential, init, *args, **kwargs)

    monkeypatch.setattr(sampling, "numpyro_nuts", spy)
    sampling.sample(
        m,
        sampling.SamplerSettings(draws=20, tune=20, chains=3, seed=2, map_starts=4),
        progressbar=False,
    )
    (info,) = received
    assert isinstance(info, ParamInfo)
    potential = jax.jit(jax.value_and_grad(get_jaxified_logp(m, negative_logp=False)))
    for chain in range(3):
        z = [np.asarray(a[chain]) for a in info.z]
        want, want_grad = potential(z)
        assert float(info.potential_energy[chain]) == pytest.approx(float(want), rel=1e-9)
        for got, expected in zip(info.z_grad, want_grad, strict=True):
            np.testing.assert_allclose(got[chain], np.asarray(expected), rtol=1e-6, atol=1e-8)


def several_variables_model() -> pm.Model:
    """Vectors, a scalar and two transforms (log, logit), so that order, shape and sign of
    every block of the gradient matter."""
    with pm.Model() as m:
        v = pm.Normal("v", 1.0, 2.0, shape=3)
        s = pm.HalfNormal("s", 1.0)
        p = pm.Beta("p", 2.0, 5.0, shape=2)
        pm.Normal("y", v.sum() * p[0], s + p[1], observed=np.array([0.4, 1.3, -0.2]))
    return m


@pytest.mark.slow
def test_the_pytensor_search_sees_the_same_density_as_the_jax_one():
    """PyMC's sampler searches on PyTensor's compiled density, NumPyro's on JAX: at random
    unconstrained points both give the same -log p and gradient, and from the same starts
    they reach the same optima."""
    from model.inference.initial import Layout, jax_objective, pytensor_objective

    m = several_variables_model()
    potential = get_jaxified_logp(m, negative_logp=False)
    on_jax, on_pytensor = jax_objective(potential, Layout.of(m)), pytensor_objective(m)
    for flat in np.random.default_rng(0).normal(0.0, 1.0, size=(5, 6)):
        value, grad = on_pytensor.value_grad(flat)
        want, want_grad = on_jax.value_grad(flat)
        assert value == pytest.approx(want, rel=1e-10)
        np.testing.assert_allclose(grad, want_grad, rtol=1e-8, atol=1e-10)
    by_pytensor = local_optima(m, n_starts=4, seed=5)
    by_jax = local_optima(m, n_starts=4, seed=5, potential=potential)
    for a, b in zip(by_pytensor, by_jax, strict=True):
        assert a.log_density == pytest.approx(b.log_density, abs=1e-6)
        np.testing.assert_allclose(a.point["v"], b.point["v"], atol=1e-4)


@pytest.mark.slow
def test_pymc_fallback_never_starts_jax(tmp_path):
    """``--backend pymc`` is the fallback for when JAX fails, and PyMC forks its chain
    processes: in a fresh interpreter a PyMC fit with the start search must leave JAX's
    backends uninitialized (``jax._src.xla_bridge._backends``, JAX's private registry of
    started backends; ``pyproject.toml`` pins jax to 0.10.x), and JAX's "os.fork() ...
    deadlock" warning must not appear."""
    script = tmp_path / "fallback.py"
    script.write_text(
        "import numpy as np\n"
        "import pymc as pm\n"
        "import jax._src.xla_bridge as xla_bridge\n"
        "from model.inference.sampling import sample\n"
        "from model.inference.settings import SamplerSettings\n"
        "if __name__ == '__main__':\n"
        "    with pm.Model() as m:\n"
        "        x = pm.Normal('x', 0.0, 10.0)\n"
        "        pm.Normal('y', x, 1.0, observed=np.array([0.3, 1.1]))\n"
        "    idata = sample(m, SamplerSettings(draws=50, tune=50, chains=2, seed=1,\n"
        "                                      backend='pymc', map_starts=2),\n"
        "                   progressbar=False)\n"
        "    assert idata.posterior.sizes['chain'] == 2\n"
        "    print('jax backends initialized:', bool(xla_bridge._backends))\n"
        "    print('timing:', idata.sample_stats.attrs['timing'])\n"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "jax backends initialized: False" in done.stdout
    assert "os.fork()" not in done.stderr
    # JAX compiled nothing, so the record claims no JAX compile seconds
    assert '"nuts_s"' in done.stdout and "_compile_s" not in done.stdout
