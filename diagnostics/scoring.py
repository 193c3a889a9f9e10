"""Scores for probability forecasts of rare binary outcomes, with bootstrap intervals.

All functions take ``p`` (forecast probabilities) and ``y`` (0/1 outcomes) of equal length.
They are written out rather than imported because each is a line or two and the tests check
them against hand-computed values; the calibration slope uses statsmodels.

With a handful of events in the backtest, every score is noisy: the bootstrap intervals
(resampling origins) are reported next to each point value, and ``n_events`` always is.
"""

from __future__ import annotations

import warnings

import numpy as np
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import PerfectSeparationError, PerfectSeparationWarning

#: Probabilities are clipped to this range before taking logs, so one overconfident zero
#: forecast of an event that happened costs log(1e-4), not infinity.
LOG_SCORE_FLOOR = 1e-4


def _check(p: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    if p.shape != y.shape or p.ndim != 1:
        raise ValueError(f"p and y must be 1-d and the same length, got {p.shape}, {y.shape}")
    if np.any((p < 0) | (p > 1)) or np.any(np.isnan(p)):
        raise ValueError("probabilities must lie in [0, 1]")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("outcomes must be 0 or 1")
    return p, y


def auroc(p, y) -> float:
    """Area under the ROC curve: P(p of a random event > p of a random non-event), ties 1/2.

    NaN when only one class is present (no events, or only events): it is undefined then.
    """
    p, y = _check(p, y)
    pos, neg = p[y == 1], p[y == 0]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))


def brier(p, y) -> float:
    p, y = _check(p, y)
    return float(np.mean((p - y) ** 2))


def brier_skill(p, y, reference) -> float:
    """1 - Brier(p) / Brier(reference): > 0 beats the reference (e.g. climatology)."""
    ref = brier(reference, y)
    return float(1.0 - brier(p, y) / ref) if ref > 0 else float("nan")


def log_score(p, y) -> float:
    """Mean log predictive probability of what happened (higher is better, 0 is perfect)."""
    p, y = _check(p, y)
    p = np.clip(p, LOG_SCORE_FLOOR, 1 - LOG_SCORE_FLOOR)
    return float(np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def reliability_bins(p, y, n_bins: int = 5) -> list[dict]:
    """Equal-width bins on [0, 1]: count, mean forecast and observed frequency per bin.

    The last bin is closed on the right so p = 1 is counted. Empty bins are omitted.
    """
    p, y = _check(p, y)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.digitize(p, edges[1:-1], right=False), 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        inside = index == b
        if inside.any():
            rows.append(
                {
                    "lower": float(edges[b]),
                    "upper": float(edges[b + 1]),
                    "count": int(inside.sum()),
                    "mean_forecast": float(p[inside].mean()),
                    "observed_frequency": float(y[inside].mean()),
                }
            )
    return rows


def calibration_slope(p, y) -> float:
    """Slope of a logistic regression of the outcome on logit(p): 1 is calibrated.

    Below 1 the forecasts are too extreme, above 1 too timid. NaN when the outcome has one
    class, when every forecast is the same (no slope to estimate: a bootstrap resample of
    climatology can be), or when the fit does not converge (perfect separation on a handful
    of events).
    """
    p, y = _check(p, y)
    q = np.clip(p, LOG_SCORE_FLOOR, 1 - LOG_SCORE_FLOOR)
    logit = np.log(q / (1 - q))
    if y.min() == y.max() or np.ptp(logit) == 0:
        return float("nan")
    try:
        with warnings.catch_warnings():
            # separation leaves the slope unidentified: NaN, not a warning per resample
            warnings.simplefilter("error", PerfectSeparationWarning)
            result = sm.GLM(y, sm.add_constant(logit), family=sm.families.Binomial()).fit()
    except (ValueError, np.linalg.LinAlgError, PerfectSeparationError, PerfectSeparationWarning):
        return float("nan")
    slope = float(result.params[1])
    return slope if np.isfinite(slope) and abs(slope) < 1e3 else float("nan")


def bootstrap_interval(
    score, p, y, *args, n_boot: int = 1000, seed: int = 0, level: float = 0.9
) -> tuple[float, float]:
    """Percentile interval of ``score(p[idx], y[idx], *args[idx])`` over resampled origins.

    Origins are resampled with replacement (quarterly origins with a 13-week horizon do not
    overlap, so they are treated as exchangeable; serial correlation of stress episodes
    makes these intervals, if anything, too narrow). Resamples where the score is undefined
    (e.g. no events drawn) are dropped.
    """
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(p), len(p))
        value = score(p[idx], y[idx], *(np.asarray(a)[idx] for a in args))
        if np.isfinite(value):
            values.append(value)
    if not values:
        return float("nan"), float("nan")
    tail = (1 - level) / 2
    return float(np.quantile(values, tail)), float(np.quantile(values, 1 - tail))


def score_table_row(p, y, climatology) -> dict:
    """Every score with its 90% bootstrap interval, for one forecaster and one target."""
    p, y = _check(p, y)
    row: dict = {"n_origins": int(len(p)), "n_events": int(y.sum())}
    for name, fn, extra in (
        ("auroc", auroc, ()),
        ("brier", brier, ()),
        ("brier_skill", brier_skill, (climatology,)),
        ("log_score", log_score, ()),
        ("calibration_slope", calibration_slope, ()),
    ):
        row[name] = fn(p, y, *extra)
        row[f"{name}_q05"], row[f"{name}_q95"] = bootstrap_interval(fn, p, y, *extra)
    return row
