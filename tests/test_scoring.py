"""Scoring functions against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from diagnostics.evaluation import scores

P = np.array([0.1, 0.4, 0.35, 0.8])
Y = np.array([0, 0, 1, 1])


def test_auroc_by_hand():
    # events score 0.35 and 0.8, non-events 0.1 and 0.4: 3 of the 4 pairs are ordered right
    assert scores.auroc(P, Y) == pytest.approx(0.75)
    assert scores.auroc([0.5, 0.5], [0, 1]) == pytest.approx(0.5)  # a tie counts 1/2
    assert scores.auroc([0.9, 0.1], [0, 1]) == pytest.approx(0.0)
    assert np.isnan(scores.auroc([0.2, 0.3], [0, 0]))  # undefined


def test_brier_and_skill_by_hand():
    expected = (0.1**2 + 0.4**2 + 0.65**2 + 0.2**2) / 4
    assert scores.brier(P, Y) == pytest.approx(expected)  # 0.158125
    assert scores.brier_skill(P, Y, np.full(4, 0.5)) == pytest.approx(1 - expected / 0.25)
    assert scores.brier_skill(np.full(4, 0.5), Y, np.full(4, 0.5)) == pytest.approx(0.0)


def test_log_score_by_hand_and_floor():
    expected = np.mean(np.log([0.9, 0.6, 0.35, 0.8]))
    assert scores.log_score(P, Y) == pytest.approx(expected)
    # a certain "no" for an event that happened costs log(floor), not -inf
    assert scores.log_score([0.0], [1]) == pytest.approx(np.log(scores.LOG_SCORE_FLOOR))


def test_reliability_bins_by_hand():
    bins = scores.reliability_bins([0.1, 0.4, 0.35, 0.8, 1.0, 0.15], [0, 0, 1, 1, 1, 1], n_bins=5)
    by_lower = {b["lower"]: b for b in bins}
    assert sorted(by_lower) == [0.0, pytest.approx(0.2), pytest.approx(0.4), pytest.approx(0.8)]
    assert by_lower[0.0]["count"] == 2  # 0.1 and 0.15
    assert by_lower[0.0]["mean_forecast"] == pytest.approx(0.125)
    assert by_lower[0.0]["observed_frequency"] == pytest.approx(0.5)
    top = [b for b in bins if b["upper"] == 1.0][0]  # 0.8 and 1.0 (closed right)
    assert top["count"] == 2 and top["observed_frequency"] == 1.0
    assert sum(b["count"] for b in bins) == 6


def test_calibration_slope_detects_overconfidence():
    rng = np.random.default_rng(0)
    logit = rng.normal(-1.0, 1.2, 20_000)
    truth = 1 / (1 + np.exp(-logit))
    y = (rng.random(len(truth)) < truth).astype(float)
    assert scores.calibration_slope(truth, y) == pytest.approx(1.0, abs=0.06)
    too_extreme = 1 / (1 + np.exp(-2 * logit))
    assert scores.calibration_slope(too_extreme, y) == pytest.approx(0.5, abs=0.04)
    assert np.isnan(scores.calibration_slope([0.1, 0.2], [0, 0]))
    # every forecast the same (a bootstrap resample of climatology): no slope, not a crash
    assert np.isnan(scores.calibration_slope([0.07, 0.07, 0.07], [0, 1, 0]))
    # forecasts that separate the outcomes perfectly leave the slope unidentified
    assert np.isnan(scores.calibration_slope([0.1, 0.2, 0.3, 0.7, 0.8], [0, 0, 0, 1, 1]))


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="same length"):
        scores.brier([0.1, 0.2], [1])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        scores.brier([1.2], [1])
    with pytest.raises(ValueError, match="0 or 1"):
        scores.brier([0.2], [2])
