"""The PyMC model: priors, missing driver weeks integrated out, and the marginal likelihood.

Neither the discrete regimes nor the missing driver weeks appear as sampled variables: the
regimes are summed out by the forward algorithm (:func:`model.equations.hmm.loglik_tree`) and the
missing weeks are integrated out under each driver's AR(1) (:mod:`model.equations.missing`), so NUTS
sees a smooth ~60-dimensional posterior; filtered and smoothed regime probabilities are
recovered afterwards for every draw (:mod:`model.equations.posterior`).
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from model.equations.config import ModelConfig
from model.equations.hmm import loglik_tree
from model.equations.inputs import ModelInputs
from model.equations.likelihood import PT, likelihood_terms
from model.equations.missing import GapLayout

REGIMES = ("calm", "stress")
STRESS_KINDS = ("funding", "market_functioning", "both")
EVENT_KINDS = ("funding", "market_functioning")


def _prior(config: ModelConfig, key: str, name: str | None = None, **kwargs):
    dist, params = config.priors[key]
    return getattr(pm, dist)(name or key, *params, **kwargs)


def stress_wider(config: ModelConfig, name: str):
    """Regime scales with stress at least as wide as calm: ``sigma_stress = sigma_calm + extra``.

    Together with the positive mean shifts this identifies the regimes and rules out the
    mode, seen on the real data without it, where a wide "calm" absorbs every MOVE swing and
    "stress" is reduced to funding spikes.
    """
    calm = _prior(config, f"{name}_calm")
    extra = _prior(config, f"{name}_extra")
    return pm.Deterministic(name, pt.stack([calm, calm + extra]), dims="regime")


def stress_kind_weights(config: ModelConfig):
    """The stress kinds' weights w = (funding, market functioning, both) ~ Dirichlet(a),
    sampled by stick-breaking: the market share w_M ~ Beta(a_M, a_F + a_B), then the "both"
    share of the rest v ~ Beta(a_B, a_F), independent; w = ((1 - w_M)(1 - v), w_M, (1 - w_M) v)
    has exactly the Dirichlet(a) distribution, so the model is unchanged; only the
    coordinates NUTS moves in are.

    Why: PyMC's simplex coordinates for a Dirichlet are log w_k minus the mean log weight,
    and on the data the funding-only weight is ~0.005: both coordinates then carry its
    uncertain log, they correlate at -0.81, and their direction had ~3x the curvature of any
    other in NumPyro's adapted units. With these coordinates that eigenvalue is gone
    (largest, median over posterior draws: 12 -> 6), the step size can grow and the full
    history took ~15 leapfrog steps per draw instead of ~19 (see ``docs/model.md``).
    """
    dist, params = config.priors["stress_type_weights"]
    if dist != "Dirichlet" or len(params) != 3:
        raise ValueError(
            "stress_type_weights needs a Dirichlet prior over the three kinds, "
            f"got {dist}{tuple(params)}"
        )
    a_funding, a_market, a_both = params
    market = pm.Beta("stress_market_share", a_market, a_funding + a_both)
    both_of_rest = pm.Beta("stress_both_share_of_rest", a_both, a_funding)
    rest = 1.0 - market
    return pm.Deterministic(
        "stress_type_weights",
        pt.stack([rest * (1.0 - both_of_rest), market, rest * both_of_rest]),
        dims="stress_kind",
    )


def coords(inputs: ModelInputs) -> dict:
    return {
        "regime": list(REGIMES),
        "from_regime": list(REGIMES),
        "driver": list(inputs.drivers),
        "stress_kind": list(STRESS_KINDS),
        "event_kind": list(EVENT_KINDS),
        "week": inputs.weeks,
    }


def build_model(inputs: ModelInputs, config: ModelConfig) -> pm.Model:
    with pm.Model(coords=coords(inputs)) as model:
        a_calm = _prior(config, "trans_intercept_calm")
        a_stress = _prior(config, "trans_intercept_stress")
        trans_intercept = pm.Deterministic(
            "trans_intercept", pt.stack([a_calm, a_stress]), dims="from_regime"
        )
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
            "stress_type_weights": stress_kind_weights(config),
            "event_false_rate": _prior(config, "event_false_rate", dims="event_kind"),
            "event_hit_rate": _prior(config, "event_hit_rate", dims="event_kind"),
            "event_continue": _prior(config, "event_continue", dims="event_kind"),
            "qe_intercept": _prior(config, "qe_intercept"),
            "qe_stress_effect": _prior(config, "qe_stress_effect"),
            "qe_coef": _prior(config, "qe_coef", dims="driver"),
            "ar_mu": _prior(config, "ar_mu", dims="driver"),
            "ar_phi": _prior(config, "ar_phi", dims="driver"),
            "ar_sigma": _prior(config, "ar_sigma", dims="driver"),
        }
        if config.event_coef_prior_sd > 0:
            params["event_coef"] = pm.Normal(
                "event_coef", 0.0, config.event_coef_prior_sd, dims=("event_kind", "driver")
            )
        obs = {k: pt.as_tensor_variable(v) for k, v in inputs.obs.items()}
        p0 = config.initial_stress_probability
        log_init = pt.as_tensor_variable(np.log([1 - p0, p0]))
        ar_logp, loglik = likelihood_terms(
            PT,
            lambda li, lt, le: loglik_tree(li, lt, le, inputs.n_weeks),
            GapLayout.from_matrix(inputs.x),
            obs,
            params,
            log_init,
        )
        pm.Potential("driver_ar1", ar_logp)
        pm.Potential("regime_loglik", loglik)
    return model
