"""The funding spread is reported in whole basis points; the likelihood must not reward ties.

Model 4.0 read the rounded values as exact draws of a Student-t: a calm regime pinned on a
common value with sd -> 0 had unbounded density (an improper posterior). Model 4.1 adds the
rounding error's variance h^2 / 12 to the scale.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from model.equations.config import ModelConfig
from model.equations.inputs import (
    FUNDING_RESOLUTION_BP,
    FUNDING_ROUNDING_VAR,
    FUNDING_UNIT_BP,
    model_inputs,
)
from model.equations.likelihood import NP, log_emissions
from model.equations.simulate import simulate
from tests.model_fixtures import true_parameters

RESOLUTION = FUNDING_RESOLUTION_BP / FUNDING_UNIT_BP


def calm_funding_logpdf(funding: np.ndarray, p: dict) -> np.ndarray:
    """The calm column of the emissions with everything but the funding term switched off
    (MOVE missing, no events, no week at risk of a restart), less the constant no-event
    terms."""
    n = len(funding)
    zeros, ones = np.zeros(n), np.ones(n)
    obs = {
        "funding": funding,
        "funding_mask": ones,
        "move": zeros,
        "move_mask": zeros,
        "event_funding": zeros,
        "event_market": zeros,
        "at_risk": zeros,
        "restart": zeros,
    }
    calm = log_emissions(NP, p, obs, np.zeros((n, 5)))[:, 0]
    return calm - np.log1p(-p["event_false_rate"]).sum()


def test_funding_density_is_a_student_t_with_the_rounding_variance_added():
    p = true_parameters()
    funding = np.array([-1.6, -1.6, -0.3, 0.0, 2.4])
    want = stats.t.logpdf(
        funding,
        df=p["funding_nu"],
        loc=p["funding_mu_calm"],
        scale=np.sqrt(p["funding_sigma"][0] ** 2 + RESOLUTION**2 / 12),
    )
    np.testing.assert_allclose(calm_funding_logpdf(funding, p), want, rtol=1e-12)
    assert FUNDING_ROUNDING_VAR == RESOLUTION**2 / 12


def test_tied_values_have_bounded_density_as_the_calm_sd_goes_to_zero():
    """Fifty weeks at exactly the calm mean: the density stops growing once sigma is below
    the resolution, and its limit is the t density at scale h / sqrt(12)."""
    p = true_parameters()
    funding = np.full(50, float(p["funding_mu_calm"]))
    totals = []
    for sigma in (1e-2, 1e-4, 1e-8):
        q = dict(p, funding_sigma=np.array([sigma, 2.0]))
        totals.append(calm_funding_logpdf(funding, q).sum())
    limit = 50 * stats.t.logpdf(0.0, df=p["funding_nu"], scale=RESOLUTION / np.sqrt(12))
    assert totals[2] - totals[1] < 1e-3 and totals[2] <= limit + 1e-9
    np.testing.assert_allclose(totals[2], limit, rtol=1e-9)
    # without the rounding term, going from sd 1e-2 to 1e-8 would gain 50 log(1e6) = 691
    # nats; with it, the gain is 25 log(1 + 1e-4 / (h^2 / 12)) = 2.8
    assert totals[2] - totals[0] < 3.0


def test_simulated_funding_is_reported_on_the_same_grid():
    p = true_parameters()
    rng = np.random.default_rng(0)
    n = 300
    sim = simulate(rng, p, rng.normal(size=(n, 5)), np.ones(n))
    steps = sim.obs["funding"] / RESOLUTION
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-9)
    assert len(np.unique(sim.obs["funding"])) > 10  # rounded, not collapsed


def test_every_real_funding_week_is_a_whole_number_of_basis_points(panel):
    """The fact the rounding term rests on, read off the data snapshot."""
    inputs = model_inputs(panel, ModelConfig())
    observed = inputs.obs["funding"][inputs.obs["funding_mask"] > 0]
    assert len(observed) > 1000
    steps = observed / RESOLUTION
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-9)
