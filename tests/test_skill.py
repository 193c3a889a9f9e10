"""Early-warning scores against hand computations and brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from diagnostics.evaluation import scores
from diagnostics.evaluation.scores import brier


def test_auprc_by_hand():
    # ranked: 0.9 (event), 0.8 (no), 0.7 (event), 0.1 (no)
    # recall steps at 0.9 (P=1, R=1/2) and 0.7 (P=2/3, R=1): AP = 1/2 * 1 + 1/2 * 2/3
    assert scores.auprc([0.9, 0.8, 0.7, 0.1], [1, 0, 1, 0]) == pytest.approx(0.5 + 1 / 3)
    # ties are one threshold: all four at 0.5 -> precision 1/2 at recall 1
    assert scores.auprc([0.5] * 4, [1, 0, 1, 0]) == pytest.approx(0.5)
    assert np.isnan(scores.auprc([0.2, 0.3], [0, 0]))


def test_auprc_equals_the_precision_at_each_event_averaged():
    """Without ties AP is the mean over events of the precision at that event's rank."""
    rng = np.random.default_rng(4)
    p = rng.permutation(np.linspace(0.01, 0.99, 40))
    y = (rng.random(40) < p).astype(float)
    order = np.argsort(-p)
    ranked = y[order]
    precisions = [ranked[: k + 1].mean() for k in range(40) if ranked[k] == 1]
    assert scores.auprc(p, y) == pytest.approx(np.mean(precisions))


def test_relative_usefulness_by_hand():
    # 2 events: one missed (T1 = 1/2); 4 non-events: one false alarm (T2 = 1/4)
    signal = [1, 0, 1, 0, 0, 0]
    y = [1, 1, 0, 0, 0, 0]
    # mu = 0.5: loss 0.375, ignore 0.5 -> (0.5 - 0.375) / 0.5 = 0.25
    assert scores.relative_usefulness(signal, y, 0.5) == pytest.approx(0.25)
    # mu = 0.8: loss 0.8 * 0.5 + 0.2 * 0.25 = 0.45; ignore 0.2 -> (0.2 - 0.45) / 0.2
    assert scores.relative_usefulness(signal, y, 0.8) == pytest.approx(-1.25)
    assert scores.relative_usefulness(y, y, 0.7) == pytest.approx(1.0)
    # the better of never and always signalling is the benchmark: usefulness 0
    assert scores.relative_usefulness(np.ones(6), y, 0.7) == pytest.approx(0.0)
    assert scores.relative_usefulness(np.zeros(6), y, 0.3) == pytest.approx(0.0)
    # never signalling when misses cost more is worse than the benchmark
    assert scores.relative_usefulness(np.zeros(6), y, 0.7) == pytest.approx((0.3 - 0.7) / 0.3)


def test_best_threshold_is_the_brute_force_optimum():
    rng = np.random.default_rng(2)
    p = np.round(rng.random(30), 2)
    y = (rng.random(30) < p).astype(float)
    best = scores.best_threshold(p, y, 0.7)
    brute = max(scores.relative_usefulness(p >= c, y, 0.7) for c in [*p, np.inf])
    assert scores.relative_usefulness(p >= best, y, 0.7) == pytest.approx(brute)


def test_realtime_thresholds_read_only_closed_windows():
    origins = pd.date_range("2010-01-27", periods=40, freq="28D").to_numpy()
    rng = np.random.default_rng(0)
    p = rng.random(40)
    y = (p > 0.6).astype(float)
    signals = scores.realtime_signals(origins, p, y, horizon_days=91, mu=0.5)
    # changing the outcome of origin k cannot change any signal before k + horizon
    for k in (10, 25):
        flipped = y.copy()
        flipped[k] = 1 - flipped[k]
        other = scores.realtime_signals(origins, p, flipped, horizon_days=91, mu=0.5)
        closes = origins[k] + np.timedelta64(91, "D")
        before = origins < closes
        np.testing.assert_array_equal(other[before], signals[before])
    assert signals[0] == 0  # nothing known yet: no threshold, no signal


def test_block_indices_are_runs_of_consecutive_origins_joined_end_to_start():
    idx = scores.block_indices(23, 5, n_boot=50, seed=1)
    assert idx.shape == (50, 23)
    assert idx.min() >= 0 and idx.max() <= 22
    for row in idx:
        for start in range(0, 20, 5):
            assert np.all(np.diff(row[start : start + 5]) % 23 == 1)
    assert scores.block_length(200, 13, 52 / 12) == 6
    assert scores.block_length(8, 13, 52 / 12) == 4


def test_paired_difference_is_the_difference_on_the_same_resamples():
    rng = np.random.default_rng(3)
    y = (rng.random(120) < 0.2).astype(float)
    good = np.clip(0.6 * y + 0.1 + rng.normal(0, 0.05, 120), 0.01, 0.99)
    flat = np.full(120, y.mean())
    idx = scores.block_indices(120, 6, n_boot=300, seed=0)
    diff = scores.paired_difference(brier, good, flat, y, idx)
    assert diff["difference"] == pytest.approx(brier(good, y) - brier(flat, y))
    assert diff["q95"] < 0  # clearly better, and the interval says so
    same = scores.paired_difference(brier, flat, flat, y, idx)
    assert same["q05"] == same["q95"] == 0.0


def test_scores_with_intervals_bracket_the_point_values():
    rng = np.random.default_rng(5)
    p = rng.random(150) * 0.5
    y = (rng.random(150) < p).astype(float)
    row = scores.scores_with_intervals(
        p, y, np.full(150, y.mean()), scores.block_indices(150, 6, 400, 0)
    )
    for name in ("brier", "auroc", "auprc", "brier_skill"):
        assert row[f"{name}_q05"] <= row[name] <= row[f"{name}_q95"], name
    assert row["n_positive"] == int(y.sum())


def test_block_bootstrap_covers_more_than_iid_on_autocorrelated_scores():
    """Overlapping windows: blocks widen the interval; iid resampling understates it."""
    rng = np.random.default_rng(8)
    n = 240
    state = np.zeros(n)
    for t in range(1, n):
        state[t] = 0.95 * state[t - 1] + rng.normal(0, 0.3)
    y = (state > 0.8).astype(float)
    p = np.full(n, 0.2)
    blocks = scores.scores_with_intervals(p, y, p, scores.block_indices(n, 12, 500, 0))
    iid = scores.scores_with_intervals(p, y, p, scores.block_indices(n, 1, 500, 0))
    width = {k: r["brier_q95"] - r["brier_q05"] for k, r in (("b", blocks), ("i", iid))}
    assert width["b"] > 1.3 * width["i"]


@pytest.mark.parametrize("n, block", list(itertools.product((7, 30), (1, 3))))
def test_block_indices_cover_every_origin_eventually(n, block):
    idx = scores.block_indices(n, block, n_boot=400, seed=9)
    assert set(np.unique(idx)) == set(range(n))
