"""Figures for the risk-committee report (matplotlib, Agg): each returns a Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from data.catalogue import liquidity_events, qe_weeks
from data.drivers import BUILT, to_display
from model.records.store import Fit

#: driver -> (plain label, display unit), from the one registry (:mod:`data.drivers`).
DRIVER_LABELS = {d.name: (d.label, d.display_unit) for d in BUILT}


def shade_events(ax, start: pd.Timestamp | None = None) -> None:
    """The catalogue's counted events as red spans (from ``start`` on), labelled once."""
    labelled = False
    for _, row in liquidity_events().iterrows():
        if start is not None and row["end"] < start:
            continue
        ax.axvspan(
            row["start"],
            row["end"] + pd.Timedelta(days=7),
            color="tab:red",
            alpha=0.18,
            lw=0,
            label=None if labelled else "catalogued liquidity event",
        )
        labelled = True


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
    # a little headroom: a line at 1.0 would hide under the frame
    ax.set(ylabel="P(stress regime)", xlabel="week", ylim=(0, 1.04))
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
    ax.set_title("The model's stress regime (a rate-volatility state, not an event), 2006 to today")
    ax.legend(loc="upper left", fontsize=8, ncol=3)
    fig.tight_layout()
    return fig


def scenario_paths(forecast: dict, key: str, title: str, ylabel: str) -> plt.Figure:
    """A probability path over the horizon (``key`` of each result, in %): the baseline's
    90% band and mean, and each scenario's mean."""
    fig, ax = plt.subplots(figsize=(8, 3.6))
    weeks = np.arange(1, forecast["horizon_weeks"] + 1)
    base = forecast["baseline"][key]
    ax.fill_between(
        weeks,
        [100 * r["q05"] for r in base],
        [100 * r["q95"] for r in base],
        color="grey",
        alpha=0.3,
        lw=0,
        label="baseline 90% interval",
    )
    ax.plot(weeks, [100 * r["mean"] for r in base], color="black", lw=2, label="baseline")
    for name, res in forecast["scenarios"].items():
        ax.plot(weeks, [100 * r["mean"] for r in res[key]], lw=1.3, label=name.replace("_", " "))
    ax.set(title=title, xlabel="weeks after the last data week", ylabel=ylabel, ylim=(0, None))
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    return fig


def stress_paths(forecast: dict) -> plt.Figure:
    return scenario_paths(
        forecast,
        "p_stress_path",
        "Stress regime (a rate-volatility state, not an event) over the horizon, by scenario",
        "P(stress regime), %",
    )


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


OBSERVABLE_LABELS = {
    "funding_spread_max": ("Funding spread, weekly maximum", "bp over the administered rate"),
    "move": ("Rate volatility: MOVE, weekly mean", "index points"),
}


def observable_fans(forecast: dict) -> plt.Figure:
    """The two stress observables: two years observed, the model's 50% and 90% bands for
    each coming week, and the distribution of each one's maximum over the horizon."""
    fans = forecast["observables"]
    history = pd.DatetimeIndex(fans["history"]["weeks"])
    future = pd.DatetimeIndex(forecast["forecast_weeks"])
    fig, axes = plt.subplots(2, 2, figsize=(11, 6.2), gridspec_kw={"width_ratios": [5, 1]})
    for row, (name, (title, unit)) in enumerate(OBSERVABLE_LABELS.items()):
        ax, side = axes[row]
        fan = fans[name]
        values = np.array([np.nan if v is None else v for v in fans["history"][name]])
        shade_events(ax, history[0])
        ax.plot(history, values, color="black", lw=1, label="observed (gaps left empty)")
        ax.fill_between(future, fan["q05"], fan["q95"], color="tab:orange", alpha=0.25, lw=0,
                        label="model: 90% of paths")  # fmt: skip
        ax.fill_between(future, fan["q25"], fan["q75"], color="tab:orange", alpha=0.45, lw=0,
                        label="model: 50% of paths")  # fmt: skip
        ax.plot(future, fan["q50"], color="tab:orange", lw=1.2, label="model: median")
        ax.set_title(title, fontsize=10, loc="left")
        ax.set_ylabel(unit, fontsize=8)
        peak = fan["horizon_max"]
        side.bar([0], [peak["q95"] - peak["q05"]], bottom=peak["q05"], width=0.6,
                 color="tab:orange", alpha=0.25, label="90%")  # fmt: skip
        side.bar([0], [peak["q75"] - peak["q25"]], bottom=peak["q25"], width=0.6,
                 color="tab:orange", alpha=0.45, label="50%")  # fmt: skip
        side.hlines(peak["q50"], -0.3, 0.3, color="tab:orange", lw=1.5, label="median")
        side.set_xticks([])
        side.set_xlim(-0.6, 0.6)
        side.set_title(f"maximum over\nthe {len(future)} weeks", fontsize=9)
        # the same value scale as the fan beside it
        low, high = ax.get_ylim()
        low, high = min(low, peak["q05"]), max(high, peak["q95"])
        ax.set_ylim(low, high)
        side.set_ylim(low, high)
        side.set_ylabel(unit, fontsize=8)
    axes[0, 0].legend(fontsize=7, ncol=2, loc="upper left")
    axes[1, 0].set_xlabel("week")
    fig.suptitle("Stress observables: the last two years and the model's paths for the horizon")
    fig.tight_layout()
    return fig


def attribution_chart(forecast: dict) -> plt.Figure:
    """Each driver's share of P(event) in percentage points, from the reference probability
    (every driver at its historical mean) to the baseline, with 90% intervals."""
    attribution = forecast["attribution"]
    rows = attribution["drivers"]
    names = list(rows)
    means = np.array([100 * rows[n]["share"]["mean"] for n in names])
    lo = means - np.array([100 * rows[n]["share"]["q05"] for n in names])
    hi = np.array([100 * rows[n]["share"]["q95"] for n in names]) - means
    labels = [
        DRIVER_LABELS[n][0].split(":")[0] + ("" if rows[n]["current_observed"] else " (estimated)")
        for n in names
    ]
    fig, ax = plt.subplots(figsize=(9, 3.4))
    colors = ["tab:red" if m > 0 else "tab:blue" for m in means]
    ax.barh(labels, means, xerr=[lo, hi], color=colors, alpha=0.8, capsize=4)
    ax.axvline(0, color="black", lw=0.8)
    ax.invert_yaxis()
    reference = 100 * attribution["reference"]["mean"]
    total = 100 * forecast["baseline"]["p_liquidity_event"]["mean"]
    ax.set(
        title=f"What moves P(event) from {reference:.1f}% (drivers at their historical mean) "
        f"to {total:.1f}%",
        xlabel="change in P(liquidity event within the horizon), percentage points "
        "(bars: 90% interval)",
    )
    ax.title.set_fontsize(10)
    fig.tight_layout()
    return fig


def mark_named_events(ax, since: pd.Timestamp, top: float) -> None:
    """Shade each catalogued liquidity event that ends after ``since`` and label it with
    its catalogue id, staggered in three rows below ``top`` so neighbours do not collide."""
    events = liquidity_events()
    events = events[events["end"] >= since]
    for i, row in enumerate(events.itertuples()):
        ax.axvspan(
            row.start,
            row.end + pd.Timedelta(days=7),
            color="tab:red",
            alpha=0.18,
            lw=0,
            label="catalogued liquidity event" if i == 0 else None,
        )
        ax.text(
            row.start, top * (0.97 - 0.07 * (i % 3)), row.id, fontsize=7, color="darkred", va="top"
        )


def event_probability_history(forecast: dict) -> plt.Figure | None:
    """P(liquidity event within the horizon) as the model gave it at each backtest origin
    (each from a fit that saw only the data of its day), the base rate, the catalogued
    events named, and today's forecast. None without a backtest of this model version."""
    record = forecast.get("track_record", {})
    if not record.get("available"):
        return None
    history = pd.DataFrame(record["history"])
    origins = pd.DatetimeIndex(history["origin"])
    fig, ax = plt.subplots(figsize=(11, 3.8))
    top = max(0.5, float(history["q95"].max()) * 1.15)
    pct = 100
    mark_named_events(ax, origins[0], pct * top)
    ax.fill_between(
        origins,
        pct * history["q05"],
        pct * history["q95"],
        color="tab:blue",
        alpha=0.2,
        lw=0,
        label="90% interval",
    )
    ax.plot(
        origins,
        pct * history["mean"],
        color="tab:blue",
        lw=1.4,
        label="model, as known at each month-end",
    )
    ax.plot(
        origins,
        pct * history["climatology"],
        color="grey",
        ls="--",
        lw=1,
        label="base rate (past windows)",
    )
    now = forecast["baseline"]["p_liquidity_event"]
    week = pd.Timestamp(forecast["last_data_week"])
    ax.errorbar(
        [week],
        [pct * now["mean"]],
        yerr=[[pct * (now["mean"] - now["q05"])], [pct * (now["q95"] - now["mean"])]],
        fmt="o",
        color="black",
        capsize=3,
        label="this forecast",
    )
    h = forecast["horizon_weeks"]
    ax.set(
        title=f"P(liquidity event starting within {h} weeks), out of sample since "
        f"{origins[0].year}",
        ylabel="probability, %",
        xlabel="forecast origin (month-end); event labels: catalogue ids",
        ylim=(0, pct * top),
    )
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=5)
    fig.tight_layout()
    return fig


def scenario_effects_chart(forecast: dict) -> plt.Figure:
    """Each scenario's change of P(event) against the baseline, paired draw by draw."""
    scen = forecast["scenarios"]
    names = sorted(scen, key=lambda n: scen[n]["change_vs_baseline"]["p_liquidity_event"]["mean"])
    d = [scen[n]["change_vs_baseline"]["p_liquidity_event"] for n in names]
    means = np.array([100 * x["mean"] for x in d])
    lo = means - np.array([100 * x["q05"] for x in d])
    hi = np.array([100 * x["q95"] for x in d]) - means
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(names) + 1.4))
    ax.barh(
        [n.replace("_", " ") for n in names],
        means,
        xerr=[lo, hi],
        capsize=4,
        color=["tab:red" if m > 0 else "tab:blue" for m in means],
        alpha=0.8,
    )
    ax.axvline(0, color="black", lw=0.8)
    ax.set(
        title="Scenarios: change in P(event) against the baseline",
        xlabel="percentage points (bars: 90% interval of the paired difference)",
    )
    fig.tight_layout()
    return fig


def scenario_event_paths(forecast: dict) -> plt.Figure:
    """P(an event has started by week h) over the horizon, baseline band and each scenario."""
    return scenario_paths(
        forecast,
        "p_event_path",
        "P(a liquidity event has started by week h), by scenario",
        "probability, %",
    )


def scenario_driver_paths(forecast: dict) -> plt.Figure | None:
    """Median path of every driver a scenario moves, against the baseline's 90% fan."""
    fans = forecast["driver_fans"]
    base = fans["baseline"]
    moved = [
        d
        for d in base
        if any(not np.allclose(fans[n][d]["q50"], base[d]["q50"]) for n in fans if n != "baseline")
    ]
    if not moved:
        return None
    weeks = np.arange(1, forecast["horizon_weeks"] + 1)
    ncols = min(3, len(moved))
    nrows = -(-len(moved) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(11, 3.2 * nrows), squeeze=False)
    for ax in axes.ravel()[len(moved) :]:
        ax.set_visible(False)
    for ax, driver in zip(axes.ravel(), moved, strict=False):
        title, unit = DRIVER_LABELS.get(driver, (driver, ""))
        ax.fill_between(
            weeks,
            base[driver]["q05"],
            base[driver]["q95"],
            color="grey",
            alpha=0.3,
            lw=0,
            label="baseline 90%",
        )
        ax.plot(weeks, base[driver]["q50"], color="black", lw=2, label="baseline median")
        for name in fans:
            if name != "baseline" and not np.allclose(
                fans[name][driver]["q50"], base[driver]["q50"]
            ):
                ax.plot(weeks, fans[name][driver]["q50"], lw=1.3, label=name.replace("_", " "))
        ax.set_title(title.split(":")[0], fontsize=9)
        ax.set(xlabel="weeks ahead", ylabel=unit)
        ax.legend(fontsize=6)
    fig.suptitle("The drivers each scenario moves (medians; other drivers follow the baseline)")
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
