"""The committee page's track record: the latest dense backtest of this model version.

A dense backtest (``python -m diagnostics dense``) scores one or more refit series; each
series is a directory of gated refits whose manifests hold the model configuration. A
series is *this model version* when its configuration equals the fit's apart from the
drivers and the start (early refits leave out a driver not yet published) and the series'
name in the score table is the one the backtest gave it. The newest matching backtest
under the backtests directory is read; none found is said on the page, never guessed.

What it returns (JSON-ready, for ``forecast.json``): the scores of the catalogue-onset
target over all origins with their moving-block 90% intervals (Brier skill against
climatology, AUROC, log score, origins, onsets) and the forecast as it was known at each
origin (posterior mean and 90% interval) with its outcome, for the history chart.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from model.config import ModelConfig

#: The configuration fields that do not change the model version (see the module doc).
VERSION_FREE_FIELDS = ("drivers", "start")


def version_key(config: ModelConfig) -> dict:
    d = config.to_dict()
    d.setdefault("move_observable", "level")
    for field in VERSION_FREE_FIELDS:
        d.pop(field, None)
    return d


def series_config(fits_dir: Path) -> ModelConfig | None:
    """The configuration of a refit series (its first readable manifest), or None."""
    for manifest in sorted(Path(fits_dir).glob("*/manifest.json")):
        try:
            return ModelConfig.from_dict(json.loads(manifest.read_text())["model"]["config"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return None


def matching_series(dense_dir: Path, config: ModelConfig) -> str | None:
    """The name of the series in this backtest made with ``config``'s model version."""
    try:
        spec = json.loads((dense_dir / "dense.json").read_text())
    except (OSError, ValueError):
        return None
    wanted = version_key(config)
    for name, fits_dir in spec.get("fits", {}).items():
        found = series_config(Path(fits_dir))
        if found is not None and version_key(found) == wanted:
            return name
    return None


def interval(row: pd.Series, column: str) -> dict[str, float]:
    return {
        k: float(row[f"{column}{s}"]) for k, s in (("mean", ""), ("q05", "_q05"), ("q95", "_q95"))
    }


def track_record(backtests: Path, config: ModelConfig, target: str = "catalogue") -> dict:
    """The newest backtest in ``backtests`` (``dense/`` or ``*/dense/``) that scored this
    model version.

    ``{"available": False, "reason": ...}`` when there is none.
    """
    found = [Path(backtests) / "dense", *Path(backtests).glob("*/dense")]
    candidates = sorted(
        (d for d in found if (d / "dense_scores.csv").is_file()),
        key=lambda d: (d / "dense_scores.csv").stat().st_mtime,
        reverse=True,
    )
    for dense in candidates:
        name = matching_series(dense, config)
        if name is None:
            continue
        scores = pd.read_csv(dense / "dense_scores.csv")
        row = scores[
            (scores["target"] == target)
            & (scores["period"] == "all")
            & (scores["forecaster"] == name)
        ]
        if row.empty:
            continue
        row = row.iloc[0]
        climatology = scores[
            (scores["target"] == target)
            & (scores["period"] == "all")
            & (scores["forecaster"] == "climatology")
        ]
        forecasts = pd.read_csv(dense / "dense_forecasts.csv")
        forecasts = forecasts[(forecasts["target"] == target) & forecasts[name].notna()]
        meta_file = dense / "dense_meta.json"
        meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
        return {
            "available": True,
            "backtest": str(dense),
            "series": name,
            "description": meta.get("description", ""),
            "target": target,
            "n_origins": int(row["n_origins"]),
            "n_onsets": int(row["n_positive"]),
            "brier_skill": interval(row, "brier_skill"),
            "auroc": interval(row, "auroc"),
            "log_score": interval(row, "log_score"),
            "climatology_log_score": (
                float(climatology.iloc[0]["log_score"]) if not climatology.empty else None
            ),
            "history": [
                {
                    "origin": r.origin,
                    "mean": float(getattr(r, name)),
                    "q05": float(getattr(r, f"{name}_q05")),
                    "q95": float(getattr(r, f"{name}_q95")),
                    "outcome": None if pd.isna(r.outcome) else float(r.outcome),
                    "climatology": float(r.climatology),
                }
                for r in forecasts.itertuples(index=False)
            ],
        }
    return {
        "available": False,
        "reason": f"no backtest of this model version under {backtests}",
    }
