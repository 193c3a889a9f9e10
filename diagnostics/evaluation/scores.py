"""Scores of probability forecasts of rare onsets, and their intervals on overlapping origins.

Point scores (Brier, log score, AUROC, precision-recall, calibration slope, reliability) are
written out rather than imported because each is a line or two and the tests check them
against hand-computed values; the calibration slope uses statsmodels. The signal view
(Alessi-Detken usefulness with real-time thresholds) is here too.

Monthly origins with a 13-week horizon overlap: three consecutive origins share most of
their window, so resampling origins one by one would make the intervals too narrow. Every
interval here resamples **circular blocks** of consecutive origins covering at least
:data:`BLOCK_HORIZONS` horizons (Politis and Romano's circular block bootstrap: the origins
are joined end to start, so the first and last origins carry the same expected weight as the
middle ones; a plain moving-block bootstrap under-weights the edges, where two of the
catalogue's recent onsets sit). A difference between two forecasters is computed on the
**same** resampled origins (paired), which is what answers "does it beat X".

A resample can hold no onset at all. Scores that need both classes (AUROC, precision-recall,
calibration slope, Brier skill when the reference's Brier is 0) are undefined on it; those
resamples are counted and reported (``resamples_without_onset``), never dropped silently.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

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


#: A bootstrap block spans at least this many forecast horizons of consecutive origins.
BLOCK_HORIZONS = 2
#: Block lengths (in horizons) shown beside the main one: the intervals' sensitivity to it.
OTHER_BLOCK_HORIZONS = (1, 4)
#: The bootstrap's seed: every score table (and the shipped ones) resamples the same blocks.
BOOTSTRAP_SEED = 0
N_BOOT = 1000
#: The calibration slope's interval uses the first this-many resamples: each one is a
#: logistic-regression fit, ~90% of the report's time at N_BOOT.
CALIBRATION_BOOT = 200
#: Relative costs of a missed event (mu) against a false alarm (1 - mu) reported.
USEFULNESS_MU = (0.5, 0.7, 0.8, 0.9)


def auprc(p, y) -> float:
    """Area under the precision-recall curve as average precision (sklearn's definition).

    sum over thresholds (each distinct p, high to low) of (R_k - R_{k-1}) * P_k: precision at
    each recall step, ties taken together. NaN without events. A no-skill forecaster scores
    the event rate.
    """
    p, y = _check(p, y)
    if y.sum() == 0:
        return float("nan")
    order = np.argsort(-p, kind="mergesort")
    p, y = p[order], y[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(p)), len(p) - 1]
    tp = np.cumsum(y)[last_of_tie]
    fp = (last_of_tie + 1) - tp
    precision = tp / (tp + fp)
    recall = tp / y.sum()
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def relative_usefulness(signal, y, mu: float) -> float:
    """Alessi-Detken relative usefulness of a 0/1 signal for a loss weight ``mu`` on misses.

    Loss = mu * (missed share of events) + (1 - mu) * (false-alarm share of non-events);
    a forecaster ignoring the signal loses min(mu, 1 - mu). Usefulness is that minus the
    loss, relative to it: 1 is perfect, 0 no better than ignoring, negative worse.
    """
    signal, y = np.asarray(signal, dtype=float), np.asarray(y, dtype=float)
    events, calm = y == 1, y == 0
    if not events.any() or not calm.any():
        return float("nan")
    missed = float(np.mean(signal[events] == 0))
    false_alarm = float(np.mean(signal[calm] == 1))
    baseline = min(mu, 1 - mu)
    return (baseline - (mu * missed + (1 - mu) * false_alarm)) / baseline


def best_threshold(p, y, mu: float) -> float:
    """The threshold on p that maximizes relative usefulness on (p, y) (ties: the highest).

    Candidates are the distinct forecasts (signal when p >= threshold) and 'never signal'
    (infinity); all are evaluated at once from sorted counts.
    """
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    candidates = np.r_[np.unique(p), np.inf]
    events, calm = np.sort(p[y == 1]), np.sort(p[y == 0])
    if len(events) == 0 or len(calm) == 0:
        return float(np.inf)
    missed = np.searchsorted(events, candidates, side="left") / len(events)
    false_alarm = 1 - np.searchsorted(calm, candidates, side="left") / len(calm)
    baseline = min(mu, 1 - mu)
    values = (baseline - (mu * missed + (1 - mu) * false_alarm)) / baseline
    best = np.flatnonzero(values == values.max())
    return float(candidates[best[-1]])


def realtime_signals(
    origins: np.ndarray, p, y, horizon_days: int, mu: float, min_events: int = 2
) -> np.ndarray:
    """Signal at each origin with the threshold the forecaster would have chosen then.

    The threshold at origin t is the best one on the earlier origins whose outcome window
    had closed by t (origin + horizon <= t); before ``min_events`` such events there is no
    basis for a threshold and no signal (0).
    """
    origins = np.asarray(origins, dtype="datetime64[D]")
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    out = np.zeros(len(p))
    for t in range(len(p)):
        known = origins + np.timedelta64(horizon_days, "D") <= origins[t]
        if y[known].sum() >= min_events:
            out[t] = float(p[t] >= best_threshold(p[known], y[known], mu))
    return out


def block_length(
    n_origins: int, horizon_weeks: int, spacing_weeks: float, horizons: float = BLOCK_HORIZONS
) -> int:
    """Origins per bootstrap block: at least ``horizons`` horizons, at most half the data."""
    wanted = math.ceil(horizons * horizon_weeks / max(spacing_weeks, 1e-9))
    return int(max(1, min(wanted, n_origins // 2 or 1)))


def block_indices(n: int, block: int, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, n) circular block bootstrap indices: blocks of consecutive origins that wrap
    from the last origin to the first, each start equally likely."""
    rng = np.random.default_rng(seed)
    n_blocks = math.ceil(n / block)
    starts = rng.integers(0, n, size=(n_boot, n_blocks))
    idx = (starts[..., None] + np.arange(block)) % n
    return idx.reshape(n_boot, -1)[:, :n]


def resamples_without_onset(y, idx: np.ndarray) -> int:
    """How many resamples hold no onset (scores needing both classes are undefined there)."""
    y = np.asarray(y, dtype=float)
    return int((y[idx].sum(axis=1) == 0).sum())


def interval(values: np.ndarray, level: float = 0.9) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return float("nan"), float("nan")
    tail = (1 - level) / 2
    return float(np.quantile(values, tail)), float(np.quantile(values, 1 - tail))


Score = Callable[..., float]


SCORES: dict[str, Score] = {
    "brier": brier,
    "log_score": log_score,
    "auroc": auroc,
    "auprc": auprc,
    "calibration_slope": calibration_slope,
}


def scores_with_intervals(p, y, reference, idx: np.ndarray) -> dict:
    """Point scores and their block-bootstrap 90% intervals (``reference``: climatology).

    Brier skill is 1 - Brier(p) / Brier(reference) on the same resampled origins.
    """
    p, y, reference = (np.asarray(a, dtype=float) for a in (p, y, reference))
    out: dict = {
        "n_origins": int(len(p)),
        "n_positive": int(y.sum()),
        "n_resamples": int(len(idx)),
        "resamples_without_onset": resamples_without_onset(y, idx),
    }
    for name, fn in SCORES.items():
        out[name] = fn(p, y)
        rows = idx[:CALIBRATION_BOOT] if name == "calibration_slope" else idx
        out[f"{name}_q05"], out[f"{name}_q95"] = interval([fn(p[r], y[r]) for r in rows])
    out["brier_skill"] = brier_skill(p, y, reference)
    out["brier_skill_q05"], out["brier_skill_q95"] = interval(
        [brier_skill(p[r], y[r], reference[r]) for r in idx]
    )
    return out


def paired_difference(score: Score, p_a, p_b, y, idx: np.ndarray) -> dict:
    """score(a) - score(b) on the same origins, with its paired block-bootstrap interval."""
    p_a, p_b, y = (np.asarray(a, dtype=float) for a in (p_a, p_b, y))
    point = score(p_a, y) - score(p_b, y)
    boots = [score(p_a[row], y[row]) - score(p_b[row], y[row]) for row in idx]
    lo, hi = interval(boots)
    return {"difference": float(point), "q05": lo, "q95": hi}
