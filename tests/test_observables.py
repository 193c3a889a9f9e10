"""The stress observables' simulation (outlook/observables.py) against closed forms, and the
one-future rule: the log MOVE driver of the transitions is the simulated MOVE."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from model.equations.build import build_model
from model.equations.config import ModelConfig
from model.equations.inputs import FUNDING_UNIT_BP
from model.equations.posterior import parameters
from model.inference.checks import prior_group
from outlook.observables import move_history, simulate_observables
from outlook.projection import StartState
from tests.model_fixtures import random_short_inputs

DRAWS = 20_000


def one_draw_repeated(move_observable: str):
    inputs = random_short_inputs(np.random.default_rng(5), 80)
    inputs = type(inputs)(**{**inputs.__dict__, "move_observable": move_observable})
    model = build_model(inputs, ModelConfig(move_observable=move_observable))
    first = {k: v[:1] for k, v in parameters(prior_group(model, 5, seed=2)).items()}
    params = {k: np.repeat(v, DRAWS, axis=0) for k, v in first.items()}
    return inputs, params


def calm_forever(params: dict) -> dict:
    return {**params, "trans_intercept": np.full_like(params["trans_intercept"], -60.0)}


def test_calm_weeks_follow_the_calm_emissions():
    inputs, params = one_draw_repeated("level")
    params = calm_forever(params)
    start = StartState(params, np.zeros((DRAWS, len(inputs.drivers))), np.zeros(DRAWS), False)
    shocks = np.random.default_rng(1).standard_normal((DRAWS, 3, len(inputs.drivers)))
    paths = simulate_observables(start, inputs, shocks, np.random.default_rng(2))
    assert paths.regime.max() == 0
    mu, sigma, nu = (params[k][0] for k in ("funding_mu_calm", "funding_sigma", "funding_nu"))
    expected = FUNDING_UNIT_BP * (mu + sigma[0] * stats.t.ppf([0.1, 0.5, 0.9], nu))
    got = np.quantile(paths.funding_bp[:, 0], [0.1, 0.5, 0.9])
    assert got == pytest.approx(expected, abs=0.05 * FUNDING_UNIT_BP * sigma[0] + 1.0)
    move_median = np.exp(params["move_mu_calm"][0])
    assert np.median(paths.move[:, 1]) == pytest.approx(move_median, rel=0.02)


def test_the_jump_observable_carries_the_simulated_level_forward():
    """With no emission noise, week 1's MOVE is the median of the last 52 observed weeks
    times exp(mu), and week 2's median includes week 1's simulated value."""
    inputs, params = one_draw_repeated("jump")
    params = calm_forever(params)
    params = {**params, "move_sigma": np.zeros_like(params["move_sigma"])}
    start = StartState(params, np.zeros((DRAWS, len(inputs.drivers))), np.zeros(DRAWS), False)
    shocks = np.zeros((DRAWS, 2, len(inputs.drivers)))
    paths = simulate_observables(start, inputs, shocks, np.random.default_rng(3))
    history = move_history(inputs)[-52:]
    factor = np.exp(params["move_mu_calm"][0])
    first = np.nanmedian(history) * factor
    assert paths.move[0, 0] == pytest.approx(first)
    second = np.nanmedian(np.r_[history[1:], first]) * factor
    assert paths.move[0, 1] == pytest.approx(second)


def test_the_transitions_read_the_simulated_move_not_a_second_future():
    """Stress entry made to depend on log MOVE alone: the share of paths entering stress in
    week 2 follows week 1's simulated MOVE, draw by draw."""
    inputs, params = one_draw_repeated("level")
    k = inputs.drivers.index("log_move")
    # the driver's units centred on the emission, so the simulated MOVE spans both signs
    mean, sd = inputs.driver_mean.copy(), inputs.driver_sd.copy()
    mean[k], sd[k] = params["move_mu_calm"][0], params["move_sigma"][0, 0]
    inputs = type(inputs)(**{**inputs.__dict__, "driver_mean": mean, "driver_sd": sd})
    coef = np.zeros_like(params["trans_coef"])
    coef[..., k] = 8.0  # entering stress: strongly up with log MOVE
    params = {
        **params,
        "trans_coef": coef,
        "trans_intercept": np.zeros_like(params["trans_intercept"]),
    }
    start = StartState(params, np.zeros((DRAWS, len(inputs.drivers))), np.zeros(DRAWS), False)
    shocks = np.random.default_rng(4).standard_normal((DRAWS, 2, len(inputs.drivers)))
    paths = simulate_observables(start, inputs, shocks, np.random.default_rng(5))
    high = paths.move[:, 0] > np.median(paths.move[:, 0])
    entered = paths.regime[:, 1] == 1
    assert entered[high].mean() > entered[~high].mean() + 0.2


def test_an_assumed_move_path_moves_the_regime_exactly_as_its_likelihood_ratio_says():
    """Week 1 of a scenario that fixes MOVE: the predicted regime is the baseline's (same
    drivers the week before), so P(stress) rises exactly in the draws whose emission
    likelihood ratio favours stress; P(event) equals Bayes' rule written out by hand over
    calm and the three kinds of stress."""
    from outlook.observables import scenario_evidence
    from outlook.projection import driver_shocks, outlook, project_drivers
    from outlook.scenarios import DriverChange, Scenario, scenario_arrays

    inputs = random_short_inputs(np.random.default_rng(7), 80)
    inputs = type(inputs)(**{**inputs.__dict__, "move_observable": "jump"})
    model = build_model(inputs, ModelConfig(move_observable="jump"))
    params = parameters(prior_group(model, 400, seed=3))
    draws = len(params["ar_mu"])
    rng = np.random.default_rng(8)
    start = StartState(
        params, rng.normal(size=(draws, len(inputs.drivers))), rng.random(draws), False
    )
    shocks = driver_shocks(np.random.default_rng(9), draws, 4, len(inputs.drivers))
    base_paths = project_drivers(params, start.x_last, shocks)
    # a MOVE a little above its median of the past year: some draws read it as stress,
    # others as calm (160 is stress in every draw)
    level = np.nanmedian(move_history(inputs)[-52:]) * np.exp(0.15)
    pin = DriverChange("log_move", "pin", "index points", (float(level),), True)
    scenario = Scenario("move_up", "", (pin,))
    pinned, shifted = scenario_arrays(
        scenario, inputs.drivers, 4, inputs.driver_mean, inputs.driver_sd, start.x_last
    )
    paths = project_drivers(params, start.x_last, shocks, pinned, shifted)
    evidence = scenario_evidence(start, inputs, scenario, paths)
    base, scenario = outlook(start, base_paths), outlook(start, paths, evidence)
    w = params["stress_type_weights"]
    favours = (w * evidence[:, 0, 1:]).sum(-1) > evidence[:, 0, 0]
    assert favours.any() and (~favours).any()  # both cases occur among the prior draws
    raised = scenario.p_stress[:, 0] > base.p_stress[:, 0]
    np.testing.assert_array_equal(raised, favours)
    # P(event in week 1) by Bayes' rule written out over calm and the three stress kinds
    from outlook.projection import no_event_by_kind, transition_probability

    to_stress = transition_probability(params, start.x_last)
    pred_s = (1 - start.p_stress_last) * to_stress[:, 0] + start.p_stress_last * to_stress[:, 1]
    pred_c = 1 - pred_s
    like, quiet = evidence[:, 0], no_event_by_kind(params, start.x_last)
    no_event = pred_c * like[:, 0] * quiet[:, 0] + pred_s * (w * like[:, 1:] * quiet[:, 1:]).sum(-1)
    seen = pred_c * like[:, 0] + pred_s * (w * like[:, 1:]).sum(-1)
    np.testing.assert_allclose(scenario.p_event_by[:, 0], 1 - no_event / seen, atol=1e-12)
