"""Convergence evidence for one fit: the gate's verdict, a per-parameter table, ArviZ plots.

The table is recomputed from the stored draws with ArviZ (the gate's numbers in the
manifest come from the same function), so a reviewer sees the worst R-hat/ESS both over
every sampled scalar (manifest) and per structural parameter (table).
"""

from __future__ import annotations

import arviz as az
import matplotlib.pyplot as plt
import pandas as pd

from model.posterior import OPTIONAL_PARAMETERS, PARAMETERS
from model.store import Fit

#: Plotted in the rank and trace plots: the parameters the committee's numbers rest on.
PLOTTED = (
    "trans_intercept",
    "trans_coef",
    "qe_intercept",
    "qe_stress_effect",
    "move_shift",
    "funding_shift",
    "stress_type_weights",
    "event_hit_rate",
)


def parameter_table(fit: Fit) -> pd.DataFrame:
    """Mean, 90% interval, R-hat, bulk/tail ESS and MCSE of every structural parameter."""
    names = [*PARAMETERS, *(n for n in OPTIONAL_PARAMETERS if n in fit.idata.posterior)]
    return az.summary(fit.idata, var_names=names, hdi_prob=0.9)


def gate_rows(fit: Fit) -> list[tuple[str, str, str, bool]]:
    """(check, value, threshold, ok) for each gate criterion, from the manifest."""
    conv = fit.manifest["convergence"]
    thr = conv.get("thresholds", {})
    return [
        (
            "max R-hat",
            f"{conv['max_rhat']:.3f} ({conv['max_rhat_at']})",
            f"<= {thr.get('max_rhat', 1.01)}",
            conv["max_rhat"] <= thr.get("max_rhat", 1.01),
        ),
        (
            "min bulk ESS",
            f"{conv['min_ess_bulk']:.0f} ({conv['min_ess_bulk_at']})",
            f">= {thr.get('min_ess_bulk', 400):.0f}",
            conv["min_ess_bulk"] >= thr.get("min_ess_bulk", 400),
        ),
        (
            "min tail ESS",
            f"{conv['min_ess_tail']:.0f} ({conv['min_ess_tail_at']})",
            f">= {thr.get('min_ess_tail', 400):.0f}",
            conv["min_ess_tail"] >= thr.get("min_ess_tail", 400),
        ),
        (
            "divergences",
            str(conv["divergences"]),
            f"<= {thr.get('max_divergences', 0)}",
            conv["divergences"] <= thr.get("max_divergences", 0),
        ),
    ]


def _title(fig: plt.Figure, text: str) -> plt.Figure:
    fig.suptitle(text, fontsize=12)
    fig.tight_layout()
    return fig


def rank_figure(fit: Fit) -> plt.Figure:
    axes = az.plot_rank(
        fit.idata,
        var_names=[
            "trans_intercept",
            "qe_intercept",
            "qe_stress_effect",
            "move_shift",
            "funding_shift",
            "stress_type_weights",
        ],
        kind="vlines",
        figsize=(12, 9),
    )
    return _title(
        axes.ravel()[0].figure,
        "Rank plots: each chain's draws per rank bin (colours: chains)\n"
        "x: rank among all chains' draws; dashed: the count if chains mix "
        "(uniform = chains mix)",
    )


def trace_figure(fit: Fit) -> plt.Figure:
    axes = az.plot_trace(
        fit.idata, var_names=list(PLOTTED), compact=True, figsize=(12, 2.0 * len(PLOTTED))
    )
    return _title(
        axes.ravel()[0].figure, "Trace and marginal posterior of the key parameters (lines: chains)"
    )


def energy_figure(fit: Fit) -> plt.Figure:
    ax = az.plot_energy(fit.idata, figsize=(7, 4))
    bfmi = az.bfmi(fit.idata)
    ax.set(
        title="Energy: marginal vs transition (BFMI per chain "
        + ", ".join(f"{b:.2f}" for b in bfmi)
        + "; < 0.3 is a warning)",
        xlabel="energy minus its mean (nats)",
        ylabel="density",
    )
    ax.figure.tight_layout()
    return ax.figure
