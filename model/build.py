"""The PyMC model: priors, latent drivers where data are missing, and the marginal likelihood.

Discrete regimes never appear as PyMC variables: they are summed out by the forward
algorithm (:func:`model.hmm.loglik_tree`), so NUTS sees a smooth posterior; filtered and
smoothed regime probabilities are recovered afterwards for every draw
(:mod:`model.posterior`).
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from model.config import LATENT_START_SD, ModelConfig
from model.hmm import loglik_tree
from model.inputs import ModelInputs
from model.likelihood import PT, ar1_logpdf, log_emissions, log_transitions

REGIMES = ("calm", "stress")
STRESS_KINDS = ("funding", "market_functioning", "both")
EVENT_KINDS = ("funding", "market_functioning")


def _prior(config: ModelConfig, key: str, name: str | None = None, **kwargs):
    dist, params = config.priors[key]
    cls = getattr(pm, dist)
    if dist == "Dirichlet":
        return cls(name or key, a=np.array(params), **kwargs)
    return cls(name or key, *params, **kwargs)


def stress_wider(config: ModelConfig, name: str):
    """Regime scales with stress at least as wide as calm: ``sigma_stress = sigma_calm + extra``.

    Together with the positive mean shifts this identifies the regimes and rules out the
    mode, seen on the real data without it, where a wide "calm" absorbs every MOVE swing and
    "stress" is reduced to funding spikes.
    """
    calm = _prior(config, f"{name}_calm")
    extra = _prior(config, f"{name}_extra")
    return pm.Deterministic(name, pt.stack([calm, calm + extra]), dims="regime")


def coords(inputs: ModelInputs) -> dict:
    return {"regime": list(REGIMES), "from_regime": list(REGIMES), "driver": list(inputs.drivers),
            "stress_kind": list(STRESS_KINDS), "event_kind": list(EVENT_KINDS),
            "week": inputs.weeks}


def build_model(inputs: ModelInputs, config: ModelConfig) -> pm.Model:
    with pm.Model(coords=coords(inputs)) as model:
        a_calm = _prior(config, "trans_intercept_calm")
        a_stress = _prior(config, "trans_intercept_stress")
        trans_intercept = pm.Deterministic("trans_intercept", pt.stack([a_calm, a_stress]),
                                           dims="from_regime")
        trans_coef = _prior(config, "trans_coef", dims=("from_regime", "driver"))
        params = {
            "trans_intercept": trans_intercept,
            "trans_coef": trans_coef,
            "funding_mu_calm": _prior(config, "funding_mu_calm"),
            "funding_shift": _prior(config, "funding_shift"),
            "funding_sigma": stress_wider(config, "funding_sigma"),
            "funding_nu": _prior(config, "funding_nu"),
            "move_mu_calm": _prior(config, "move_mu_calm"),
            "move_shift": _prior(config, "move_shift"),
            "move_sigma": stress_wider(config, "move_sigma"),
            "stress_type_weights": _prior(config, "stress_type_weights", dims="stress_kind"),
            "event_false_rate": _prior(config, "event_false_rate", dims="event_kind"),
            "event_hit_rate": _prior(config, "event_hit_rate", dims="event_kind"),
            "qe_intercept": _prior(config, "qe_intercept"),
            "qe_stress_effect": _prior(config, "qe_stress_effect"),
            "qe_coef": _prior(config, "qe_coef", dims="driver"),
            "ar_mu": _prior(config, "ar_mu", dims="driver"),
            "ar_phi": _prior(config, "ar_phi", dims="driver"),
            "ar_sigma": _prior(config, "ar_sigma", dims="driver"),
        }
        x = driver_matrix(inputs, params)
        observed = pt.as_tensor_variable((~np.isnan(inputs.x)).astype(float))
        pm.Potential("driver_ar1", ar1_logpdf(PT, params, x, observed))
        x_lagged = pt.concatenate([x[:1], x[:-1]], axis=0)
        obs = {k: pt.as_tensor_variable(v) for k, v in inputs.obs.items()}
        p0 = config.initial_stress_probability
        log_init = pt.as_tensor_variable(np.log([1 - p0, p0]))
        loglik = loglik_tree(log_init, log_transitions(PT, params, x),
                             log_emissions(PT, params, obs, x_lagged), inputs.n_weeks)
        pm.Potential("regime_loglik", loglik)
    return model


def latent_name(driver: str) -> str:
    return f"latent_{driver}"


def missing_runs(missing: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs [start, stop) of consecutive missing week indices."""
    if len(missing) == 0:
        return []
    breaks = np.flatnonzero(np.diff(missing) > 1)
    starts = np.concatenate([[missing[0]], missing[breaks + 1]])
    stops = np.concatenate([missing[breaks], [missing[-1]]]) + 1
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


def driver_matrix(inputs: ModelInputs, params: dict):
    """Standardized drivers, with every missing run filled by the driver's own AR(1).

    Non-centred: a run [s, e) is ``x_{s+k} = mu + phi^(k+1) (x_{s-1} - mu) + sum_{i<=k}
    phi^(k-i) c_i eps_i`` with ``eps ~ N(0, 1)`` (``c_i = sigma``; a run that opens the
    sample starts from ``mu`` with sd ``LATENT_START_SD``, see model/config.py). Sampling
    eps rather than x removes the near-unit-root correlation of a latent AR(1) path, which
    otherwise forces NUTS into ~1000 leapfrog steps per draw. Observed cells are constants;
    the AR(1) density of each observed cell given its predecessor (latent or not) is the
    ``driver_ar1`` potential.
    """
    columns = []
    for k, driver in enumerate(inputs.drivers):
        col = pt.as_tensor_variable(np.nan_to_num(inputs.x[:, k]))
        missing = inputs.missing_index()[driver]
        if len(missing):
            eps = pm.Normal(latent_name(driver), 0.0, 1.0, shape=len(missing))
            mu, phi, sigma = params["ar_mu"][k], params["ar_phi"][k], params["ar_sigma"][k]
            offset = 0
            for start, stop in missing_runs(missing):
                n = stop - start
                steps = np.arange(n)
                scale = pt.ones(n) * sigma
                if start == 0:
                    scale = pt.set_subtensor(scale[0], LATENT_START_SD)
                # sum_{i<=k} phi^(k-i) c_i eps_i in O(n): phi^k * cumsum(phi^-i c_i eps_i);
                # phi > 0.5 under the prior keeps phi^-n finite for any run in the sample.
                shocks = pt.cumsum(phi ** (-steps) * scale * eps[offset:offset + n])
                path = mu + phi ** steps * shocks
                if start > 0:
                    path = path + phi ** np.arange(1, n + 1) * (col[start - 1] - mu)
                col = pt.set_subtensor(col[start:stop], path)
                offset += n
            pm.Deterministic(f"filled_{driver}", col[missing])
        columns.append(col)
    return pt.stack(columns, axis=1)
