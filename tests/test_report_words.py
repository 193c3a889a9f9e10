"""The committee page's sentence about scenarios follows their intervals: it names the one
that raises P(event) most only when that rise is measurable."""

from __future__ import annotations

from outlook.report import what_moved


def forecast_with(changes: dict[str, tuple[float, float, float]]) -> dict:
    band = {"mean": 0.10, "q05": 0.04, "q95": 0.18}
    return {
        "baseline": {"p_liquidity_event": band, "p_qe_restart": band},
        "horizon_weeks": 13,
        "qe_definition": "strict",
        "qe_at_risk": True,
        "attribution": {"drivers": {"log_move": {"share": {"mean": 0.01}}}},
        "scenarios": {
            name: {
                "p_liquidity_event": {"mean": 0.10 + mean},
                "change_vs_baseline": {"p_liquidity_event": {"mean": mean, "q05": lo, "q95": hi}},
            }
            for name, (mean, lo, hi) in changes.items()
        },
    }


def test_no_largest_effect_is_named_when_every_interval_includes_zero():
    text = what_moved(
        forecast_with({"calm": (0.003, -0.018, 0.026), "shock": (-0.016, -0.05, 0.02)})
    )
    assert "No scenario changes the event probability measurably" in text
    assert "raises it most" not in text


def test_a_measurable_rise_is_named_and_a_measurable_fall_alone_is_not_a_rise():
    text = what_moved(forecast_with({"calm": (0.003, -0.01, 0.02), "shock": (0.05, 0.01, 0.09)}))
    assert "The scenario that raises it most is shock" in text
    text = what_moved(forecast_with({"calm": (-0.03, -0.05, -0.01)}))
    assert "No scenario raises the event probability measurably" in text


def test_a_scenarios_kind_is_said_in_plain_words():
    from outlook.report import kind_words

    words = kind_words(
        {"observes": ["log_move"], "moves_drivers": ["tga_change_13w", "basis_short"]}
    )
    assert words.startswith("observes MOVE: a conditional forecast; moves ")
    assert "Treasury General Account" in words and "basis-trade size" in words
    assert "_" not in words
    assert kind_words({"observes": [], "moves_drivers": ["foreign_demand_12m"]}) == (
        "moves foreign demand"
    )
    both = kind_words(
        {"observes": ["log_move", "funding_spread"], "moves_drivers": [], "not_read": []}
    )
    assert both == "observes MOVE and the funding spread: a conditional forecast"
    unread = kind_words({"observes": [], "moves_drivers": [], "not_read": ["reserve_buffer"]})
    assert unread == "sets reserve buffer, which this model does not read"
