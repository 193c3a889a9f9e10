"""forecast: reproducibility, the one-week-ahead formula, scenario directions and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.special import expit as sigmoid

from outlook.fitted import FittedModel, draw_index
from outlook.projection import StartState, driver_shocks, outlook, project_drivers
from outlook.scenarios import ScenarioError, load_scenarios, scenario_arrays
from tests.model_fixtures import DRIVERS, true_parameters

SEED = "scenarios/seed.toml"


def synthetic_start(n_draws: int = 400, seed: int = 0, coef_sign: float = 1.0) -> StartState:
    """Parameter draws around the test truth, with stress-entry coefficients of one sign."""
    rng = np.random.default_rng(seed)
    truth = true_parameters()
    params = {k: np.broadcast_to(v, (n_draws, *np.shape(v))).copy() for k, v in truth.items()}
    params["trans_coef"] = coef_sign * np.abs(rng.normal(0.5, 0.2, (n_draws, 2, len(DRIVERS))))
    params["trans_intercept"] = params["trans_intercept"] + rng.normal(0, 0.3, (n_draws, 2))
    return StartState(
        params,
        rng.normal(0, 1, (n_draws, len(DRIVERS))),
        rng.uniform(0, 0.5, n_draws),
        at_risk=True,
    )


def test_one_week_ahead_p_stress_equals_the_transition_formula():
    start = synthetic_start()
    paths = project_drivers(
        start.params, start.x_last, driver_shocks(np.random.default_rng(1), 400, 4, len(DRIVERS))
    )
    result = outlook(start, paths)
    a, b, f = start.params["trans_intercept"], start.params["trans_coef"], start.p_stress_last
    analytic = (1 - f) * sigmoid(a[:, 0] + (b[:, 0] * start.x_last).sum(-1)) + f * sigmoid(
        a[:, 1] + (b[:, 1] * start.x_last).sum(-1)
    )
    np.testing.assert_allclose(result.p_stress[:, 0], analytic, rtol=1e-12)


@pytest.mark.parametrize("ongoing", [(False, False), (True, False), (False, True)])
def test_exact_recursion_matches_monte_carlo_regimes_and_events(ongoing):
    """Events start (onset rates) after quiet weeks; one under way at the cut-off continues
    with probability kappa whatever the regime, and counts if it does."""
    start = synthetic_start(n_draws=3)
    start.event_ongoing = ongoing
    horizon, n_paths = 8, 100_000
    paths = project_drivers(
        start.params,
        start.x_last,
        driver_shocks(np.random.default_rng(2), 3, horizon, len(DRIVERS)),
    )
    exact = outlook(start, paths)
    rng = np.random.default_rng(3)
    p = start.params
    for d in range(3):
        regime = rng.random(n_paths) < start.p_stress_last[d]
        event = np.zeros(n_paths, dtype=bool)
        on_f, on_m = np.full(n_paths, ongoing[0]), np.full(n_paths, ongoing[1])
        kappa = p["event_continue"][d]
        x_prev = start.x_last[d]
        for h in range(horizon):
            z = p["trans_intercept"][d][regime.astype(int)] + (
                p["trans_coef"][d][regime.astype(int)] @ x_prev
            )
            regime = rng.random(n_paths) < sigmoid(z)
            kind = rng.choice(3, n_paths, p=p["stress_type_weights"][d])
            f_hit = regime & (kind != 1)
            m_hit = regime & (kind != 0)
            pf = np.where(f_hit, p["event_hit_rate"][d][0], p["event_false_rate"][d][0])
            pm_ = np.where(m_hit, p["event_hit_rate"][d][1], p["event_false_rate"][d][1])
            on_f = rng.random(n_paths) < np.where(on_f, kappa[0], pf)
            on_m = rng.random(n_paths) < np.where(on_m, kappa[1], pm_)
            event |= on_f | on_m
            x_prev = paths[d, h]
        assert event.mean() == pytest.approx(exact.p_event[d], abs=4e-3)
        assert regime.mean() == pytest.approx(exact.p_stress[d, -1], abs=4e-3)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_pinning_a_driver_higher_moves_p_event_with_the_sign_of_its_effect(sign):
    start = synthetic_start(coef_sign=sign)
    shocks = driver_shocks(np.random.default_rng(4), 400, 13, len(DRIVERS))
    base = outlook(start, project_drivers(start.params, start.x_last, shocks))
    pinned = np.full((1, 13, len(DRIVERS)), np.nan)
    pinned[:, :, DRIVERS.index("log_move")] = 4.0  # four sd above average
    stressed = outlook(start, project_drivers(start.params, start.x_last, shocks, pinned))
    change = stressed.p_event - base.p_event
    assert (sign * change > 0).all()
    calm_pin = np.full((1, 13, len(DRIVERS)), -1.0)  # every driver 1 sd below average
    calm = outlook(start, project_drivers(start.params, start.x_last, shocks, calm_pin))
    assert (sign * (calm.p_event - base.p_event) < 0).mean() > 0.95


def write(tmp_path, text: str):
    path = tmp_path / "s.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, message",
    [
        ('[scenarios.x.drivers.vix]\nmode="pin"\nunit="bp"\npath=[1]', "unknown driver"),
        (
            '[scenarios.x.drivers.funding_spread]\nmode="pin"\nunit="percent"\npath=[1]',
            "unit 'percent' not accepted",
        ),
        (
            '[scenarios.x.drivers.log_move]\nmode="shift"\nunit="index points"\npath=[1]',
            "unit 'index points' not accepted for mode 'shift'",
        ),
        (
            '[scenarios.x.drivers.funding_spread]\nmode="pin"\nunit="bp"\npath=[1,2,3,4]',
            "longer than the 3-week horizon",
        ),
        ('[scenarios.x.drivers.funding_spread]\nmode="bend"\nunit="bp"\npath=[1]', "mode 'bend'"),
        ('[scenarios.x.drivers.funding_spread\nmode="pin"', "malformed TOML"),
        (
            '[scenarios.x.drivers.funding_spread]\nmode="pin"\nunit="bp"\npath=["a"]',
            "list of numbers",
        ),
        # strict files: each of these ran before, silently meaning something else
        (
            '[scenarios.x.drivers.funding_spread]\nmode="pin"\nunit="bp"\npath=[1]\nhodl=false',
            r"unknown key\(s\) \['hodl'\]",
        ),
        ('[scenarios.x]\ndescripton="typo"\n[scenarios.x.drivers.funding_spread]', "unknown key"),
        ("[scenarios]\nx = 3", "expected a table"),
        (
            '[scenarios.x.drivers.funding_spread]\nmode="pin"\nunit="bp"\npath=[1]',
            "say with hold = true or false",
        ),
        (
            '[scenarios.x.drivers.log_move]\nmode="pin"\nunit="log index points"\n'
            "path=[160]\nhold=true",
            r"value 160 outside the plausible range 2\.99\d*\.\.6\.21\d* log index points",
        ),
        (
            '[scenarios.x.drivers.log_move]\nmode="pin"\nunit="index points"\npath=[0]\nhold=true',
            "outside the plausible range",
        ),
        (
            '[scenarios.x.drivers.log_move]\nmode="pin"\nunit="index points"\n'
            "path=[nan]\nhold=true",
            "outside the plausible range",
        ),
        (
            '[scenarios.x.drivers.funding_spread]\nmode="pin"\nunit="bp"\npath=[true]\nhold=true',
            "list of numbers",
        ),
        (
            '[scenarios.x.drivers.log_move]\nmode="scale"\nunit="percent"\npath=[50]\nhold=true',
            "not accepted for mode 'scale'",
        ),
        (
            '[scenarios.x.drivers.funding_spread]\nmode="pin"\nunit="bp"\npath=[1]\nhold="yes"',
            "hold must be true or false",
        ),
    ],
)
def test_scenario_file_errors_are_clear(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError, match=message) as info:
        load_scenarios(path, DRIVERS, horizon=3)
    assert str(path) in str(info.value) and (
        "malformed" in message or "scenario 'x'" in str(info.value)
    )


def test_a_scenario_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "s.toml"
    path.write_bytes(b"[scenarios.x]\ndescription = '\xff'\n")
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load_scenarios(path, DRIVERS, horizon=3)


def test_seed_scenarios_load_and_convert_units():
    scenarios = {s.name: s for s in load_scenarios(SEED, DRIVERS, 13)}
    assert {"tga_rebuild", "rate_vol_shock", "basis_unwind", "foreign_selling", "calm"} <= set(
        scenarios
    )
    mean, sd = np.array([1.0, 4.4, 0.0, 0.0, 5.0]), np.array([0.5, 0.3, 10.0, 100.0, 3.0])
    x_last = np.array([[2.0, 0, 0, 0, 0]])  # basis 1 + 2*0.5 = 2.0 contracts
    pinned, _ = scenario_arrays(scenarios["rate_vol_shock"], DRIVERS, 13, mean, sd, x_last)
    assert pinned[0, 12, 1] * sd[1] + mean[1] == pytest.approx(np.log(160))
    pinned, _ = scenario_arrays(scenarios["basis_unwind"], DRIVERS, 13, mean, sd, x_last)
    assert pinned[0, 3, 0] * sd[0] + mean[0] == pytest.approx(2.0 * 0.7)
    _, shifted = scenario_arrays(scenarios["foreign_selling"], DRIVERS, 13, mean, sd, x_last)
    assert shifted[0, -1, 4] * sd[4] == pytest.approx(-2.18)


@pytest.mark.slow
def test_same_seed_same_numbers_and_a_different_seed_differs(small_real_fit):
    scenarios = load_scenarios(SEED, small_real_fit.config.drivers, 13)
    fitted = FittedModel.of(small_real_fit)
    one = fitted.forecast(13, 200, 7, scenarios)
    two = fitted.forecast(13, 200, 7, scenarios)
    other = fitted.forecast(13, 200, 8, scenarios)
    assert json.dumps(one) == json.dumps(two)
    assert one["baseline"]["p_liquidity_event"] != other["baseline"]["p_liquidity_event"]
    start = fitted.start(draw_index(fitted.n_draws, 200, 7), 7)
    assert len(start.x_last) == 200 and one["draws"] == 200
