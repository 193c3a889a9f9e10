"""``python -m diagnostics review``: one HTML page (plus the PNGs) a reviewer signs a fit off on.

Sections, in the order a reviewer reads them: gate verdict and convergence table; rank,
trace and energy plots; prior and posterior predictive checks; smoothed P(stress) with the
catalogued events and QE restarts; stress-entry curves per driver; the QE hazard over
time; the data coverage behind the fit. A fit that failed the gate gets the same page with
a red banner (reviewers need to see why it failed).
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from data.atomic import atomic_write_text
from data.defaults import DEFAULT_SEED
from diagnostics import convergence, effects, predictive
from diagnostics.track_record import track_record
from model.equations.posterior import driver_moments, fill_sd
from model.records.store import Fit
from outlook.figures import DRIVER_LABELS, smoothed_stress_axes
from outlook.report import STYLE, embed


def stress_history_figure(fit: Fit) -> plt.Figure:
    fig, ax = smoothed_stress_axes(fit)
    weeks = fit.idata.posterior["week"].to_numpy()
    ax.set_title(
        f"Smoothed probability of the stress regime, {pd.Timestamp(weeks[0]).date()} "
        f"to the cut-off {pd.Timestamp(weeks[-1]).date()}"
    )
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=8, ncol=4)
    fig.tight_layout()
    return fig


def coverage_figure(fit: Fit) -> plt.Figure:
    """Per driver: observed weeks (dark) vs missing weeks integrated out under the driver's
    AR(1) (red), and the posterior sd of the missing values (how much the model does not know
    there)."""
    inputs = fit.inputs()
    sds = fill_sd(*driver_moments(fit.idata.posterior, inputs))
    weeks = inputs.weeks
    fig, axes = plt.subplots(
        len(inputs.drivers), 1, figsize=(11, 1.25 * len(inputs.drivers) + 1), sharex=True
    )
    for ax, (k, driver) in zip(np.atleast_1d(axes), enumerate(inputs.drivers), strict=True):
        observed = ~np.isnan(inputs.x[:, k])
        ax.fill_between(
            weeks, 0, 1, where=observed, step="mid", color="0.35", lw=0, label="observed"
        )
        ax.fill_between(
            weeks,
            0,
            1,
            where=~observed,
            step="mid",
            color="tab:red",
            alpha=0.35,
            lw=0,
            label="missing: integrated out (AR(1))",
        )
        sd = sds[~observed, k]
        if len(sd):
            line = np.full(len(weeks), np.nan)
            line[~observed] = np.minimum(sd / max(sd.max(), 1e-9), 1.0)
            ax.plot(
                weeks,
                line,
                color="black",
                lw=0.8,
                label=f"posterior sd of the fill (max {sd.max():.2f} sd units)",
            )
        share = observed.mean()
        title = DRIVER_LABELS.get(driver, (driver, ""))[0]
        ax.set_title(f"{title}: observed {share:.0%} of weeks", fontsize=9, loc="left")
        ax.set(yticks=[], ylim=(0, 1.05))
        ax.legend(fontsize=7, loc="upper right", ncol=3)
    np.atleast_1d(axes)[-1].set_xlabel("week")
    fig.suptitle("Data coverage behind the fit (as known at the cut-off)")
    fig.tight_layout()
    return fig


def gate_table(fit: Fit) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(c)}</td><td class=num>{html.escape(v)}</td>"
        f"<td class=num>{html.escape(t)}</td><td>{'ok' if ok else '<b>FAIL</b>'}</td></tr>"
        for c, v, t, ok in convergence.gate_rows(fit)
    )
    return (
        "<table><tr><th>check</th><th>worst value (where)</th><th>threshold</th>"
        f"<th></th></tr>{rows}</table>"
    )


#: How each column of the parameter table is printed: R-hat to the gate's precision
#: (1.004 must not read "1"), effective sample sizes as whole draws.
COLUMN_FORMATS = {
    "mean": "{:.3g}",
    "sd": "{:.3g}",
    "hdi_5%": "{:.3g}",
    "hdi_95%": "{:.3g}",
    "r_hat": "{:.3f}",
    "ess_bulk": "{:.0f}",
    "ess_tail": "{:.0f}",
    "mcse_mean": "{:.2g}",
}
COLUMN_NAMES = {
    "hdi_5%": "5%",
    "hdi_95%": "95%",
    "r_hat": "R-hat",
    "ess_bulk": "bulk ESS",
    "ess_tail": "tail ESS",
    "mcse_mean": "MCSE of mean",
}


def parameter_html(table: pd.DataFrame) -> str:
    head = "".join(f"<th>{COLUMN_NAMES.get(c, c)}</th>" for c in ["parameter", *COLUMN_FORMATS])
    body = "".join(
        "<tr><td>"
        + html.escape(str(name))
        + "</td>"
        + "".join(f"<td class=num>{f.format(row[c])}</td>" for c, f in COLUMN_FORMATS.items())
        + "</tr>"
        for name, row in table.iterrows()
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def pvalue_html(pvalues: dict, move_observable: str) -> str:
    """The predictive p-values under a predictive figure; the extreme ones flagged."""
    labels = {**predictive.OBSERVABLES, "move": predictive.MOVE_LABELS[move_observable]}
    rows = []
    for name, stats in pvalues.items():
        label = labels.get(name, name)
        for stat, v in stats.items():
            flag = " <b>misfit</b>" if not 0.05 <= v["p_value"] <= 0.95 else ""
            rows.append(
                f"<tr><td>{html.escape(label)}</td><td>{stat}</td>"
                f"<td class=num>{v['observed']:.3g}</td>"
                f"<td class=num>{v['q05']:.3g} – {v['q95']:.3g}</td>"
                f"<td class=num>{v['p_value']:.2f}{flag}</td></tr>"
            )
    return (
        "<table><tr><th>observable</th><th>statistic</th><th>data</th>"
        "<th>replicated 90%</th><th>P(replicated >= data)</th></tr>" + "".join(rows) + "</table>"
    )


PERIOD_WORDS = {"all": "whole period"}


def backtest_html(record: dict) -> str:
    """Scores of this model version from the newest backtest: the out-of-sample period
    first, the whole period beside it, with the verdict of each interval."""
    if not record.get("available"):
        return f"<p>{html.escape(record.get('reason', 'no backtest found'))}.</p>"

    def triple(d: dict, fmt: str) -> str:
        return f"{fmt.format(d['mean'])} ({fmt.format(d['q05'])} to {fmt.format(d['q95'])})"

    summary = Path(record["backtest"]) / "summary.html"
    link = (
        f" Full summary: <a href='{html.escape(summary.as_uri())}'>{html.escape(str(summary))}</a>."
        if summary.is_file()
        else ""
    )
    whose = (
        " <b>Track record of the previous model version</b>: this version has no backtest yet."
        if record.get("previous_version")
        else ""
    )
    where = f" Records: {html.escape(record['backtest'])}" + (
        " (shipped with the project)." if record.get("shipped") else "."
    )
    rows = "".join(
        f"<tr><td>{html.escape(PERIOD_WORDS.get(part['period'], part['period']))}</td>"
        f"<td class=num>{part['n_origins']}</td>"
        f"<td class=num>{part['n_onsets']}</td>"
        f"<td class=num>{triple(part['brier_skill'], '{:+.3f}')}</td>"
        f"<td class=num>{triple(part['auroc'], '{:.2f}')}</td>"
        f"<td class=num>{triple(part['log_score'], '{:.3f}')}</td>"
        f"<td>{html.escape(part['verdict'])}</td></tr>"
        for part in (record.get("out_of_sample"), record["whole"])
        if part
    )
    missing = (
        f"<p>No model forecast in {', '.join(map(str, record['missing_years']))} (no refit "
        "had passed the gate yet).</p>"
        if record.get("missing_years")
        else ""
    )
    return (
        f"<p>{html.escape(record['description'])} Series <code>{html.escape(record['series'])}"
        f"</code>, target: catalogued onsets within {record['horizon']} weeks.{where}{whose}"
        f"{link}</p>"
        "<table><tr><th>period</th><th>origins</th><th>with an onset</th>"
        "<th>Brier skill vs base rate (90%)</th><th>AUROC (90%)</th><th>log score (90%)</th>"
        f"<th>verdict</th></tr>{rows}</table>{missing}"
    )


def review_figures(fit: Fit, inputs, table, checks: dict) -> list[tuple[str, str, object]]:
    """(file name, title, figure) of every plot on the reviewer's page, in page order."""
    observable = fit.config.move_observable
    return [
        ("worst", "The worst-mixing parameters", convergence.worst_figure(fit, table)),
        (
            "worst_rank",
            "Rank plots of the worst-mixing parameters",
            convergence.worst_rank_figure(fit, table),
        ),
        ("rank", "Rank plots", convergence.rank_figure(fit)),
        ("trace", "Trace plots", convergence.trace_figure(fit)),
        ("energy", "Energy", convergence.energy_figure(fit)),
        (
            "prior_predictive",
            "Prior predictive: stress observables",
            predictive.observables_figure(checks["Prior"], observable, "Prior"),
        ),
        (
            "posterior_predictive",
            "Posterior predictive: stress observables",
            predictive.observables_figure(checks["Posterior"], observable, "Posterior"),
        ),
        (
            "event_frequency",
            "Event and restart frequency",
            predictive.counts_figure(fit.idata, inputs),
        ),
        ("p_stress", "Smoothed P(stress)", stress_history_figure(fit)),
        ("entry_curves", "Stress entry by driver", effects.entry_figure(fit)),
        ("qe_hazard", "QE hazard over time", effects.qe_hazard_figure(fit)),
        ("coverage", "Data coverage", coverage_figure(fit)),
    ]


def gate_banner(manifest: dict) -> str:
    conv = manifest["convergence"]
    if conv["passed"]:
        return "<p class=meta><b>Gate PASSED.</b></p>"
    return (
        "<p class=warn><b>Gate FAILED:</b> "
        + html.escape("; ".join(conv["failures"]))
        + ". This fit never became <code>latest</code>.</p>"
    )


def frequency_table(manifest: dict) -> str:
    """The prior and posterior predictive counts of events and restarts per 20 years."""
    rows = "".join(
        f"<tr><td>{html.escape(g)}</td><td>{html.escape(k)}</td>"
        f"<td class=num>{r['q05_per_20y']:.1f} – {r['q95_per_20y']:.1f}</td>"
        f"<td class=num>{r.get('observed_per_20y', float('nan')):.1f}</td>"
        f"<td class=num>{r.get('p_value_ge_observed', float('nan')):.2f}</td></tr>"
        for g, group in manifest["checks"].items()
        for k, r in group.items()
    )
    return (
        "<h2>Event and restart frequency per 20 years (90% predictive interval)</h2>"
        "<table><tr><th>check</th><th>quantity</th><th>predictive 90%</th><th>observed</th>"
        f"<th>P(rep >= observed)</th></tr>{rows}</table>"
    )


def reliability_image(record: dict) -> str:
    """The backtest's reliability diagram, embedded, when the track record has one."""
    if not record.get("available"):
        return ""
    calibration = Path(record["backtest"]) / "reliability_catalogue.png"
    if not calibration.is_file():
        return ""
    return (
        "<img alt='reliability diagram of the backtest' src='data:image/png;base64,"
        + base64.b64encode(calibration.read_bytes()).decode()
        + "'>"
    )


def fit_header(fit: Fit) -> str:
    manifest = fit.manifest
    return (
        f"<h1>Fit review: {html.escape(fit.fit_id)}</h1>"
        f"<p class=meta>Data {html.escape(manifest['data']['source'])}, weeks "
        f"{manifest['data']['start']} to {manifest['data']['cutoff']} "
        f"({manifest['data']['n_weeks']}); model {manifest['model']['version']} "
        f"({manifest['model']['config_digest'][:12]}); sampler "
        f"{html.escape(str(manifest['sampler']))}; wall {manifest['wall_time_s']} s; "
        f"git {html.escape(manifest['git_commit'])}.</p>"
    )


def write_review(fit: Fit, out: Path, backtests: Path | None = None) -> Path:
    """Write the PNGs and ``review.html`` under ``out``; returns the page's path.

    ``backtests``: where dense backtests are kept; the newest one of this model version
    fills the calibration and backtest section (:mod:`diagnostics.track_record`)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    inputs = fit.inputs()
    table = convergence.parameter_table(fit)
    checks = {
        which: predictive.predictive_idata(group, inputs, n_draws=100, seed=DEFAULT_SEED)
        for which, group in (("Prior", fit.idata.prior), ("Posterior", fit.idata.posterior))
    }
    record = track_record(backtests, fit.config) if backtests else {"reason": "not asked"}
    after = {
        name.lower() + "_predictive": pvalue_html(
            predictive.predictive_pvalues(checks[name]), fit.config.move_observable
        )
        for name in checks
    }
    sections = []
    for name, title, fig in review_figures(fit, inputs, table, checks):
        fig.savefig(out / f"{name}.png", dpi=100)
        sections.append(f"<h2>{html.escape(title)}</h2>" + embed(fig, title) + after.get(name, ""))
    page = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>liqshock fit review {html.escape(fit.fit_id)}</title><style>{STYLE}</style>"
        "</head><body>",
        fit_header(fit),
        gate_banner(fit.manifest),
        "<h2>Convergence gate</h2>",
        gate_table(fit),
        "<h2>Structural parameters</h2>",
        parameter_html(table),
        "<h2>Calibration and backtest (out of sample)</h2>",
        backtest_html(record),
        reliability_image(record),
        frequency_table(fit.manifest),
        *sections,
        "</body></html>",
    ]
    path = out / "review.html"
    atomic_write_text(path, "\n".join(page))
    return path
