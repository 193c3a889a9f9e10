"""The backtest's records as one long table: a row per origin, target and forecaster.

Every row carries what a score needs to be read without the run that made it: the target,
the horizon in weeks, the data vintage (the panel as known on ``data_as_of``), the refit the
forecast came from, the forecast itself (probability and, for the model, its 90% interval),
the outcome and whether the origin is scored for that target. A forecaster without a
forecast at an origin keeps its row, with ``p`` empty and the reason in ``missing``: an
origin is never dropped silently.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from diagnostics.evaluation.targets import EVENT_SOURCES

#: The baselines of every event target, in table order.
BASELINES = ("climatology", "bayes_logit", "ms_tvtp", "signal")
#: Every target the backtest scores: the two onset definitions and QE restarts.
#: The target name of QE restarts (scored at origins where the Fed was not buying).
QE_TARGET = "qe_restart"
TARGETS = (*EVENT_SOURCES, QE_TARGET)
COLUMNS = (
    "origin",
    "target",
    "horizon",
    "forecaster",
    "kind",
    "p",
    "q05",
    "q95",
    "refit",
    "data_as_of",
    "outcome",
    "scored",
    "missing",
)


def _row(record: dict, target: str, truth: dict, forecaster: str, kind: str, **forecast) -> dict:
    row = {
        "origin": pd.Timestamp(record["origin"]),
        "target": target,
        "horizon": int(record["horizon"]),
        "forecaster": forecaster,
        "kind": kind,
        "p": np.nan,
        "q05": np.nan,
        "q95": np.nan,
        "refit": None,
        "data_as_of": record.get("data_as_of", record["origin"]),
        "outcome": truth["outcome"],
        "scored": truth["scored"],
        "missing": None,
    }
    row.update(forecast)
    if row["p"] is None or (isinstance(row["p"], float) and np.isnan(row["p"])):
        row["p"] = np.nan
        row["missing"] = row["missing"] or "no forecast"
    return row


def _model_rows(record: dict, target: str, truth: dict, key: str) -> list[dict]:
    rows = []
    for name, model in record["models"].items():
        if model is None:
            reason = record.get("missing", {}).get(name, "no passing refit")
            rows.append(_row(record, target, truth, name, "model", missing=reason))
            continue
        band = model[key]
        rows.append(
            _row(
                record,
                target,
                truth,
                name,
                "model",
                p=band["mean"],
                q05=band["q05"],
                q95=band["q95"],
                refit=model["fit_id"],
            )
        )
    return rows


def origin_rows(record: dict) -> list[dict]:
    """The long-table rows of one origin's record."""
    rows = []
    for target in EVENT_SOURCES:
        realized = record["realized"][target]
        truth = {"outcome": realized["onset"], "scored": bool(realized["scored_for_onset"])}
        rows += _model_rows(record, target, truth, "p_event")
        base = record["targets"][target]
        logit_missing = None if base["bayes_logit"] is not None else "no logit refit yet"
        rows += [
            _row(record, target, truth, "climatology", "baseline", p=base["climatology"]),
            _row(
                record,
                target,
                truth,
                "bayes_logit",
                "baseline",
                p=base["bayes_logit"],
                refit=base.get("bayes_logit_refit"),
                missing=logit_missing,
            ),
            _row(
                record,
                target,
                truth,
                "ms_tvtp",
                "baseline",
                p=record["ms_tvtp"],
                refit=record["origin"],
                missing=None if record["ms_tvtp"] is not None else "MLE found no usable fit",
            ),
            _row(record, target, truth, "signal", "baseline", p=base["signal"]["p"]),
        ]
    qe = record["realized"].get("qe")
    if qe is not None and "qe" in record:
        truth = {"outcome": qe["qe_restart"], "scored": bool(qe["qe_at_risk"])}
        rows += _model_rows(record, QE_TARGET, truth, "p_restart")
        rows.append(
            _row(
                record,
                QE_TARGET,
                truth,
                "climatology",
                "baseline",
                p=record["qe"]["climatology"],
            )
        )
    return rows


def forecast_table(records: list[dict]) -> pd.DataFrame:
    """Every origin's rows, sorted by target, forecaster and origin."""
    rows = [row for record in records for row in origin_rows(record)]
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    if table.empty:
        return table
    table["outcome"] = pd.to_numeric(table["outcome"], errors="coerce")
    return table.sort_values(["target", "forecaster", "origin"]).reset_index(drop=True)


def read_table(path) -> pd.DataFrame:
    """A stored table (``dense_forecasts.csv``), with its types restored."""
    table = pd.read_csv(path, parse_dates=["origin"])
    table["scored"] = table["scored"].astype(str).str.lower().isin(("true", "1"))
    return table


def model_names(table: pd.DataFrame) -> list[str]:
    """The model variants in the table, in the order they first appear."""
    if table.empty:
        return []
    return list(dict.fromkeys(table.loc[table["kind"] == "model", "forecaster"]))


def wide(table: pd.DataFrame, target: str, column: str = "p") -> pd.DataFrame:
    """One row per origin of ``target``: outcome, scored flag and each forecaster's column."""
    sub = table[table["target"] == target]
    out = sub.pivot(index="origin", columns="forecaster", values=column)
    facts = sub.groupby("origin")[["outcome", "scored", "horizon"]].first()
    return facts.join(out).sort_index()
