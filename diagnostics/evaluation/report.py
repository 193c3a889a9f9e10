"""What a reader of the backtest sees: tables as CSV and Markdown, figures, ``summary.html``.

Everything here reads the long forecast table (:mod:`diagnostics.evaluation.records`) and
the scores made from it (:mod:`diagnostics.evaluation.tables`), so the same files are
written from a fresh run or from the shipped records (``python -m diagnostics score``).
Every table says how many origins and onsets stand behind each number; a score that could
not be computed says why; an empty window writes "none" instead of failing.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from data.atomic import atomic_write_text
from diagnostics.evaluation import tables
from diagnostics.evaluation.records import BASELINES, model_names, wide
from diagnostics.evaluation.scores import reliability_bins

LABELS = {
    "climatology": "climatology",
    "bayes_logit": "Bayesian logit",
    "ms_tvtp": "Markov-switching (MLE), onset of its stress regime",
    "signal": "signal rule",
}


def label(name: str) -> str:
    return LABELS.get(name, f"model: {name}")


def target_title(target: str, horizon: int) -> str:
    return {
        "catalogue": f"onset of a catalogued liquidity event within {horizon} weeks",
        "objective": f"onset of an objective stress episode within {horizon} weeks",
        "qe_restart": f"QE restart (strict) within {horizon} weeks, origins where the Fed "
        "was not buying",
    }[target]


def fmt(v) -> str:
    return "" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{v:.3f}"


def with_interval(row: dict, name: str) -> str:
    """A score with its 90% interval, or empty when it could not be computed."""
    value = row.get(name)
    if value is None or not np.isfinite(value):
        return ""
    return f"{fmt(value)} ({fmt(row.get(f'{name}_q05'))}..{fmt(row.get(f'{name}_q95'))})"


# --- figures -------------------------------------------------------------------------


def history_figure(table: pd.DataFrame, target: str, onset_dates: list) -> plt.Figure:
    frame = wide(table, target)
    bands = {c: wide(table, target, c) for c in ("q05", "q95")}
    horizon = tables.horizon_of(table[table["target"] == target])
    fig, ax = plt.subplots(figsize=(11, 4))
    for onset in onset_dates:
        ax.axvline(pd.Timestamp(onset), color="firebrick", lw=0.8, alpha=0.6)
    excluded = frame[~frame["scored"].astype(bool)]
    ax.scatter(
        excluded.index,
        np.full(len(excluded), -0.03),
        marker="|",
        color="grey",
        label="origin not scored (in or just after an event)",
    )
    for name in model_names(table):
        ax.plot(frame.index, frame[name], lw=1.4, label=label(name))
        ax.fill_between(frame.index, bands["q05"][name], bands["q95"][name], alpha=0.15)
    for name in ("climatology", "bayes_logit"):
        if name in frame:
            ax.plot(frame.index, frame[name], lw=1, ls="--", label=label(name))
    ax.set_ylim(-0.06, 1)
    ax.set_ylabel(f"probability within {horizon} weeks")
    ax.set_xlabel("forecast origin")
    ax.set_title(f"Real-time forecasts: {target_title(target, horizon)}\n(red lines: onsets)")
    ax.legend(loc="upper left", fontsize=8, ncol=2)
    fig.tight_layout()
    return fig


def reliability_figure(table: pd.DataFrame, target: str, onset_dates: list) -> plt.Figure:
    del onset_dates  # same signature as the other figures; calibration needs no dates
    frame = tables.scored_origins(table, target)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, label="perfect calibration")
    for name in tables.forecasters_of(table, target):
        own = frame[[name, "outcome"]].dropna()
        bins = reliability_bins(own[name].to_numpy(float), own["outcome"].to_numpy(float), 5)
        ax.plot(
            [b["mean_forecast"] for b in bins],
            [b["observed_frequency"] for b in bins],
            marker="o",
            label=f"{label(name)} ({len(own)} origins)",
        )
    ax.set_xlabel("forecast probability (bin mean)")
    ax.set_ylabel("observed frequency")
    ax.set_title(f"Reliability, {target} target\n({int(frame['outcome'].sum())} onsets)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def per_event_figure(table: pd.DataFrame, target: str, onset_dates: list) -> plt.Figure:
    frame = wide(table, target)
    horizon = tables.horizon_of(table[table["target"] == target])
    dates = [pd.Timestamp(d) for d in onset_dates]
    cols = 4
    rows = int(np.ceil(len(dates) / cols)) or 1
    fig, axes = plt.subplots(rows, cols, figsize=(12, 2.4 * rows), sharey=True, squeeze=False)
    for ax, onset in zip(axes.flat, dates, strict=False):
        window = frame[(frame.index < onset) & (frame.index >= onset - pd.Timedelta(weeks=26))]
        weeks_before = (onset - window.index).days / 7
        for name in [*model_names(table), "climatology", "bayes_logit"]:
            if name in window:
                ax.plot(-weeks_before, window[name], marker=".", lw=1, label=label(name))
        ax.set_title(f"onset {onset.date()}", fontsize=9)
        ax.set_xlim(-27, 0)
        ax.set_ylim(0, 1)
    for ax in axes.flat[len(dates) :]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("weeks before the onset")
    for ax in axes[:, 0]:
        ax.set_ylabel(f"P(onset within {horizon} weeks)")
    if dates:
        axes.flat[0].legend(fontsize=6)
    fig.suptitle(f"Each forecaster in the 26 weeks before every onset ({target} target)")
    fig.tight_layout()
    return fig


# --- words ---------------------------------------------------------------------------


def compare(lo: float, hi: float) -> str:
    """How an interval of "a minus b" (higher is better) compares a with b."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "cannot be scored against"
    return "better than" if lo > 0 else "worse than" if hi < 0 else "cannot be told apart from"


def verdict(
    scores: pd.DataFrame, horizons: dict[str, int], period: str = tables.OUT_OF_SAMPLE
) -> list[str]:
    """One plain sentence per model variant and target in ``period``."""
    lines = []
    if scores.empty:
        return lines
    rows = scores[(scores["period"] == period) & ~scores["forecaster"].isin(BASELINES)]
    for row in rows.itertuples():
        title = html.escape(target_title(row.target, horizons[row.target]))
        if getattr(row, "note", ""):
            lines.append(f"Model <b>{html.escape(row.forecaster)}</b>, {title}: {row.note}.")
            continue
        lines.append(
            f"Model <b>{html.escape(row.forecaster)}</b>, {title}, {html.escape(period)}: "
            f"{compare(row.brier_skill_q05, row.brier_skill_q95)} the base rate (Brier skill "
            f"{row.brier_skill:+.2f}, 90% interval {row.brier_skill_q05:+.2f} to "
            f"{row.brier_skill_q95:+.2f}); AUROC {fmt(row.auroc)}; {row.n_positive} of "
            f"{row.n_origins} scored origins had an onset."
        )
    return lines


SCORE_NAMES = ["brier_skill", "log_score", "auroc", "auprc", "calibration_slope", "brier"]


def markdown_tables(scores: pd.DataFrame, diffs: pd.DataFrame, horizons: dict) -> str:
    """The score and paired-difference tables as Markdown (``tables.md``, docs/backtest.md)."""
    if scores.empty:
        return "No scores: none of the targets had enough scored origins.\n"
    parts = []
    for (target, period), table in scores.groupby(["target", "period"], sort=False):
        parts += [
            f"#### {target_title(target, horizons[target])}, {period}",
            "",
            "| forecaster | origins | onsets | "
            + " | ".join(SCORE_NAMES)
            + " | Brier skill, 1-horizon blocks | Brier skill, 4-horizon blocks |",
            "|---" * (len(SCORE_NAMES) + 5) + "|",
        ]
        for row in table.to_dict("records"):
            if row.get("note"):
                cells = [row["note"]] + [""] * (len(SCORE_NAMES) + 1)
            else:
                cells = [with_interval(row, n) for n in SCORE_NAMES] + [
                    f"{fmt(row['brier_skill_q05_1h'])}..{fmt(row['brier_skill_q95_1h'])}",
                    f"{fmt(row['brier_skill_q05_4h'])}..{fmt(row['brier_skill_q95_4h'])}",
                ]
            parts.append(
                f"| {label(row['forecaster'])} | {row['n_origins']} | {row['n_positive']} | "
                + " | ".join(cells)
                + " |"
            )
        d = (
            diffs[(diffs["target"] == target) & (diffs["period"] == period)]
            if len(diffs)
            else diffs
        )
        if len(d):
            parts += [
                "",
                "Paired differences, model minus the other, on the origins both forecast "
                "(log score: above 0 is better; Brier: below 0 is better; intervals with "
                "blocks of 2 horizons, then 1 and 4):",
                "",
                "| model | versus | origins | onsets | log score | Brier |",
                "|---|---|---|---|---|---|",
            ]
            for (model, versus), pair in d.groupby(["model", "versus"], sort=False):
                by = pair.set_index("score")
                cells = [paired_cell(by.loc[k]) for k in ("log_score", "brier")]
                first = by.iloc[0]
                parts.append(
                    f"| {model} | {label(versus)} | {first['n_origins']} | "
                    f"{first['n_positive']} | " + " | ".join(cells) + " |"
                )
        parts.append("")
    return "\n".join(parts)


def paired_cell(row: pd.Series) -> str:
    if isinstance(row.get("note"), str) and row["note"]:
        return row["note"]
    return (
        f"{row['difference']:+.4f} ({row['q05']:+.4f}..{row['q95']:+.4f}; "
        f"{row['q05_1h']:+.4f}..{row['q95_1h']:+.4f}; {row['q05_4h']:+.4f}..{row['q95_4h']:+.4f})"
    )


def missing_html(missing: pd.DataFrame) -> str:
    if missing.empty:
        return "<p>Every forecaster has a forecast at every scored origin.</p>"
    counts = missing.groupby(["forecaster", "target", "missing"]).agg(
        origins=("origin", "count"), first=("origin", "min"), last=("origin", "max")
    )
    return (
        "<p>Scored origins where a forecaster had no forecast (it is scored on the others; "
        "paired differences use the origins both have):</p><div class='scroll'>"
        + counts.reset_index().to_html(index=False)
        + "</div>"
    )


STYLE = (
    "body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}"
    "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;"
    "padding:3px 6px;text-align:right}img{max-width:100%}.scroll{overflow-x:auto}"
)


def summary_html(
    scores: pd.DataFrame,
    markdown: str,
    useful: pd.DataFrame,
    missing: pd.DataFrame,
    figures: list[tuple[str, str]],
    meta: dict,
    horizons: dict[str, int],
) -> str:
    lines = verdict(scores, horizons)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>liqshock backtest</title><style>{STYLE}</style></head><body>",
        "<h1>Real-time backtest: does the model warn better than the base rate?</h1>",
        "<p>Out of sample (origins from 2020-01, after the variant was chosen):</p><ul>",
        *(f"<li>{line}</li>" for line in lines or ["none: no model scored in that period"]),
        "</ul>",
        f"<p>{html.escape(meta.get('description', ''))} Intervals are 90% circular "
        "block-bootstrap intervals over origins (blocks of two horizons; one and four "
        "horizons in the tables). Method and pre-registered rules: docs/backtest.md.</p>",
        "<h2>Origins without a forecast</h2>",
        missing_html(missing),
        "<h2>Scores</h2>",
        f"<pre style='white-space:pre-wrap'>{html.escape(markdown)}</pre>",
        "<h2>Signals with the threshold chosen in real time</h2>",
        "<p>mu: the weight of a missed onset against a false alarm (1 - mu); the threshold "
        "at each origin is the one that was best on the origins whose outcome was known "
        "then.</p>",
        "<div class='scroll'>"
        + (
            useful.to_html(index=False, float_format=lambda v: f"{v:.2f}")
            if len(useful)
            else "<p>none</p>"
        )
        + "</div>",
        *(f"<p><img src='{html.escape(n)}' alt='{html.escape(alt)}'></p>" for n, alt in figures),
        "</body></html>",
    ]
    return "\n".join(parts)


# --- the whole report ---------------------------------------------------------------

FILES = {
    "forecasts": "dense_forecasts.csv",
    "scores": "dense_scores.csv",
    "differences": "paired_differences.csv",
    "missing": "missing_forecasts.csv",
    "usefulness": "usefulness.csv",
    "leave_one_out": "leave_one_event_out.csv",
    "onsets": "onsets.json",
    "tables": "tables.md",
    "meta": "dense_meta.json",
    "summary": "summary.html",
}


def write_report(
    table: pd.DataFrame, out: Path, meta: dict, onset_dates: dict[str, list[str]]
) -> dict[str, Path]:
    """Score ``table`` and write every table, figure and the summary page into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {k: out / v for k, v in FILES.items()}
    scores, diffs = tables.score_tables(table)
    horizons = {
        t: tables.horizon_of(table[table["target"] == t]) for t in pd.unique(table["target"])
    }
    useful = tables.usefulness_table(table)
    missing = tables.missing_table(table)
    markdown = markdown_tables(scores, diffs, horizons)
    for key, frame in (
        ("forecasts", table),
        ("scores", scores),
        ("differences", diffs),
        ("missing", missing),
        ("usefulness", useful),
        ("leave_one_out", tables.leave_one_event_out(table, onset_dates)),
    ):
        atomic_write_text(paths[key], frame.to_csv(index=False))
    atomic_write_text(paths["onsets"], json.dumps(onset_dates, indent=2))
    atomic_write_text(paths["tables"], markdown)
    atomic_write_text(paths["meta"], json.dumps(meta, indent=2))
    figures = []
    for target in (t for t in onset_dates if (table["target"] == t).any()):
        for make in (history_figure, reliability_figure, per_event_figure):
            fig = make(table, target, onset_dates[target])
            name = f"{make.__name__.replace('_figure', '')}_{target}.png"
            alt = fig.axes[0].get_title() or fig.get_suptitle()
            fig.savefig(out / name, dpi=110)
            plt.close(fig)
            figures.append((name, alt))
    atomic_write_text(
        paths["summary"], summary_html(scores, markdown, useful, missing, figures, meta, horizons)
    )
    return paths
