"""The model's log transition and log emission terms, written once for two array backends.

``PT`` builds the PyTensor graph that NUTS samples; ``NP`` recomputes the same terms for
stored posterior draws (filtering, smoothing, forecasts). Parameters are passed with a
leading draw axis in NumPy and without it in PyTensor; every parameter is indexed with
``[..., i]`` and given a time axis with ``[..., None]``, so one code path serves both.

Equations (see ``docs/model.md``):

- transitions, for t >= 1: ``logit P(s_t = stress | s_{t-1} = j) = a_j + b_j . x_{t-1}``;
- calm emission: ``f ~ StudentT(nu, mu_f, s_f[calm])`` with ``s_f = sqrt(sigma_f^2 + h^2/12)``
  (:func:`funding_scale`: f is reported in whole basis points), ``m ~ Normal(mu_m,
  sigma_m[calm])``, an event of kind k *starts* with probability ``eps_k``;
- stress emission: a three-way mixture over the *kind* of stress (funding / market
  functioning / both), weights ``w``: the stressed observable moves to its stress
  distribution (mean shifted up by a positive amount), the other stays calm, and an event
  of the stressed kind starts with probability ``q_k``;
- events are modelled by their onsets (model 4.0): only weeks after a week without an
  event of that kind are at risk of one starting; a week after an event week continues it
  with probability ``kappa_k`` whatever the regime;
- with an onset hazard in the drivers (``ModelConfig.event_coef_prior_sd > 0``, parameter
  ``event_coef``): ``logit P(onset_k,t | s_t) = logit(rate_k,s) + beta_k . x_{t-1}``, with
  rate ``eps_k`` in calm and ``q_k`` in stress of kind k (:func:`onset_logits`);
- QE restart (at-risk weeks only): ``logit P(r_t = 1 | s_t) = c0 + c_s * s_t + c . x_{t-1}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytensor.tensor as pt
from scipy import special

from model.equations.hmm import stable_logaddexp
from model.equations.inputs import FUNDING_ROUNDING_VAR
from model.equations.missing import GapLayout, driver_matrices, observed_logpdf

HALF_LOG_2PI = 0.5 * np.log(2 * np.pi)


@dataclass(frozen=True)
class Ops:
    """The handful of array functions the likelihood needs, per backend."""

    log: Any
    log1p: Any
    softplus: Any
    logaddexp: Any
    gammaln: Any
    stack: Any
    sqrt: Any
    exp: Any
    expm1: Any
    concat: Any
    #: ``take(a, index, inverse)``: ``a[index]``. ``inverse`` lists, for each entry of ``a``,
    #: the one place that reads it, or ``len(index)`` for an entry whose gradient is not
    #: wanted (read nowhere, or a constant), so a backend can write the gradient as a read
    #: too (:func:`model.equations.missing.driver_matrices`).
    take: Any


NP = Ops(
    np.log,
    np.log1p,
    lambda x: np.logaddexp(0.0, x),
    np.logaddexp,
    special.gammaln,
    lambda xs, axis: np.stack(xs, axis=axis),
    np.sqrt,
    np.exp,
    np.expm1,
    lambda xs, axis: np.concatenate(xs, axis=axis),
    lambda a, index, inverse: a[..., index],
)
PT = Ops(
    pt.log,
    pt.log1p,
    pt.softplus,
    stable_logaddexp,
    pt.gammaln,
    lambda xs, axis: pt.stack(xs, axis=axis),
    pt.sqrt,
    pt.exp,
    pt.expm1,
    lambda xs, axis: pt.concatenate(xs, axis=axis),
    lambda a, index, inverse: a[index],
)


def log_sigmoid(ops: Ops, z):
    return -ops.softplus(-z)


def log_sigmoid_pair(ops: Ops, z):
    """(log(1 - sigmoid(z)), log sigmoid(z)) with one softplus: log(1 - s) = log s - z.

    Half the transcendental work of computing both. Full history, gradient of the
    likelihood on ``jax.numpy`` inside a compiled loop: 0.53 ms -> 0.41 ms with this in the
    transitions and the QE hazard. PyTensor's translation to JAX showed no difference.
    """
    log_s = log_sigmoid(ops, z)
    return log_s - z, log_s


def student_t_logpdf(ops: Ops, y, nu, mu, sigma):
    z = (y - mu) / sigma
    return (
        ops.gammaln((nu + 1) / 2)
        - ops.gammaln(nu / 2)
        - 0.5 * ops.log(nu * np.pi)
        - ops.log(sigma)
        - (nu + 1) / 2 * ops.log1p(z * z / nu)
    )


def normal_logpdf(ops: Ops, y, mu, sigma):
    z = (y - mu) / sigma
    return -HALF_LOG_2PI - ops.log(sigma) - 0.5 * z * z


def bernoulli_logpmf(ops: Ops, e, p):
    return e * ops.log(p) + (1 - e) * ops.log1p(-p)


def event_at_risk(ops: Ops, event):
    """1 where an event of this kind can *start* (the week before had none), else 0.

    The first week is at risk. ``event`` is the catalogue's 0/1 event-week indicator; in an
    at-risk week it is therefore the onset indicator.
    """
    return 1 - ops.concat([event[..., :1] * 0, event[..., :-1]], -1)


def linear(x, coef):
    """x (..., T, K) . coef (..., K) -> (..., T).

    On NumPy arrays (stored draws) a matrix product, about ten times faster there than
    multiplying and summing (250 draws x 1,077 weeks x 5 drivers: 0.8 ms against 7.3 ms);
    the sampled backends keep the elementwise form their gradients were measured with.
    """
    if isinstance(x, np.ndarray) and isinstance(coef, np.ndarray):
        return (x @ coef[..., None])[..., 0]
    return (x * coef[..., None, :]).sum(-1)


#: pi / 8: the probit approximation's constant, E[sigmoid(z)] ~ sigmoid(m / sqrt(1 + pi/8 v)).
PROBIT_SCALE = np.pi / 8.0


def expected_logit(ops: Ops, mean_logit, x_var, coef):
    """Logit of E[sigmoid(z)] when z = mean_logit + coef . (x - E x) and x has variance x_var.

    Missing driver weeks are integrated out (:mod:`model.equations.missing`): each enters as
    a mean and a variance, independent across drivers, so z has variance ``coef^2 . x_var``. The
    logistic-normal integral has no closed form; the probit approximation (MacKay 1992)
    ``E[sigmoid(z)] ~ sigmoid(m / sqrt(1 + pi v / 8))`` is within ~0.02 in probability and
    exact where x_var = 0 (observed weeks), so observed weeks are untouched.
    """
    if x_var is None:
        return mean_logit
    return flatten_logit(ops, mean_logit, linear(x_var, coef * coef))


def flatten_logit(ops: Ops, mean_logit, logit_var):
    """logit E[sigmoid(z)] for z ~ N(mean_logit, logit_var), by the probit approximation."""
    return mean_logit / ops.sqrt(1.0 + PROBIT_SCALE * logit_var)


def transition_logits(ops: Ops, p: dict, x_from, x_from_var=None):
    """(..., T, 2): logit P(stress next week | calm, stress this week), drivers of this week.

    ``x_from`` (..., T, K) holds the drivers of the week the chain leaves; ``x_from_var``
    (same shape, 0 where observed) the variance of a missing driver week. The one place the
    transition equation is written: the likelihood, simulations, projections and the
    effects page all read it.
    """
    logits = []
    for j in (0, 1):
        coef = p["trans_coef"][..., j, :]
        logits.append(
            expected_logit(
                ops, p["trans_intercept"][..., j, None] + linear(x_from, coef), x_from_var, coef
            )
        )
    return ops.stack(logits, -1)


def log_transitions(ops: Ops, p: dict, x, x_var=None):
    """(..., T-1, 2, 2): log P(s_t = k | s_{t-1} = j) from drivers x (..., T, K) lagged once.

    ``x_var`` (same shape, 0 where observed) is the variance of a missing driver week.
    """
    z = transition_logits(ops, p, x[..., :-1, :], None if x_var is None else x_var[..., :-1, :])
    rows = [ops.stack(list(log_sigmoid_pair(ops, z[..., j])), -1) for j in (0, 1)]
    return ops.stack(rows, -2)


def stress_probabilities(p: dict, x_from, x_from_var=None) -> np.ndarray:
    """(..., T, 2) NumPy: P(stress next week | calm, stress), from :func:`transition_logits`."""
    return special.expit(transition_logits(NP, p, x_from, x_from_var))


def qe_logits(ops: Ops, p: dict, x_lagged, x_lagged_var=None):
    """(..., T, 2): logit P(QE restart this week | calm, stress), drivers of the week before.

    The one place the restart hazard is written (likelihood, simulations, projections, the
    review's hazard chart)."""
    base = p["qe_intercept"][..., None] + linear(x_lagged, p["qe_coef"])
    return ops.stack(
        [
            expected_logit(
                ops, base + s * p["qe_stress_effect"][..., None], x_lagged_var, p["qe_coef"]
            )
            for s in (0, 1)
        ],
        -1,
    )


def restart_probabilities(p: dict, x_lagged, x_lagged_var=None) -> np.ndarray:
    """(..., T, 2) NumPy: P(QE restart this week | calm, stress), from :func:`qe_logits`."""
    return special.expit(qe_logits(NP, p, x_lagged, x_lagged_var))


def qe_log_hazard_terms(ops: Ops, p: dict, x_lagged, at_risk, restart, x_lagged_var=None):
    """(..., T, 2): log P(restart_t | s_t) on at-risk weeks, 0 elsewhere."""
    eta = qe_logits(ops, p, x_lagged, x_lagged_var)
    # restart log s + (1 - restart) log(1 - s) = log s - (1 - restart) eta
    return ops.stack(
        [at_risk * (log_sigmoid(ops, eta[..., s]) - (1 - restart) * eta[..., s]) for s in (0, 1)],
        -1,
    )


def onset_logits(ops: Ops, p: dict, x_lagged, x_lagged_var=None) -> dict:
    """Logits of an event onset per (regime, kind): ``{("calm" | "stress", k): (..., T)}``.

    ``logit(rate) + beta_k . x_{t-1}`` (missing driver weeks by :func:`expected_logit`), with
    ``rate`` the calm false-alarm rate ``eps_k`` or the stress hit rate ``q_k``. Only for
    models with ``event_coef``; without it the rates are constant (the regime alone).
    """
    out = {}
    for k in (0, 1):
        coef = p["event_coef"][..., k, :]
        shift = linear(x_lagged, coef)
        for regime, name in (("calm", "event_false_rate"), ("stress", "event_hit_rate")):
            rate = p[name][..., k, None]
            base = ops.log(rate) - ops.log1p(-rate) + shift
            out[(regime, k)] = expected_logit(ops, base, x_lagged_var, coef)
    return out


def onset_probabilities(
    p: dict, x_lagged: np.ndarray, x_lagged_var=None
) -> tuple[np.ndarray, np.ndarray]:
    """(calm, stress) onset probabilities (..., T, 2 kinds), NumPy: what simulations and
    projections draw events with, from the same :func:`onset_logits` the likelihood uses."""
    if "event_coef" not in p:
        shape = (*np.shape(x_lagged)[:-1], 2)
        return (
            np.broadcast_to(p["event_false_rate"][..., None, :], shape),
            np.broadcast_to(p["event_hit_rate"][..., None, :], shape),
        )
    logits = onset_logits(NP, p, x_lagged, x_lagged_var)
    calm = np.stack([special.expit(logits[("calm", k)]) for k in (0, 1)], -1)
    stress = np.stack([special.expit(logits[("stress", k)]) for k in (0, 1)], -1)
    return calm, stress


def quiet_week_by_kind(
    p: dict, onset_calm, onset_stress, ongoing: tuple = (False, False)
) -> np.ndarray:
    """(..., 4) NumPy: P(no liquidity-event week | calm, stress of the funding kind, of the
    market-functioning kind, of both), the event part of :func:`log_emissions` with the
    observables summed out.

    ``onset_calm``/``onset_stress`` (..., 2 kinds) are onset probabilities
    (:func:`onset_probabilities`): an event of a stressed kind starts with its hit rate, of
    an unstressed kind with its false-alarm rate. If an event of kind k was under way the
    week before (``ongoing[k]``), this week's kind-k event is its continuation instead, with
    probability ``kappa_k`` in either regime.
    """
    kappa = p["event_continue"]

    def quiet(k: int, onset) -> np.ndarray:
        return 1 - (kappa[..., k] if ongoing[k] else onset[..., k])

    return np.stack(
        [
            quiet(0, onset_calm) * quiet(1, onset_calm),
            quiet(0, onset_stress) * quiet(1, onset_calm),
            quiet(0, onset_calm) * quiet(1, onset_stress),
            quiet(0, onset_stress) * quiet(1, onset_stress),
        ],
        axis=-1,
    )


def quiet_week_probabilities(
    p: dict, onset_calm, onset_stress, ongoing: tuple = (False, False)
) -> np.ndarray:
    """(..., 2) NumPy: P(no liquidity-event week | calm, stress): :func:`quiet_week_by_kind`
    with the kind of stress mixed by the stress-kind weights."""
    by_kind = quiet_week_by_kind(p, onset_calm, onset_stress, ongoing)
    stress = (p["stress_type_weights"] * by_kind[..., 1:]).sum(-1)
    return np.stack([by_kind[..., 0], stress], axis=-1)


def bernoulli_logit_logpmf(ops: Ops, e, eta):
    return e * log_sigmoid(ops, eta) + (1 - e) * log_sigmoid(ops, -eta)


def funding_scale(ops: Ops, sigma):
    """Scale of the *reported* funding spread: the t scale sigma widened by the rounding
    to whole basis points, sqrt(sigma^2 + h^2 / 12) (model 4.1).

    Why: the reported values are tied (15% of the weeks sit at one of three values), and
    a continuous density at a tie grows without bound as sigma shrinks. Model 4.0's
    posterior was improper for that reason: a regime with sigma -> 0 pinned on the most
    common value had unbounded density, and the start search found such a spike at some
    backtest vintages (2022-01: log density -93 against -778 at the proper optimum; dropped
    only because its Hessian was not positive definite). Treating the rounding error as
    independent noise of its own variance bounds every tie's density at the resolution,
    and leaves the proper mode's scale as it was (at 2022-01 the calm scale is 3.31bp in
    both models; model 4.1 gets it from sigma = 3.30bp).
    """
    return ops.sqrt(sigma * sigma + FUNDING_ROUNDING_VAR)


def stress_observable_logpdfs(ops: Ops, p: dict, obs: dict):
    """Log densities of the two stress observables, each in its calm and its stressed
    distribution: (funding calm, funding stressed, MOVE calm, MOVE stressed), 0 in weeks
    whose mask is 0. ``obs`` needs ``funding``/``funding_mask`` (units of 10bp) and
    ``move``/``move_mask``; the emissions and a scenario's assumed weeks
    (:func:`outlook.observables.scenario_evidence`) both read them here."""
    f, mf = obs["funding"], obs["funding_mask"]
    m, mm = obs["move"], obs["move_mask"]
    nu = p["funding_nu"][..., None]
    mu_f0 = p["funding_mu_calm"][..., None]
    mu_f1 = mu_f0 + p["funding_shift"][..., None]
    mu_m0 = p["move_mu_calm"][..., None]
    mu_m1 = mu_m0 + p["move_shift"][..., None]
    scale_f = funding_scale(ops, p["funding_sigma"])
    return (
        mf * student_t_logpdf(ops, f, nu, mu_f0, scale_f[..., 0, None]),
        mf * student_t_logpdf(ops, f, nu, mu_f1, scale_f[..., 1, None]),
        mm * normal_logpdf(ops, m, mu_m0, p["move_sigma"][..., 0, None]),
        mm * normal_logpdf(ops, m, mu_m1, p["move_sigma"][..., 1, None]),
    )


def log_emissions(ops: Ops, p: dict, obs: dict, x_lagged, x_lagged_var=None):
    """(..., T, 2): log p(observables, events, restart | s_t = calm, stress).

    ``obs`` holds arrays over weeks: ``funding`` and ``move`` (0 where missing) with masks
    ``funding_mask``/``move_mask``, events ``event_funding``/``event_market``, and the QE
    arrays ``at_risk``/``restart``. ``x_lagged`` is x_{t-1} (row 0 unused: not at risk), with
    ``x_lagged_var`` its variance where a driver week is missing (see :func:`expected_logit`).
    """
    f_calm, f_stress, m_calm, m_stress = stress_observable_logpdfs(ops, p, obs)
    # Events enter through their onsets: a week is at risk of an event of a kind when the
    # week before had none; a week after an event week is its continuation instead, with
    # the same probability in either regime (so it informs the episode length, not the
    # regime).
    ef, em = obs["event_funding"], obs["event_market"]
    rf, rm = event_at_risk(ops, ef), event_at_risk(ops, em)
    if "event_coef" in p:
        eta = onset_logits(ops, p, x_lagged, x_lagged_var)
        ef_calm = rf * bernoulli_logit_logpmf(ops, ef, eta[("calm", 0)])
        em_calm = rm * bernoulli_logit_logpmf(ops, em, eta[("calm", 1)])
        ef_hit = rf * bernoulli_logit_logpmf(ops, ef, eta[("stress", 0)])
        em_hit = rm * bernoulli_logit_logpmf(ops, em, eta[("stress", 1)])
    else:
        ef_calm = rf * bernoulli_logpmf(ops, ef, p["event_false_rate"][..., 0, None])
        em_calm = rm * bernoulli_logpmf(ops, em, p["event_false_rate"][..., 1, None])
        ef_hit = rf * bernoulli_logpmf(ops, ef, p["event_hit_rate"][..., 0, None])
        em_hit = rm * bernoulli_logpmf(ops, em, p["event_hit_rate"][..., 1, None])
    continuing = (1 - rf) * bernoulli_logpmf(ops, ef, p["event_continue"][..., 0, None]) + (
        1 - rm
    ) * bernoulli_logpmf(ops, em, p["event_continue"][..., 1, None])
    log_w = ops.log(p["stress_type_weights"])
    calm = f_calm + m_calm + ef_calm + em_calm
    funding_kind = log_w[..., 0, None] + f_stress + m_calm + ef_hit + em_calm
    market_kind = log_w[..., 1, None] + f_calm + m_stress + ef_calm + em_hit
    both_kinds = log_w[..., 2, None] + f_stress + m_stress + ef_hit + em_hit
    stress = ops.logaddexp(ops.logaddexp(funding_kind, market_kind), both_kinds)
    qe = qe_log_hazard_terms(ops, p, x_lagged, obs["at_risk"], obs["restart"], x_lagged_var)
    return ops.stack([calm + continuing, stress + continuing], -1) + qe


def likelihood_terms(ops: Ops, forward, layout: GapLayout, obs: dict, p: dict, log_init):
    """The model's two log-likelihood terms for one parameter set (PyTensor or JAX):
    the drivers' AR(1) density of their observed weeks (gaps integrated out), and the
    regime likelihood ``forward(log_init, log_trans, log_emis)``. One wiring for the PyMC
    model (:func:`model.equations.build.build_model`) and the JAX potential
    (:mod:`model.inference.jax_density`)."""
    ar_logp, log_trans, log_emis = regime_inputs(ops, layout, obs, p)
    return ar_logp, forward(log_init, log_trans, log_emis)


def regime_inputs(ops: Ops, layout: GapLayout, obs: dict, p: dict):
    """The drivers' AR(1) log density, and the log transitions and log emissions the
    forward algorithm takes (:func:`likelihood_terms` without the recursion)."""
    mu, phi, sigma = p["ar_mu"], p["ar_phi"], p["ar_sigma"]
    x, x_var = driver_matrices(ops, layout, mu, phi, sigma)
    x_lagged = ops.concat([x[:1], x[:-1]], 0)
    x_lagged_var = ops.concat([x_var[:1], x_var[:-1]], 0)
    log_emis = log_emissions(ops, p, obs, x_lagged, x_lagged_var)
    if "in_sample" in obs:
        # weeks padded after the data (a compiled program's fixed length): log emission 0
        # in both regimes, so each adds log sum_k P(s_t = k | s_t-1) = log 1 = 0 to the
        # forward pass
        log_emis = log_emis * obs["in_sample"][:, None]
    return (
        observed_logpdf(ops, layout, mu, phi, sigma),
        log_transitions(ops, p, x, x_var),
        log_emis,
    )
