"""What the drivers do in the fitted model: stress-entry curves and the QE hazard over time.

Entry curve of driver k: P(calm -> stress next week) as driver k moves over its observed
range with the other drivers at their historical mean (0 in standardized units), per draw,
shown as posterior mean and 90% band in the driver's own unit.

QE hazard over time: per week and draw, the weekly restart probability mixed over the
regime with the draw's smoothed P(stress): ``(1 - p) h(calm) + p h(stress)``; blank where
the Fed was already buying (not at risk).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from data.catalogue import qe_weeks
from data.drivers import to_display
from model.equations.inputs import lag_once
from model.equations.likelihood import restart_probabilities, stress_probabilities
from model.equations.posterior import driver_moments, flat_draws, parameters
from model.records.store import Fit
from outlook.figures import DRIVER_LABELS, shade_events


def entry_curves(fit: Fit, n_points: int = 60) -> dict[str, dict[str, np.ndarray]]:
    """Per driver: grid in own units, and the 5/50/95% and mean of P(enter stress)."""
    inputs = fit.inputs()
    params = parameters(fit.idata.posterior)
    out = {}
    for k, driver in enumerate(inputs.drivers):
        observed = inputs.x[:, k][~np.isnan(inputs.x[:, k])]
        grid = np.linspace(observed.min(), observed.max(), n_points)
        x_from = np.zeros((n_points, len(inputs.drivers)))
        x_from[:, k] = grid
        p = stress_probabilities(params, x_from)[..., 0]  # (D, n_points), leaving calm
        own = to_display(driver, grid * inputs.driver_sd[k] + inputs.driver_mean[k])
        out[driver] = {
            "x": own,
            "mean": p.mean(0),
            "q05": np.quantile(p, 0.05, 0),
            "q95": np.quantile(p, 0.95, 0),
        }
    return out


def entry_figure(fit: Fit) -> plt.Figure:
    curves = entry_curves(fit)
    fig, axes = plt.subplots(1, len(curves), figsize=(3.3 * len(curves), 3.6), sharey=True)
    for ax, (driver, c) in zip(np.atleast_1d(axes), curves.items(), strict=True):
        title, unit = DRIVER_LABELS.get(driver, (driver, ""))
        ax.fill_between(
            c["x"], 100 * c["q05"], 100 * c["q95"], alpha=0.3, lw=0, label="90% interval"
        )
        ax.plot(c["x"], 100 * c["mean"], lw=2, label="posterior mean")
        ax.set(xlabel=unit, title=title, ylim=(0, None))
        ax.title.set_fontsize(8)
    np.atleast_1d(axes)[0].set_ylabel("P(calm -> stress next week), %")
    np.atleast_1d(axes)[0].legend(fontsize=8)
    fig.suptitle(
        "Stress-entry probability as each driver moves over its observed range "
        "(others at their historical mean)"
    )
    fig.tight_layout()
    return fig


def qe_hazard(fit: Fit) -> pd.DataFrame:
    """Weekly QE-restart probability over time: mean and 90% band (NaN when not at risk)."""
    inputs = fit.inputs()
    post = fit.idata.posterior
    params = parameters(post)
    x, x_var = driver_moments(post, inputs)
    x_lagged, var_lagged = lag_once(x), lag_once(x_var)
    by_regime = restart_probabilities(params, x_lagged, var_lagged)  # (D, T, 2)
    p_stress = flat_draws(post, "p_stress_smoothed")
    hazard = (1 - p_stress) * by_regime[..., 0] + p_stress * by_regime[..., 1]
    at_risk = inputs.obs["at_risk"] > 0
    frame = pd.DataFrame(
        {
            "mean": hazard.mean(0),
            "q05": np.quantile(hazard, 0.05, 0),
            "q95": np.quantile(hazard, 0.95, 0),
        },
        index=inputs.weeks,
    )
    frame[~at_risk] = np.nan
    return frame


def qe_hazard_figure(fit: Fit) -> plt.Figure:
    hazard = qe_hazard(fit)
    weeks = hazard.index
    fig, ax = plt.subplots(figsize=(11, 3.4))
    shade_events(ax)
    ax.fill_between(
        weeks,
        100 * hazard["q05"],
        100 * hazard["q95"],
        alpha=0.3,
        lw=0,
        color="tab:green",
        label="90% interval",
    )
    ax.plot(
        weeks,
        100 * hazard["mean"],
        color="tab:green",
        lw=1.2,
        label="weekly restart probability (posterior mean)",
    )
    restarts = qe_weeks(weeks, fit.config.qe_definition)["restart"] > 0
    for i, week in enumerate(weeks[restarts.to_numpy()]):
        ax.axvline(
            week,
            color="black",
            ls="--",
            lw=1.2,
            label=f"QE restart ({fit.config.qe_definition})" if i == 0 else None,
        )
    ax.set(
        title="QE-restart hazard over time (blank: the Fed was already buying)",
        ylabel="P(restart this week), %",
        xlabel="week",
        ylim=(0, None),
    )
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=4)
    fig.tight_layout()
    return fig
