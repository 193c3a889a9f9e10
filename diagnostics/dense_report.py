"""Dense backtest records -> scores, paired differences, usefulness, figures, summary.html.

Every forecaster is scored on the same origins for each target (the origins scored for
onset where every forecaster has a number), over the whole period and split at 2020-01 into
the pre-registered development and confirmation periods (``docs/backtest.md``).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from data.atomic import atomic_write_text
from diagnostics import skill
from diagnostics.scoring import brier, log_score, reliability_bins
from diagnostics.targets import EVENT_SOURCES

BASELINES = ("climatology", "bayes_logit", "ms_tvtp", "signal")
PERIODS = {
    "all": (None, None),
    "development (to 2019-12)": (None, "2019-12-31"),
    "confirmation (2020-01 on)": ("2020-01-01", None),
}
TARGET_TITLES = {
    "catalogue": "onset of a catalogued liquidity event within 13 weeks",
    "objective": "onset of an objective stress episode within 13 weeks",
    "qe_restart": "QE restart (strict) within 13 weeks, origins where the Fed was not buying",
}
LABELS = {
    "climatology": "climatology",
    "bayes_logit": "Bayesian logit",
    "ms_tvtp": "Markov-switching (MLE)",
    "signal": "signal rule",
}


def forecast_frame(records: list[dict]) -> pd.DataFrame:
    """One row per origin and target: outcome, scored flag and every forecaster's p."""
    rows = []
    for r in records:
        for target in EVENT_SOURCES:
            truth = r["realized"][target]
            row = {
                "origin": pd.Timestamp(r["origin"]),
                "target": target,
                "outcome": truth["onset"],
                "scored": truth["scored_for_onset"],
                "any_event_week": truth["any_event_week"],
            }
            for name, model in r["models"].items():
                row[name] = None if model is None else model["p_event"]["mean"]
                row[f"{name}_q05"] = None if model is None else model["p_event"]["q05"]
                row[f"{name}_q95"] = None if model is None else model["p_event"]["q95"]
            base = r["targets"][target]
            row["climatology"] = base["climatology"]
            row["bayes_logit"] = base["bayes_logit"]
            row["signal"] = base["signal"]["p"]
            row["ms_tvtp"] = r["ms_tvtp"]
            rows.append(row)
    return pd.DataFrame(rows).sort_values(["target", "origin"]).reset_index(drop=True)


def qe_frame(records: list[dict]) -> pd.DataFrame:
    """Origins where the Fed was not buying: restart within h, the models' and climatology's p."""
    rows = []
    for r in records:
        truth = r["realized"].get("qe")
        if truth is None or not truth["qe_at_risk"] or "qe" not in r:
            continue
        row = {
            "origin": pd.Timestamp(r["origin"]),
            "outcome": truth["qe_restart"],
            "climatology": r["qe"]["climatology"],
        }
        for name, model in r["models"].items():
            row[name] = None if model is None else model["p_restart"]["mean"]
        rows.append(row)
    return pd.DataFrame(rows)


def qe_scores(records: list[dict], models: list[str]) -> pd.DataFrame:
    frame = qe_frame(records)
    if frame.empty or frame["outcome"].sum() == 0:
        return pd.DataFrame()
    sub = frame.dropna(subset=[*models, "climatology"])
    y = sub["outcome"].to_numpy(float)
    idx = bootstrap_index(len(sub))
    clim = sub["climatology"].to_numpy(float)
    return pd.DataFrame(
        [
            {
                "target": "qe_restart",
                "period": "all",
                "forecaster": name,
                **skill.scores_with_intervals(sub[name].to_numpy(float), y, clim, idx),
            }
            for name in [*models, "climatology"]
        ]
    )


def model_names(records: list[dict]) -> list[str]:
    return list(records[0]["models"]) if records else []


def scored_rows(
    frame: pd.DataFrame, target: str, forecasters: list[str], period: tuple[str | None, str | None]
) -> pd.DataFrame:
    sub = frame[(frame["target"] == target) & frame["scored"] & frame["outcome"].notna()]
    lo, hi = period
    if lo:
        sub = sub[sub["origin"] >= pd.Timestamp(lo)]
    if hi:
        sub = sub[sub["origin"] <= pd.Timestamp(hi)]
    return sub.dropna(subset=forecasters)


def bootstrap_index(n: int, seed: int = 0) -> np.ndarray:
    return skill.block_indices(n, skill.block_length(n, 13, 52 / 12), skill.N_BOOT, seed)


def score_tables(frame: pd.DataFrame, models: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores per target, period and forecaster; paired differences model - baseline."""
    forecasters = [*models, *BASELINES]
    score_rows, diff_rows = [], []
    for target in EVENT_SOURCES:
        for period, bounds in PERIODS.items():
            sub = scored_rows(frame, target, forecasters, bounds)
            if len(sub) < 10 or sub["outcome"].sum() == 0:
                continue
            y = sub["outcome"].to_numpy(float)
            idx = bootstrap_index(len(sub))
            clim = sub["climatology"].to_numpy(float)
            for name in forecasters:
                p = sub[name].to_numpy(float)
                row = skill.scores_with_intervals(p, y, clim, idx)
                score_rows.append({"target": target, "period": period, "forecaster": name, **row})
            for name in models:
                for other in [*BASELINES, *(m for m in models if m != name)]:
                    for score_name, fn in (("log_score", log_score), ("brier", brier)):
                        d = skill.paired_difference(
                            fn, sub[name].to_numpy(float), sub[other].to_numpy(float), y, idx
                        )
                        diff_rows.append(
                            {
                                "target": target,
                                "period": period,
                                "model": name,
                                "versus": other,
                                "score": score_name,
                                **d,
                            }
                        )
    return pd.DataFrame(score_rows), pd.DataFrame(diff_rows)


def usefulness_table(frame: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """Real-time thresholds: hits, false alarms and relative usefulness per cost weight."""
    forecasters = [*models, *BASELINES]
    rows = []
    for target in EVENT_SOURCES:
        sub = scored_rows(frame, target, forecasters, PERIODS["all"])
        y = sub["outcome"].to_numpy(float)
        origins = sub["origin"].to_numpy()
        for name in forecasters:
            for mu in skill.USEFULNESS_MU:
                signal = skill.realtime_signals(
                    origins, sub[name].to_numpy(float), y, horizon_days=91, mu=mu
                )
                rows.append(
                    {
                        "target": target,
                        "forecaster": name,
                        "mu": mu,
                        "hits": int(((signal == 1) & (y == 1)).sum()),
                        "missed": int(((signal == 0) & (y == 1)).sum()),
                        "false_alarms": int(((signal == 1) & (y == 0)).sum()),
                        "relative_usefulness": skill.relative_usefulness(signal, y, mu),
                    }
                )
    return pd.DataFrame(rows)


def onset_weeks(frame: pd.DataFrame, data_dir: str | None = None) -> dict[str, list[pd.Timestamp]]:
    """Each target's onset weeks after the first origin, from the backtest's own data."""
    from data.panel import build_panel
    from data.sources import resolve_source
    from diagnostics.targets import event_weeks, onsets

    panel = build_panel(resolve_source(data_dir))
    out = {}
    for target in EVENT_SOURCES:
        under_way = event_weeks(panel, target)
        first = under_way.index[onsets(under_way.to_numpy()) == 1]
        out[target] = [w for w in first if w > frame["origin"].min()]
    return out


def leave_one_event_out(
    frame: pd.DataFrame, models: list[str], onset_dates: dict[str, list[pd.Timestamp]]
) -> pd.DataFrame:
    """Brier and log score with the origins whose window holds one event's onset removed."""
    forecasters = [*models, *BASELINES]
    rows = []
    for target in EVENT_SOURCES:
        sub = scored_rows(frame, target, forecasters, PERIODS["all"])
        for onset in onset_dates[target]:
            keep = ~((sub["origin"] < onset) & (sub["origin"] >= onset - pd.Timedelta(weeks=13)))
            part = sub[keep]
            y = part["outcome"].to_numpy(float)
            row = {
                "target": target,
                "left_out": str(onset.date()),
                "origins_removed": int((~keep).sum()),
            }
            for name in forecasters:
                row[f"{name}_brier"] = brier(part[name].to_numpy(float), y)
                row[f"{name}_log"] = log_score(part[name].to_numpy(float), y)
            rows.append(row)
    return pd.DataFrame(rows)


# --- figures -------------------------------------------------------------------------


def history_figure(
    frame: pd.DataFrame, target: str, models: list[str], onset_dates: list[pd.Timestamp]
) -> plt.Figure:
    sub = frame[frame["target"] == target]
    fig, ax = plt.subplots(figsize=(11, 4))
    for onset in onset_dates:
        ax.axvline(onset, color="firebrick", lw=0.8, alpha=0.6)
    excluded = sub[~sub["scored"]]
    ax.scatter(
        excluded["origin"],
        np.full(len(excluded), -0.03),
        marker="|",
        color="grey",
        label="origin not scored (in or just after an event)",
    )
    for name in models:
        ax.plot(sub["origin"], sub[name], lw=1.4, label=f"model: {name}")
        ax.fill_between(
            sub["origin"],
            sub[f"{name}_q05"].astype(float),
            sub[f"{name}_q95"].astype(float),
            alpha=0.15,
        )
    for name in ("climatology", "bayes_logit"):
        ax.plot(sub["origin"], sub[name], lw=1, ls="--", label=LABELS[name])
    ax.set_ylim(-0.06, 1)
    ax.set_ylabel("probability of an onset within 13 weeks")
    ax.set_xlabel("forecast origin (month-end Wednesday)")
    ax.set_title(f"Real-time forecasts: {TARGET_TITLES[target]}\n(red lines: onsets)")
    ax.legend(loc="upper left", fontsize=8, ncol=2)
    fig.tight_layout()
    return fig


def reliability_figure(
    frame: pd.DataFrame, target: str, models: list[str], onset_dates: list[pd.Timestamp]
) -> plt.Figure:
    del onset_dates  # same signature as the other figures; calibration needs no dates
    forecasters = [*models, *BASELINES]
    sub = scored_rows(frame, target, forecasters, PERIODS["all"])
    y = sub["outcome"].to_numpy(float)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, label="perfect calibration")
    for name in forecasters:
        bins = reliability_bins(sub[name].to_numpy(float), y, n_bins=5)
        ax.plot(
            [b["mean_forecast"] for b in bins],
            [b["observed_frequency"] for b in bins],
            marker="o",
            label=LABELS.get(name, f"model: {name}"),
        )
    ax.set_xlabel("forecast probability (bin mean)")
    ax.set_ylabel("observed frequency of an onset")
    ax.set_title(
        f"Reliability, {target} target\n({len(sub)} scored origins, {int(y.sum())} with an onset)"
    )
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def per_event_figure(
    frame: pd.DataFrame, target: str, models: list[str], onset_dates: list[pd.Timestamp]
) -> plt.Figure:
    onsets_ = onset_dates
    sub = frame[frame["target"] == target]
    cols = 4
    rows = int(np.ceil(len(onsets_) / cols)) or 1
    fig, axes = plt.subplots(rows, cols, figsize=(12, 2.4 * rows), sharey=True, squeeze=False)
    for ax, onset in zip(axes.flat, onsets_, strict=False):
        window = sub[(sub["origin"] < onset) & (sub["origin"] >= onset - pd.Timedelta(weeks=26))]
        weeks_before = (onset - window["origin"]).dt.days / 7
        for name in [*models, "climatology", "bayes_logit"]:
            ax.plot(
                -weeks_before,
                window[name],
                marker=".",
                lw=1,
                label=LABELS.get(name, f"model: {name}"),
            )
        ax.set_title(f"onset {onset.date()}", fontsize=9)
        ax.set_xlim(-27, 0)
        ax.set_ylim(0, 1)
    for ax in axes.flat[len(onsets_) :]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("weeks before the onset")
    for ax in axes[:, 0]:
        ax.set_ylabel("P(onset within 13 weeks)")
    if onsets_:
        axes.flat[0].legend(fontsize=6)
    fig.suptitle(f"Each forecaster in the 26 weeks before every onset ({target} target)")
    fig.tight_layout()
    return fig


def fmt(v: float) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}"


def write_dense_report(
    records: list[dict], out: Path, meta: dict, data_dir: str | None = None
) -> dict[str, Path]:
    out = Path(out)
    models = model_names(records)
    frame = forecast_frame(records)
    scores, diffs = score_tables(frame, models)
    scores = pd.concat([scores, qe_scores(records, models)], ignore_index=True)
    useful = usefulness_table(frame, models)
    onset_dates = onset_weeks(frame, data_dir)  # one panel build for every table and figure
    loeo = leave_one_event_out(frame, models, onset_dates)
    paths = {
        "forecasts": out / "dense_forecasts.csv",
        "scores": out / "dense_scores.csv",
        "differences": out / "paired_differences.csv",
        "usefulness": out / "usefulness.csv",
        "leave_one_out": out / "leave_one_event_out.csv",
        "summary": out / "summary.html",
    }
    for key, table in (
        ("forecasts", frame),
        ("scores", scores),
        ("differences", diffs),
        ("usefulness", useful),
        ("leave_one_out", loeo),
    ):
        atomic_write_text(paths[key], table.to_csv(index=False))
    figures = []
    for target in EVENT_SOURCES:
        for make in (history_figure, reliability_figure, per_event_figure):
            fig = make(frame, target, models, onset_dates[target])
            name = f"{make.__name__.replace('_figure', '')}_{target}.png"
            alt = fig.axes[0].get_title() or fig.get_suptitle()
            fig.savefig(out / name, dpi=110)
            plt.close(fig)
            figures.append((name, alt))
    atomic_write_text(paths["summary"], summary_html(scores, diffs, useful, figures, meta))
    atomic_write_text(out / "tables.md", markdown_tables(scores, diffs))
    atomic_write_text(out / "dense_meta.json", json.dumps(meta, indent=2))
    return paths


def markdown_tables(scores: pd.DataFrame, diffs: pd.DataFrame) -> str:
    """The score and paired-difference tables as Markdown (``OUT/dense/tables.md``)."""

    def cell(row, name: str) -> str:
        return (
            f"{fmt(row[name])} ({fmt(row[name + '_q05'])}..{fmt(row[name + '_q95'])})"
            if np.isfinite(row[name])
            else ""
        )

    parts = []
    names = ["brier_skill", "log_score", "auroc", "auprc", "calibration_slope", "brier"]
    for (target, period), table in (
        scores.groupby(["target", "period"], sort=False) if len(scores) else []
    ):
        first = table.iloc[0]
        parts += [
            f"**{TARGET_TITLES[target]}, {period}** ({first['n_origins']} origins, "
            f"{first['n_positive']} with an onset)",
            "",
            "| forecaster | " + " | ".join(names) + " |",
            "|---" * (len(names) + 1) + "|",
        ]
        for _, row in table.iterrows():
            label = LABELS.get(row["forecaster"], f"model: {row['forecaster']}")
            parts.append(f"| {label} | " + " | ".join(cell(row, n) for n in names) + " |")
        d = (
            diffs[(diffs["target"] == target) & (diffs["period"] == period)]
            if len(diffs)
            else diffs
        )
        if len(d):
            parts += [
                "",
                "Paired differences, model minus the other (log score: above 0 "
                "is better; Brier: below 0 is better):",
                "",
                "| model | versus | log score | Brier |",
                "|---|---|---|---|",
            ]
            for (model, versus), pair in d.groupby(["model", "versus"], sort=False):
                by = pair.set_index("score")
                cells = [
                    f"{by.loc[k, 'difference']:+.4f} ({by.loc[k, 'q05']:+.4f}.."
                    f"{by.loc[k, 'q95']:+.4f})"
                    for k in ("log_score", "brier")
                ]
                parts.append(
                    f"| {model} | {LABELS.get(versus, versus)} | " + " | ".join(cells) + " |"
                )
        parts.append("")
    return "\n".join(parts)


COLUMN_LABELS = {
    "forecaster": "forecaster",
    "n_origins": "origins scored",
    "n_positive": "with an onset",
    "brier_skill": "Brier skill vs climatology",
    "brier": "Brier score",
    "log_score": "log score",
    "auroc": "AUROC",
    "auprc": "area under precision-recall",
    "calibration_slope": "calibration slope",
}


def compare(lo: float, hi: float) -> str:
    """How an interval of "a minus b" (higher is better) compares b with a."""
    return "better than" if lo > 0 else "worse than" if hi < 0 else "not distinguishable from"


def verdict(scores: pd.DataFrame, diffs: pd.DataFrame) -> list[str]:
    """One plain sentence per model variant and target over the whole period."""
    lines = []
    whole = scores[scores["period"] == "all"] if len(scores) else scores
    for row in whole.itertuples():
        if row.forecaster in (*BASELINES, "climatology") or row.target == "qe_restart":
            continue
        d = diffs[
            (diffs["target"] == row.target)
            & (diffs["period"] == "all")
            & (diffs["model"] == row.forecaster)
            & (diffs["versus"] == "climatology")
            & (diffs["score"] == "log_score")
        ]
        if d.empty:
            continue
        log_word = compare(d["q05"].iloc[0], d["q95"].iloc[0])
        lines.append(
            f"Model <b>{html.escape(row.forecaster)}</b>, {html.escape(TARGET_TITLES[row.target])}"
            f": {compare(row.brier_skill_q05, row.brier_skill_q95)} climatology on the Brier "
            f"score (skill {row.brier_skill:+.2f}, 90% interval {row.brier_skill_q05:+.2f} "
            f"to {row.brier_skill_q95:+.2f}), {log_word} it on the log score "
            f"(paired difference {d['difference'].iloc[0]:+.3f}); AUROC {row.auroc:.2f}; "
            f"{row.n_positive} of {row.n_origins} scored origins had an onset."
        )
    return lines


def summary_html(
    scores: pd.DataFrame,
    diffs: pd.DataFrame,
    useful: pd.DataFrame,
    figures: list[tuple[str, str]],
    meta: dict,
) -> str:
    cols = list(COLUMN_LABELS)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<title>liqshock dense backtest</title><style>body{font-family:sans-serif;"
        "max-width:1100px;margin:auto;padding:1em}table{border-collapse:collapse;"
        "font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
        "img{max-width:100%}.scroll{overflow-x:auto}</style></head><body>",
        "<h1>Dense real-time backtest: does the model warn better than the base rate?</h1>",
        "<ul>",
        *(f"<li>{line}</li>" for line in verdict(scores, diffs)),
        "</ul>",
        f"<p>{html.escape(meta.get('description', ''))} Intervals are 90% "
        "moving-block bootstrap intervals over origins (blocks of two horizons). "
        "Method and pre-registered rule: docs/backtest.md.</p>",
    ]
    if scores.empty:
        parts.append(
            "<p>Too few scored origins with an onset to score (at least 10 origins "
            "and one onset per target and period).</p>"
        )
    groups = scores.groupby(["target", "period"], sort=False) if len(scores) else []
    for (target, period), table in groups:
        parts.append(f"<h2>{html.escape(TARGET_TITLES[target])}: {html.escape(period)}</h2>")
        parts.append(
            "<div class='scroll'><table><tr>"
            + "".join(f"<th>{COLUMN_LABELS[c]}</th>" for c in cols)
            + "</tr>"
        )
        for row in table.itertuples():
            cells = []
            for c in cols:
                v = getattr(row, c)
                if c in ("forecaster", "n_origins", "n_positive"):
                    cells.append(html.escape(str(LABELS.get(v, v))))
                else:
                    cells.append(
                        f"{fmt(v)} <small>({fmt(getattr(row, c + '_q05'))}"
                        f"..{fmt(getattr(row, c + '_q95'))})</small>"
                    )
            parts.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        parts.append("</table></div>")
        d = diffs[
            (diffs["target"] == target)
            & (diffs["period"] == period)
            & (diffs["score"] == "log_score")
        ]
        if len(d):
            parts.append(
                "<p>Paired log-score difference, model minus the other (above 0: "
                "the model is better), 90% block-bootstrap interval:</p><ul>"
            )
            for row in d.itertuples():
                parts.append(
                    f"<li>{html.escape(row.model)} vs "
                    f"{html.escape(LABELS.get(row.versus, row.versus))}: "
                    f"{row.difference:+.4f} ({row.q05:+.4f}..{row.q95:+.4f})</li>"
                )
            parts.append("</ul>")
    parts.append("<h2>Signals with the threshold chosen in real time</h2>")
    parts.append(
        "<p>mu: the weight of a missed onset against a false alarm (1 - mu); the "
        "threshold at each origin is the one that was best on the origins whose "
        "outcome was known then.</p>"
    )
    parts.append(
        "<div class='scroll'>"
        + useful.to_html(index=False, float_format=lambda v: f"{v:.2f}")
        + "</div>"
    )
    for name, alt in figures:
        parts.append(f"<p><img src='{html.escape(name)}' alt='{html.escape(alt)}'></p>")
    parts.append("</body></html>")
    return "\n".join(parts)
