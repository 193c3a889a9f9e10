"""Figures for the risk-committee report (matplotlib, Agg): each returns a Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from data.catalogue import liquidity_events, qe_weeks
from data.drivers import REGISTRY, to_display
from model.store import Fit

#: driver -> (plain label, display unit), from the one registry (:mod:`data.drivers`).
DRIVER_LABELS = {d.name: (d.label, d.display_unit) for d in REGISTRY}


def shade_events(ax, start: pd.Timestamp | None = None) -> None:
    for i, row in liquidity_events().iterrows():
        if start is not None and row["end"] < start:
            continue
        ax.axvspan(
            row["start"],
            row["end"] + pd.Timedelta(days=7),
            color="tab:red",
            alpha=0.18,
            lw=0,
            label="catalogued liquidity event" if i == 0 else None,
        )


def smoothed_stress_axes(fit: Fit) -> tuple[plt.Figure, plt.Axes]:
    """The fit's smoothed P(stress) over its history (posterior mean and 90% band), with the
    catalogued liquidity events shaded and the QE restarts of its definition marked. The
    report and the review page each add their own title, overlays and legend."""
    p = fit.idata.posterior["p_stress_smoothed"]
    weeks = pd.DatetimeIndex(p["week"].to_numpy())
    flat = p.to_numpy().reshape(-1, len(weeks))
    fig, ax = plt.subplots(figsize=(11, 3.6))
    shade_events(ax)
    ax.fill_between(
        weeks,
        np.quantile(flat, 0.05, 0),
        np.quantile(flat, 0.95, 0),
        color="tab:blue",
        alpha=0.25,
        lw=0,
        label="90% interval",
    )
    ax.plot(weeks, flat.mean(0), color="tab:blue", lw=1.2, label="P(stress), smoothed")
    restarts = qe_weeks(weeks, fit.config.qe_definition)["restart"].to_numpy() > 0
    for i, week in enumerate(weeks[restarts]):
        ax.axvline(
            week,
            color="tab:green",
            lw=1.5,
            ls="--",
            label=f"QE restart ({fit.config.qe_definition})" if i == 0 else None,
        )
    ax.set(ylabel="P(stress)", xlabel="week", ylim=(0, 1))
    return fig, ax


def stress_history(fit: Fit, forecast: dict) -> plt.Figure:
    fig, ax = smoothed_stress_axes(fit)
    path = forecast["baseline"]["p_stress_path"]
    future = pd.DatetimeIndex([r["week"] for r in path])
    ax.plot(
        future,
        [r["mean"] for r in path],
        color="black",
        lw=1.5,
        label=f"forecast ({forecast['horizon_weeks']} weeks)",
    )
    ax.set_title("Probability of the stress regime, 2006 to the data cut-off, and the forecast")
    ax.legend(loc="upper left", fontsize=8, ncol=3)
    fig.tight_layout()
    return fig


def stress_paths(forecast: dict) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(8, 3.6))
    weeks = np.arange(1, forecast["horizon_weeks"] + 1)
    base = forecast["baseline"]["p_stress_path"]
    ax.fill_between(
        weeks,
        [r["q05"] for r in base],
        [r["q95"] for r in base],
        color="grey",
        alpha=0.3,
        lw=0,
        label="baseline 90% interval",
    )
    ax.plot(weeks, [r["mean"] for r in base], color="black", lw=2, label="baseline")
    for name, res in forecast["scenarios"].items():
        ax.plot(weeks, [r["mean"] for r in res["p_stress_path"]], lw=1.3, label=name)
    ax.set(
        title="P(stress) over the horizon: baseline and scenarios (posterior mean)",
        xlabel="weeks after the last data week",
        ylabel="P(stress)",
        ylim=(0, None),
    )
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    return fig


def driver_fan_charts(fit: Fit, forecast: dict, history_weeks: int = 156) -> plt.Figure:
    observed = fit.idata.observed_data
    weeks = pd.DatetimeIndex(observed["week"].to_numpy())[-history_weeks:]
    future = pd.DatetimeIndex(forecast["forecast_weeks"])
    drivers = list(forecast["driver_fans"]["baseline"])
    fig, axes = plt.subplots(len(drivers), 1, figsize=(10, 2.3 * len(drivers)), sharex=True)
    for ax, driver in zip(axes, drivers, strict=True):
        title, unit = DRIVER_LABELS.get(driver, (driver, ""))
        hist = to_display(driver, observed[f"driver_{driver}"].to_numpy()[-history_weeks:])
        fan = forecast["driver_fans"]["baseline"][driver]
        shade_events(ax, weeks[0])
        ax.plot(weeks, hist, color="black", lw=1, label="observed (gaps left empty)")
        ax.fill_between(
            future, fan["q05"], fan["q95"], color="tab:blue", alpha=0.2, lw=0, label="90%"
        )
        ax.fill_between(
            future, fan["q25"], fan["q75"], color="tab:blue", alpha=0.35, lw=0, label="50%"
        )
        ax.plot(future, fan["q50"], color="tab:blue", lw=1.2, label="median")
        ax.set_title(title, fontsize=10, loc="left")
        ax.set_ylabel(unit, fontsize=8)
    axes[0].legend(fontsize=7, ncol=4, loc="upper left")
    axes[-1].set_xlabel("week")
    fig.suptitle("Drivers: last three years and the baseline fan for the horizon")
    fig.tight_layout()
    return fig


def attribution_chart(forecast: dict) -> plt.Figure:
    rows = forecast["attribution"]
    names = list(rows)
    means = np.array([rows[n]["log_odds"]["mean"] for n in names])
    lo = means - np.array([rows[n]["log_odds"]["q05"] for n in names])
    hi = np.array([rows[n]["log_odds"]["q95"] for n in names]) - means
    fig, ax = plt.subplots(figsize=(8, 3.4))
    colors = ["tab:red" if m > 0 else "tab:blue" for m in means]
    ax.barh(names, means, xerr=[lo, hi], color=colors, alpha=0.8, capsize=4)
    ax.axvline(0, color="black", lw=0.8)
    ax.set(
        title="Driver contributions to this week's stress-entry log-odds vs history",
        xlabel="log-odds of entering stress next week (bars: 90% interval; +0.69 = 2x odds)",
    )
    fig.tight_layout()
    return fig


def first_event_chart(forecast: dict) -> plt.Figure:
    probs = forecast["baseline"]["weeks_to_first_event"]["probability_by_week"]
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.bar(np.arange(1, len(probs) + 1), probs, color="tab:red", alpha=0.8)
    none = forecast["baseline"]["weeks_to_first_event"]["none_within_horizon"]
    ax.set(
        title=f"Weeks to the first liquidity event (baseline; none within the horizon: {none:.0%})",
        xlabel="weeks after the last data week",
        ylabel="probability",
    )
    fig.tight_layout()
    return fig
