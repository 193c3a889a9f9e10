"""Backtest records -> forecasts.csv, scores.csv, figures and summary.html.

Scores are computed per target on the origins where that target is defined (QE restarts:
only origins where the Fed was not already buying) and on the same origins for every
forecaster, so the rows of ``scores.csv`` are comparable. Missing baseline forecasts (an MLE
that failed) are listed in the summary and those origins are dropped for that forecaster
only; the count is in the ``n_origins`` column.
"""

from __future__ import annotations

import html
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from data.atomic import atomic_write_text
from diagnostics.outcomes import TARGETS
from diagnostics.scoring import reliability_bins, score_table_row
from outlook.report import embed

FORECASTERS = ("model", "climatology", "logistic", "markov_tvtp")
TARGET_LABELS = {"liquidity_event": "liquidity event", "qe_restart": "QE restart"}


def forecast_table(records: list[dict]) -> pd.DataFrame:
    """One row per origin, target and forecaster: probability, outcome, gate flag."""
    rows = []
    for r in records:
        for target in TARGETS:
            outcome = r["realized"][target]
            if outcome is None:
                continue
            model = r["model"][target]
            rows.append(
                {
                    "origin": r["origin"],
                    "target": target,
                    "forecaster": "model",
                    "p": model["mean"],
                    "p_q05": model["q05"],
                    "p_q95": model["q95"],
                    "outcome": outcome,
                    "gate_passed": r["gate_passed"],
                }
            )
            for name in FORECASTERS[1:]:
                p = r["baselines"][name].get(target)
                rows.append(
                    {
                        "origin": r["origin"],
                        "target": target,
                        "forecaster": name,
                        "p": np.nan if p is None else p,
                        "p_q05": np.nan,
                        "p_q95": np.nan,
                        "outcome": outcome,
                        "gate_passed": r["gate_passed"],
                    }
                )
    frame = pd.DataFrame(rows)
    if len(frame):
        frame["origin"] = pd.to_datetime(frame["origin"])
    return frame


def score_table(forecasts: pd.DataFrame) -> pd.DataFrame:
    """Scores with 90% bootstrap intervals per target and forecaster (+ gate-passed model)."""
    rows = []
    for target in TARGETS:
        sub = forecasts[forecasts["target"] == target]
        if sub.empty:
            continue
        clim = sub[sub["forecaster"] == "climatology"].set_index("origin")["p"]
        variants = [(name, sub[sub["forecaster"] == name]) for name in FORECASTERS]
        model_rows = sub[sub["forecaster"] == "model"]
        variants.append(("model (gate-passed origins)", model_rows[model_rows["gate_passed"]]))
        for name, rows_f in variants:
            rows_f = rows_f.dropna(subset=["p"]).set_index("origin")
            if rows_f.empty:
                continue
            reference = clim.reindex(rows_f.index).to_numpy()
            row = score_table_row(
                rows_f["p"].to_numpy(), rows_f["outcome"].to_numpy(float), reference
            )
            rows.append({"target": target, "forecaster": name, **row})
    return pd.DataFrame(rows)


def reliability_figure(forecasts: pd.DataFrame, target: str, n_bins: int = 5) -> plt.Figure:
    sub = forecasts[forecasts["target"] == target].dropna(subset=["p"])
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], color="grey", ls=":", label="perfect calibration")
    for name in FORECASTERS:
        rows = sub[sub["forecaster"] == name]
        if rows.empty:
            continue
        bins = reliability_bins(rows["p"].to_numpy(), rows["outcome"].to_numpy(float), n_bins)
        ax.plot(
            [b["mean_forecast"] for b in bins],
            [b["observed_frequency"] for b in bins],
            marker="o",
            label=name,
        )
        for b in bins:
            ax.annotate(
                str(b["count"]),
                (b["mean_forecast"], b["observed_frequency"]),
                fontsize=7,
                xytext=(3, 3),
                textcoords="offset points",
            )
    n_events = int(sub[sub["forecaster"] == "model"]["outcome"].sum())
    ax.set(
        xlim=(0, 1),
        ylim=(-0.02, 1.02),
        xlabel="forecast probability (bin mean)",
        ylabel="observed frequency in the bin",
        title=f"Reliability: {TARGET_LABELS[target]} within the horizon\n"
        f"({n_events} origins with the outcome; numbers = origins per bin)",
    )
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def history_figure(forecasts: pd.DataFrame, target: str) -> plt.Figure:
    sub = forecasts[forecasts["target"] == target]
    fig, ax = plt.subplots(figsize=(11, 3.8))
    model = sub[sub["forecaster"] == "model"].sort_values("origin")
    happened = model[model["outcome"] == 1]["origin"]
    for i, origin in enumerate(happened):
        ax.axvspan(
            origin,
            origin + pd.Timedelta(weeks=13),
            color="tab:red",
            alpha=0.15,
            lw=0,
            label="outcome occurred in the window" if i == 0 else None,
        )
    ax.fill_between(
        model["origin"],
        model["p_q05"],
        model["p_q95"],
        color="tab:blue",
        alpha=0.2,
        lw=0,
        step="post",
        label="model 90% interval",
    )
    ax.step(model["origin"], model["p"], where="post", color="tab:blue", lw=1.8, label="model")
    for name in FORECASTERS[1:]:
        rows = sub[sub["forecaster"] == name].sort_values("origin")
        if rows["p"].notna().any():
            ax.step(rows["origin"], rows["p"], where="post", lw=1, label=name)
    failed = model[~model["gate_passed"]]
    if len(failed):
        ax.scatter(
            failed["origin"],
            failed["p"],
            marker="x",
            color="black",
            zorder=5,
            label="model fit failed the gate",
        )
    ax.set(
        ylim=(0, 1),
        xlabel="forecast origin (data as known then)",
        ylabel="P(within 13 weeks)",
        title=f"Backtest: forecast probability of a {TARGET_LABELS[target]} at each origin",
    )
    ax.legend(fontsize=8, ncol=3, loc="upper left")
    fig.tight_layout()
    return fig


def scores_figure(scores: pd.DataFrame) -> plt.Figure:
    metrics = [
        ("auroc", "AUROC", "AUROC (0.5 = no skill)"),
        ("brier_skill", "Brier skill", "Brier skill vs climatology (0 = none)"),
        ("log_score", "log score", "mean log score (higher is better)"),
    ]
    targets = [t for t in TARGETS if t in set(scores["target"])]
    fig, axes = plt.subplots(
        len(targets), len(metrics), figsize=(13, 3.2 * len(targets)), squeeze=False
    )
    for i, target in enumerate(targets):
        sub = scores[scores["target"] == target]
        for j, (metric, name, label) in enumerate(metrics):
            ax = axes[i, j]
            y = np.arange(len(sub))
            value = sub[metric].to_numpy(float)
            lo = value - sub[f"{metric}_q05"].to_numpy(float)
            hi = sub[f"{metric}_q95"].to_numpy(float) - value
            ax.errorbar(value, y, xerr=[np.nan_to_num(lo), np.nan_to_num(hi)], fmt="o", capsize=3)
            ticks = [
                f"{r.forecaster}\n{r.n_events} of {r.n_origins} origins with an event"
                for r in sub.itertuples()
            ]
            ax.set_yticks(y, ticks, fontsize=7)
            ax.set(xlabel=label, title=f"{TARGET_LABELS[target]}: {name}")
            ax.axvline({"auroc": 0.5, "brier_skill": 0.0}.get(metric, np.nan), color="grey", ls=":")
    fig.suptitle(
        "Backtest scores by forecaster: point value and 90% bootstrap interval over origins"
    )
    fig.tight_layout()
    return fig


def summary_html(
    scores: pd.DataFrame,
    forecasts: pd.DataFrame,
    records: list[dict],
    figures: dict[str, str],
    meta: dict,
) -> str:
    n = len(records)
    failed_gate = sum(not r["gate_passed"] for r in records)
    counts = {
        t: int(
            forecasts[(forecasts["target"] == t) & (forecasts["forecaster"] == "model")][
                "outcome"
            ].sum()
        )
        for t in TARGETS
    }
    defined = {
        t: int(((forecasts["target"] == t) & (forecasts["forecaster"] == "model")).sum())
        for t in TARGETS
    }
    cols = [
        "target",
        "forecaster",
        "n_origins",
        "n_events",
        "auroc",
        "brier",
        "brier_skill",
        "log_score",
        "calibration_slope",
    ]

    def cell(row, c):
        v = row[c]
        if c in ("target", "forecaster", "n_origins", "n_events"):
            return html.escape(str(v))
        if not np.isfinite(v):
            return "n/a"
        lo, hi = row[f"{c}_q05"], row[f"{c}_q95"]
        return f"{v:.3f} <small>({lo:.3f} – {hi:.3f})</small>"

    table = (
        "<table><tr>"
        + "".join(f"<th>{c}</th>" for c in cols)
        + "</tr>"
        + "".join(
            "<tr>" + "".join(f"<td>{cell(r, c)}</td>" for c in cols) + "</tr>"
            for _, r in scores.iterrows()
        )
        + "</table>"
    )
    imgs = "".join(f"<h3>{html.escape(k)}</h3>{v}" for k, v in figures.items())
    markov_failed = [
        r["origin"] for r in records if r["baselines"]["markov_tvtp"].get("liquidity_event") is None
    ]
    markov_note = (
        f"MarkovRegression MLE unavailable at {len(markov_failed)} origin(s): "
        f"{html.escape(', '.join(markov_failed))}."
        if markov_failed
        else ""
    )
    origin_minutes = sum(r["seconds"] for r in records) / 60
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>liqshock backtest</title><style>body{{font-family:sans-serif;max-width:1150px;
margin:auto}} table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:3px 6px;
font-size:13px}} img{{max-width:100%}} .warn{{background:#fff3cd;padding:8px}}</style>
</head><body><h1>liqshock backtest: how good has the model been?</h1>
<p>{n} origins ({html.escape(meta["first"])} to {html.escape(meta["last"])}, every
{html.escape(meta["every"])}), each fit on data as known at the origin and scored on the next
{meta["horizon"]} weeks. Compute: {origin_minutes:.0f} origin-minutes in all (each origin's
panel, fit, forecast and baselines, summed over origins); wall time of this invocation
{meta["seconds"]:.0f} s ({meta["computed"]} origins computed, {meta["reused"]} reused from an
earlier run).</p>
<p class=warn><b>Few events.</b> Liquidity events happened in the window after
{counts["liquidity_event"]} of {defined["liquidity_event"]} origins; QE restarts after
{counts["qe_restart"]} of {defined["qe_restart"]} at-risk origins. Every score below rests on
these few cases: read the bootstrap intervals, not the point values.
<b>{failed_gate} of {n} origin fits failed the convergence gate</b> (reduced sampler
setting); they are scored in the "model" row and left out of the "gate-passed" row.
Hindsight: event dates come from today's catalogue; drivers, observables and their
publication lags are as known at each origin.
{markov_note}</p>
<h2>Scores (90% bootstrap intervals over origins)</h2>{table}
<p><small>Brier skill is relative to climatology on the same origins. Calibration slope: 1 is
calibrated, below 1 too extreme. Logistic baseline: statsmodels ridge GLM on the drivers
observed in at least half of the training weeks (missing cells at the driver mean;
climatology when the training weeks hold no case of the target).
MarkovRegression: two regimes of log MOVE with logistic transitions (MLE); its event
probability is P(at least one stress week in the horizon), so it is scored for liquidity
events only.</small></p>
{imgs}</body></html>"""


def write_report(records: list[dict], out: Path, meta: dict) -> dict[str, Path]:
    out = Path(out)
    forecasts = forecast_table(records)
    scores = score_table(forecasts)
    paths = {
        "forecasts": out / "forecasts.csv",
        "scores": out / "scores.csv",
        "summary": out / "summary.html",
    }
    atomic_write_text(paths["forecasts"], forecasts.to_csv(index=False))
    atomic_write_text(paths["scores"], scores.to_csv(index=False))
    figures = {}
    for target in TARGETS:
        if (forecasts["target"] == target).any():
            for kind, make in (("history", history_figure), ("reliability", reliability_figure)):
                fig = make(forecasts, target)
                png = out / f"{kind}_{target}.png"
                fig.savefig(png, dpi=110)
                figures[f"{TARGET_LABELS[target]}: {kind}"] = embed(fig, f"{kind} {target}")
                paths[f"{kind}_{target}"] = png
    if len(scores):
        fig = scores_figure(scores)
        fig.savefig(out / "scores.png", dpi=110)
        figures["scores side by side"] = embed(fig, "scores")
        paths["scores_png"] = out / "scores.png"
    atomic_write_text(paths["summary"], summary_html(scores, forecasts, records, figures, meta))
    return paths
