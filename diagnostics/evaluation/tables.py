"""Scores of the long forecast table: each forecaster on its own origins, pairs on the
intersection, periods fixed in advance, intervals by the circular block bootstrap.

A forecaster is scored on every scored origin where it has a forecast; nothing is dropped
because another forecaster lacks one. A paired difference uses the origins both have and
states their count. The horizon and the origins' spacing are read from the rows, so a
26-week backtest is scored on 26-week windows with 26-week blocks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from diagnostics.evaluation import scores
from diagnostics.evaluation.records import BASELINES, TARGETS, model_names, wide
from diagnostics.evaluation.scores import brier, brier_skill, log_score

#: The pre-registered split (docs/backtest.md): development to 2019-12, confirmation after.
CONFIRMATION_START = "2020-01-01"
PERIODS = {
    "all": (None, None),
    "development (to 2019-12)": (None, "2019-12-31"),
    "confirmation (2020-01 on)": (CONFIRMATION_START, None),
}
#: The period a track record is read from by default: the one that chose nothing.
OUT_OF_SAMPLE = "confirmation (2020-01 on)"
#: Fewer scored origins than this, or no onset, and a score is not computed (said why).
MIN_ORIGINS = 10
PAIRED_SCORES = {"log_score": log_score, "brier": brier}


def horizon_of(frame: pd.DataFrame) -> int:
    """The one horizon of a target's rows (a mix would make the scores meaningless)."""
    values = pd.unique(frame["horizon"].dropna())
    if len(values) != 1:
        raise ValueError(f"records mix horizons {sorted(values)}: score them apart")
    return int(values[0])


def spacing_weeks(origins: pd.Index) -> float:
    """The origins' typical spacing in weeks (monthly origins: ~4.3)."""
    if len(origins) < 2:
        return 1.0
    return float(np.median(np.diff(origins.to_numpy()).astype("timedelta64[D]").astype(float)) / 7)


def in_period(frame: pd.DataFrame, bounds: tuple[str | None, str | None]) -> pd.DataFrame:
    lo, hi = bounds
    index = frame.index
    keep = np.ones(len(frame), dtype=bool)
    if lo:
        keep &= index >= pd.Timestamp(lo)
    if hi:
        keep &= index <= pd.Timestamp(hi)
    return frame[keep]


def scored_origins(table: pd.DataFrame, target: str) -> pd.DataFrame:
    """The wide frame of a target's scored origins whose outcome is known."""
    frame = wide(table, target)
    return frame[frame["scored"].astype(bool) & frame["outcome"].notna()]


def block_indices_for(
    n: int, horizon: int, spacing: float, horizons: float, seed: int = scores.BOOTSTRAP_SEED
):
    block = scores.block_length(n, horizon, spacing, horizons)
    return scores.block_indices(n, block, scores.N_BOOT, seed)


def why_not(n: int, positives: int) -> str | None:
    if n < MIN_ORIGINS:
        return f"only {n} scored origins with a forecast (at least {MIN_ORIGINS} needed)"
    if positives == 0:
        return "no onset among the scored origins"
    return None


def forecaster_scores(frame: pd.DataFrame, name: str, horizon: int) -> dict:
    """Every score of one forecaster on its own origins, with the block-length check."""
    own = frame[list(dict.fromkeys([name, "climatology", "outcome"]))].dropna()
    y = own["outcome"].to_numpy(float)
    row: dict = {"n_origins": len(own), "n_positive": int(y.sum())}
    reason = why_not(len(own), int(y.sum()))
    if reason:
        return {**row, "note": reason}
    p, clim = own[name].to_numpy(float), own["climatology"].to_numpy(float)
    spacing = spacing_weeks(own.index)
    idx = block_indices_for(len(own), horizon, spacing, scores.BLOCK_HORIZONS)
    row = scores.scores_with_intervals(p, y, clim, idx)
    for horizons in scores.OTHER_BLOCK_HORIZONS:
        other = block_indices_for(len(own), horizon, spacing, horizons)
        lo, hi = scores.interval([brier_skill(p[r], y[r], clim[r]) for r in other])
        row[f"brier_skill_q05_{horizons}h"], row[f"brier_skill_q95_{horizons}h"] = lo, hi
    row["note"] = ""
    return row


def paired_rows(frame: pd.DataFrame, name: str, other: str, horizon: int) -> list[dict]:
    """score(name) - score(other) on the origins both forecast, at every block length."""
    both = frame[[name, other, "outcome"]].dropna()
    y = both["outcome"].to_numpy(float)
    base = {"model": name, "versus": other, "n_origins": len(both), "n_positive": int(y.sum())}
    reason = why_not(len(both), int(y.sum()))
    if reason:
        return [{**base, "score": s, "note": reason} for s in PAIRED_SCORES]
    a, b = both[name].to_numpy(float), both[other].to_numpy(float)
    spacing = spacing_weeks(both.index)
    rows = []
    for score_name, fn in PAIRED_SCORES.items():
        row = {**base, "score": score_name, "note": ""}
        for horizons in (scores.BLOCK_HORIZONS, *scores.OTHER_BLOCK_HORIZONS):
            idx = block_indices_for(len(both), horizon, spacing, horizons)
            d = scores.paired_difference(fn, a, b, y, idx)
            suffix = "" if horizons == scores.BLOCK_HORIZONS else f"_{horizons}h"
            row["difference"] = d["difference"]
            row[f"q05{suffix}"], row[f"q95{suffix}"] = d["q05"], d["q95"]
        rows.append(row)
    return rows


def forecasters_of(table: pd.DataFrame, target: str) -> list[str]:
    present = set(table.loc[table["target"] == target, "forecaster"])
    return [f for f in (*model_names(table), *BASELINES) if f in present]


def score_tables(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores per target, period and forecaster; paired differences model minus the rest."""
    models = model_names(table)
    score_rows, diff_rows = [], []
    for target in TARGETS:
        if not (table["target"] == target).any():
            continue
        horizon = horizon_of(table[table["target"] == target])
        origins = scored_origins(table, target)
        names = forecasters_of(table, target)
        for period, bounds in PERIODS.items():
            frame = in_period(origins, bounds)
            for name in names:
                row = forecaster_scores(frame, name, horizon)
                score_rows.append({"target": target, "period": period, "forecaster": name, **row})
            for name in models:
                for other in (n for n in names if n != name):
                    for row in paired_rows(frame, name, other, horizon):
                        diff_rows.append({"target": target, "period": period, **row})
    return pd.DataFrame(score_rows), pd.DataFrame(diff_rows)


def missing_table(table: pd.DataFrame) -> pd.DataFrame:
    """Every scored origin where a forecaster had no forecast, and why."""
    if table.empty:
        return pd.DataFrame(columns=["origin", "target", "forecaster", "missing"])
    gap = table[table["p"].isna() & table["scored"].astype(bool)]
    return gap[["origin", "target", "forecaster", "missing"]].reset_index(drop=True)


def missing_years(table: pd.DataFrame, forecaster: str, target: str) -> list[int]:
    """Years with a scored origin where ``forecaster`` had no forecast."""
    gap = missing_table(table)
    gap = gap[(gap["forecaster"] == forecaster) & (gap["target"] == target)]
    return sorted({int(o.year) for o in pd.to_datetime(gap["origin"])})


def usefulness_table(table: pd.DataFrame) -> pd.DataFrame:
    """Real-time thresholds: hits, false alarms and relative usefulness per cost weight."""
    rows = []
    for target in (t for t in TARGETS if t != "qe_restart"):
        if not (table["target"] == target).any():
            continue
        horizon = horizon_of(table[table["target"] == target])
        frame = scored_origins(table, target)
        for name in forecasters_of(table, target):
            own = frame[[name, "outcome"]].dropna()
            y = own["outcome"].to_numpy(float)
            for mu in scores.USEFULNESS_MU:
                signal = scores.realtime_signals(
                    own.index.to_numpy(), own[name].to_numpy(float), y, 7 * horizon, mu
                )
                rows.append(
                    {
                        "target": target,
                        "forecaster": name,
                        "mu": mu,
                        "origins": len(own),
                        "hits": int(((signal == 1) & (y == 1)).sum()),
                        "missed": int(((signal == 0) & (y == 1)).sum()),
                        "false_alarms": int(((signal == 1) & (y == 0)).sum()),
                        "relative_usefulness": scores.relative_usefulness(signal, y, mu),
                    }
                )
    return pd.DataFrame(rows)


def leave_one_event_out(table: pd.DataFrame, onset_dates: dict[str, list]) -> pd.DataFrame:
    """Brier and log score with the origins whose window holds one onset removed."""
    rows = []
    for target, dates in onset_dates.items():
        if not (table["target"] == target).any():
            continue
        horizon = horizon_of(table[table["target"] == target])
        frame = scored_origins(table, target)
        for onset in pd.to_datetime(dates):
            before = (frame.index < onset) & (frame.index >= onset - pd.Timedelta(weeks=horizon))
            part = frame[~before]
            row = {
                "target": target,
                "left_out": str(onset.date()),
                "origins_removed": int(before.sum()),
            }
            for name in forecasters_of(table, target):
                own = part[[name, "outcome"]].dropna()
                y, p = own["outcome"].to_numpy(float), own[name].to_numpy(float)
                row[f"{name}_brier"] = brier(p, y) if len(y) else np.nan
                row[f"{name}_log"] = log_score(p, y) if len(y) else np.nan
            rows.append(row)
    return pd.DataFrame(rows)
