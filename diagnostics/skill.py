"""Early-warning skill on dense, overlapping origins: block bootstrap, paired differences,
precision-recall, and the signal-extraction view (Alessi-Detken usefulness, real-time
thresholds).

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
from collections.abc import Callable

import numpy as np

from diagnostics.scoring import _check, auroc, brier, brier_skill, calibration_slope, log_score

#: A bootstrap block spans at least this many forecast horizons of consecutive origins.
BLOCK_HORIZONS = 2
#: Block lengths (in horizons) shown beside the main one: the intervals' sensitivity to it.
OTHER_BLOCK_HORIZONS = (1, 4)
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
