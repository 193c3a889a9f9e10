"""Backtest targets from the catalogue, climatology, and the classical baselines."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from diagnostics.evaluation.baselines import (
    complete_tvtp_drivers,
    markov_forecast,
    p_stress_within,
)
from diagnostics.evaluation.outcomes import climatology, history_targets, realized, window_indicator


def test_realized_outcomes_from_the_catalogue():
    # window 2020-01-08 .. 2020-04-01: the March 2020 dash for cash and the 2020-03-15 restart
    covid = realized(pd.Timestamp("2020-01-01"), 13, "strict")
    assert covid == {"liquidity_event": 1, "qe_at_risk": True, "qe_restart": 1}
    # under the broad definition the Fed was already buying bills (since 2019-10): not at risk
    assert realized(pd.Timestamp("2020-01-01"), 13, "broad")["qe_restart"] is None
    # the April 2025 tariff shock starts on the last week of a window from 2025-01-01
    assert realized(pd.Timestamp("2025-01-01"), 13, "strict")["liquidity_event"] == 1
    assert realized(pd.Timestamp("2025-01-01"), 12, "strict")["liquidity_event"] == 0
    # 2021: buying under the COVID programme, no event
    quiet = realized(pd.Timestamp("2021-01-06"), 13, "strict")
    assert quiet == {"liquidity_event": 0, "qe_at_risk": False, "qe_restart": None}


def test_window_indicator_and_climatology_by_hand():
    assert np.array_equal(
        window_indicator(np.array([0, 0, 1, 0, 0]), 2), [1, 1, 0, np.nan, np.nan], equal_nan=True
    )
    # 2019: the repo spike covers the weeks of 09-18 .. 10-16 (indices 37..41 from 01-02);
    # a 4-week window after week t sees it for t = 33..40: 8 of the 48 closed windows
    weeks = pd.date_range("2019-01-02", periods=52, freq="7D")
    targets = history_targets(weeks, 4, "strict")
    assert targets["liquidity_event"].iloc[:48].sum() == 8
    assert targets["liquidity_event"].iloc[48:].isna().all()
    assert climatology(weeks, 4, "strict")["liquidity_event"] == pytest.approx(9 / 50)


def test_p_stress_within_equals_path_enumeration():
    to_stress = np.array([0.07, 0.8])
    for p_now, horizon in [(0.0, 1), (0.3, 3), (0.9, 4)]:
        total = 0.0
        for start, *path in itertools.product((0, 1), *[(0, 1)] * horizon):
            prob = p_now if start else 1 - p_now
            prev = start
            for s in path:
                prob *= to_stress[prev] if s else 1 - to_stress[prev]
                prev = s
            total += prob * any(path)
        assert p_stress_within(p_now, to_stress, horizon) == pytest.approx(total)


@pytest.mark.slow
def test_baselines_on_real_data_as_known(snapshot):
    from data.panel import build_panel
    from model.equations.config import ModelConfig
    from model.equations.inputs import model_inputs

    inputs = model_inputs(
        build_panel(snapshot, end="2019-08-28"), ModelConfig(move_observable="level")
    )
    drivers, first = complete_tvtp_drivers(inputs)
    assert drivers and not np.isnan(inputs.x[first:, drivers]).any()
    markov = markov_forecast(inputs, 13)
    assert markov["status"] == "ok"
    assert 0.0 <= markov["p_stress_now"] <= 1.0 and 0.0 <= markov["liquidity_event"] <= 1.0
    # the CFTC basis series is observed in under half of 2006-2019: not a transition driver
    assert "basis_short" not in markov["drivers_used"]
    # every onset within h brings a stress week within h, not the other way round
    assert markov["liquidity_event"] <= markov["p_stress_week_within"]
    assert markov["qe_restart"] is None
    # the MLE's random start search is seeded: unseeded, P(stress now) at this vintage came
    # out 6e-18 in one run and 1.0 in the next (the regimes' labels flip between optima)
    assert markov_forecast(inputs, 13) == markov
