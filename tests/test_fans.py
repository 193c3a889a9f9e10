"""Stress-at-risk fans: the scores against closed forms, no look-ahead on the real panel,
and the pre-registered verdict rule."""

from __future__ import annotations

from dataclasses import replace
from math import erf, exp, pi, sqrt

import numpy as np
import pandas as pd
import pytest

from diagnostics.evaluation import fans


def normal_crps(mu: float, sigma: float, y: float) -> float:
    """Closed form of the CRPS of N(mu, sigma^2) at y (Gneiting and Raftery 2007)."""
    z = (y - mu) / sigma
    cdf = 0.5 * (1 + erf(z / sqrt(2)))
    pdf = exp(-z * z / 2) / sqrt(2 * pi)
    return sigma * (z * (2 * cdf - 1) + 2 * pdf - 1 / sqrt(pi))


def test_pinball_by_hand_and_crps_from_quantiles_near_the_closed_form():
    assert fans.pinball(np.array([1.0]), np.array([3.0]), 0.9)[0] == pytest.approx(1.8)
    assert fans.pinball(np.array([3.0]), np.array([1.0]), 0.9)[0] == pytest.approx(0.2)
    from statistics import NormalDist

    grid = np.array([[NormalDist().inv_cdf(t) for t in fans.QUANTILES]])
    for y in (-2.0, 0.0, 0.7, 2.5):
        approx = fans.crps_from_quantiles(grid, np.array([y]))[0]
        # seven quantiles leave out the tails: the approximation is within a quarter
        assert approx == pytest.approx(normal_crps(0.0, 1.0, y), rel=0.25)


@pytest.mark.slow
def test_a_fan_reads_nothing_after_its_origin(panel):
    origin = pd.Timestamp("2019-06-26")
    refits = [pd.Timestamp("2018-01-03"), pd.Timestamp("2019-01-02")]
    frame = panel.frame.copy()
    later = frame.index > origin
    frame.loc[later, list(fans.OBSERVABLES)] *= 1.7
    frame.loc[later, ["basis_short", "tga_change_13w"]] += 3.0
    altered = replace(panel, frame=frame)
    real = fans.fan_table(panel, [origin], refits)
    other = fans.fan_table(altered, [origin], refits)
    columns = ["forecaster", "observable", "target", *fans.COLUMNS]
    pd.testing.assert_frame_equal(real[columns], other[columns])
    assert real[fans.COLUMNS].notna().all().all()
    # the outcomes do change: the check would notice a forecast that read them
    assert not np.allclose(real["outcome"], other["outcome"])


def test_the_verdict_needs_the_interval_and_both_robustness_signs():
    base = {
        "observable": "log_move",
        "target": "h13",
        "forecaster": "driver_qr",
        "versus": "persistence",
        "loss": "pinball_90",
    }
    pairs = pd.DataFrame(
        [
            {**base, "skill_q05": 0.01, "skill_without_2008_09": 0.02, "skill_without_2020": 0.03},
            {**base, "skill_q05": 0.01, "skill_without_2008_09": -0.01, "skill_without_2020": 0.03},
            {**base, "skill_q05": -0.01, "skill_without_2008_09": 0.02, "skill_without_2020": 0.03},
        ]
    )
    assert fans.drivers_add_information(pairs)["passes"].tolist() == [True, False, False]


def test_the_models_fan_joins_on_the_same_origins_and_outcomes(panel):
    origin = pd.Timestamp("2019-06-26")
    refits = [pd.Timestamp("2018-01-03"), pd.Timestamp("2019-01-02")]
    table = fans.fan_table(panel, [origin], refits)
    quantiles = list(np.linspace(-20, 20, len(fans.QUANTILES))[::-1])  # unsorted on purpose
    record = {
        "origin": str(origin.date()),
        "models": {
            "regime_jump": {
                "fit_id": "f",
                "fans": {"log_move": {"h13": quantiles}, "funding_spread_max": {}},
            }
        },
    }
    joined = fans.with_model(table, [record], "regime_jump")
    model = joined[joined["forecaster"] == fans.MODEL]
    assert len(model) == 1 and model.iloc[0]["target"] == "h13"
    same = table[(table["observable"] == "log_move") & (table["target"] == "h13")]
    assert model.iloc[0]["outcome"] == same.iloc[0]["outcome"]
    assert list(model[fans.COLUMNS].iloc[0]) == sorted(quantiles)


def test_the_pit_figure_shows_each_forecasters_shares_against_the_calibrated_line():
    """Bars are each forecaster's share of outcomes per bin (they sum to one per
    forecaster); the calibrated line is the gap between the quantile levels."""
    from diagnostics.evaluation.fans import OBSERVABLES, QUANTILES, pit_figure

    counts = {"climatology": [1, 0, 0, 0, 0, 0, 0, 3], "model": [0, 0, 1, 2, 2, 1, 0, 0]}
    table = pd.DataFrame(
        [
            {"observable": o, "target": "h13", "forecaster": f, "pit": c}
            for o in OBSERVABLES
            for f, c in counts.items()
        ]
    )
    fig = pit_figure(table)
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights[:8], np.array(counts["climatology"]) / 4)
    np.testing.assert_allclose(heights[8:16], np.array(counts["model"]) / 6)
    line = ax.lines[0].get_ydata()
    np.testing.assert_allclose(line[:-1], np.diff([0.0, *QUANTILES, 1.0]))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["calibrated", "climatology", "the model"]
