"""Convergence evidence for one fit: the gate's verdict, a per-parameter table, ArviZ plots.

The table is recomputed from the stored draws with ArviZ (the gate's numbers in the
manifest come from the same function), so a reviewer sees the worst R-hat/ESS both over
every sampled scalar (manifest) and per structural parameter (table).
"""

from __future__ import annotations

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from model.equations.parameters import parameter_names
from model.records.store import Fit

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
    names = parameter_names(fit.idata.posterior)
    return az.summary(fit.idata, var_names=names, hdi_prob=0.9, round_to="none")


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
        fit.idata,
        var_names=list(PLOTTED),
        compact=True,
        legend=True,  # names each line of a vector parameter (which regime, which driver)
        figsize=(12, 2.4 * len(PLOTTED)),
    )
    for ax in axes[:, 0]:
        legend = ax.get_legend()
        if legend is not None:
            legend.set(loc="upper right")
            for text in legend.get_texts():
                text.set_fontsize(6)
    return _title(
        axes.ravel()[0].figure, "Trace and marginal posterior of the key parameters (lines: chains)"
    )


def worst_parameters(table: pd.DataFrame) -> dict[str, str]:
    """The scalars where the sampler did worst: largest R-hat, smallest bulk and tail ESS
    (labels as in :func:`parameter_table`, e.g. ``trans_coef[calm, log_move]``)."""
    return {
        "largest R-hat": str(table["r_hat"].idxmax()),
        "smallest bulk ESS": str(table["ess_bulk"].idxmin()),
        "smallest tail ESS": str(table["ess_tail"].idxmin()),
    }


def scalar_draws(fit: Fit, label: str) -> np.ndarray:
    """(chain, draw) draws of one scalar named as ArviZ labels it: ``name[c1, c2]``."""
    name, _, rest = label.partition("[")
    values = fit.idata.posterior[name]
    coords = [c.strip() for c in rest.rstrip("]").split(",")] if rest else []
    dims = [d for d in values.dims if d not in ("chain", "draw")]
    selection = {}
    for dim, coord in zip(dims, coords, strict=True):
        kind = values[dim].dtype.kind
        selection[dim] = int(coord) if kind in "iu" else coord
    return values.sel(selection).to_numpy()


def worst_figure(fit: Fit, table: pd.DataFrame) -> plt.Figure:
    """Rank and trace plots of the worst-mixing scalars, whatever they are (the fixed
    selection of :data:`PLOTTED` may not include them)."""
    worst = worst_parameters(table)
    labels = list(dict.fromkeys(worst.values()))
    why = {label: [k for k, v in worst.items() if v == label] for label in labels}
    subset = az.from_dict(posterior={label: scalar_draws(fit, label) for label in labels})
    fig, axes = plt.subplots(len(labels), 2, figsize=(12, 2.6 * len(labels)), squeeze=False)
    az.plot_trace(subset, axes=axes, legend=True)
    for row, label in zip(axes, labels, strict=True):
        r = table.loc[label]
        row[0].set_title("")  # ArviZ's centred title would overprint the one on the left
        row[0].set_title(
            f"{label}: {' and '.join(why[label])} (R-hat {r['r_hat']:.3f}, bulk ESS "
            f"{r['ess_bulk']:.0f}, tail ESS {r['ess_tail']:.0f})",
            fontsize=9,
            loc="left",
        )
        row[1].set_title("trace by chain", fontsize=9)
    return _title(fig, "The worst-mixing parameters: marginal by chain and trace")


def worst_rank_figure(fit: Fit, table: pd.DataFrame) -> plt.Figure:
    labels = list(dict.fromkeys(worst_parameters(table).values()))
    subset = az.from_dict(posterior={label: scalar_draws(fit, label) for label in labels})
    axes = az.plot_rank(subset, kind="vlines", figsize=(12, 3.2))
    return _title(
        np.atleast_1d(axes).ravel()[0].figure,
        "Rank plots of the worst-mixing parameters (uniform = chains mix)",
    )


def energy_figure(fit: Fit) -> plt.Figure:
    ax = az.plot_energy(fit.idata, figsize=(7, 4))
    bfmi = az.bfmi(fit.idata)
    ax.set(
        title="Energy: marginal vs transition\n(BFMI per chain "
        + ", ".join(f"{b:.2f}" for b in bfmi)
        + "; below 0.3 is a warning)",
        xlabel="energy minus its mean (nats)",
        ylabel="density",
    )
    ax.figure.tight_layout()
    return ax.figure
