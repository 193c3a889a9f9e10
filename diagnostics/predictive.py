"""Prior and posterior predictive checks: stress observables and event/restart frequencies.

Replicated data come from the model's own generative process (:func:`model.simulate.simulate`)
run on each draw's drivers (observed where known; where not, the week's mean and variance
given the observed weeks, integrated out as in the fitted model), for the same weeks as the
data. The observables are compared as distributions (ArviZ ``plot_ppc``),
the event and restart counts as predictive distributions with the observed count marked.
"""

from __future__ import annotations

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from model.checks import observed_counts, predictive_counts
from model.inputs import FUNDING_UNIT_BP, ModelInputs
from model.posterior import driver_moments, parameters
from model.simulate import simulate

OBSERVABLES = {"funding_spread_bp": "weekly max funding spread (bp)", "move": "MOVE index (points)"}

#: The MOVE panel's label per MOVE observable (``exp`` of the model's ``move``).
MOVE_LABELS = {
    "level": "MOVE index (points)",
    "jump": "MOVE over its median of the previous 52 weeks (ratio)",
}


def replicate_observables(
    group: xr.Dataset, inputs: ModelInputs, n_draws: int, seed: int
) -> dict[str, np.ndarray]:
    """(draws, weeks) replicated funding spread (bp) and MOVE (points) from a draw group."""
    params = parameters(group)
    x, x_var = driver_moments(group, inputs)
    rng = np.random.default_rng(seed)
    take = rng.choice(len(x), size=min(n_draws, len(x)), replace=False)
    funding, move = [], []
    for d in take:
        p = {k: v[d] for k, v in params.items()}
        sim = simulate(rng, p, x[d], inputs.obs["at_risk"], x_var=x_var[d])
        funding.append(sim.obs["funding"] * FUNDING_UNIT_BP)
        move.append(np.exp(sim.obs["move"]))
    return {"funding_spread_bp": np.array(funding), "move": np.array(move)}


def predictive_idata(
    group: xr.Dataset, inputs: ModelInputs, n_draws: int, seed: int
) -> az.InferenceData:
    """InferenceData with replicated and observed observables (missing weeks dropped)."""
    reps = replicate_observables(group, inputs, n_draws, seed)
    observed = {
        "funding_spread_bp": (
            inputs.obs["funding"] * FUNDING_UNIT_BP,
            inputs.obs["funding_mask"] > 0,
        ),
        "move": (np.exp(inputs.obs["move"]), inputs.obs["move_mask"] > 0),
    }
    pp, obs = {}, {}
    for name, (values, mask) in observed.items():
        dim = f"{name}_week"
        pp[name] = xr.DataArray(reps[name][None, :, mask], dims=("chain", "draw", dim))
        obs[name] = xr.DataArray(values[mask], dims=(dim,))
    return az.InferenceData(posterior_predictive=xr.Dataset(pp), observed_data=xr.Dataset(obs))


def observables_figure(
    group: xr.Dataset, inputs: ModelInputs, which: str, n_draws: int = 100, seed: int = 0
) -> plt.Figure:
    """Observed vs replicated distributions of the two stress observables."""
    idata = predictive_idata(group, inputs, n_draws, seed)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    labels = {**OBSERVABLES, "move": MOVE_LABELS[inputs.move_observable]}
    for ax, (name, label) in zip(axes, labels.items(), strict=True):
        az.plot_ppc(
            idata,
            var_names=[name],
            ax=ax,
            num_pp_samples=n_draws,
            kind="cumulative" if name == "funding_spread_bp" else "kde",
            legend=True,
        )
        short = "funding spread" if name == "funding_spread_bp" else "MOVE"
        ax.set(xlabel=label, title=f"{which} predictive: {short}")
        if name == "funding_spread_bp":
            ax.set(xscale="symlog", ylabel="cumulative share of weeks")
        else:
            # the data's range, widened: prior draws reach MOVE levels no market has seen,
            # which would otherwise squeeze the observed density into one pixel column
            observed = idata.observed_data[name].to_numpy()
            ax.set(ylabel="density", xlim=(observed.min() / 1.5, observed.max() * 1.5))
        legend = ax.get_legend()
        if legend is not None:  # ArviZ names the replicated group "Posterior" in both checks
            for text in legend.get_texts():
                text.set_text(
                    text.get_text().replace("Posterior predictive", f"{which} predictive")
                )
    fig.suptitle(
        f"{which} predictive check of the stress observables "
        f"({n_draws} replicated histories vs the data)"
    )
    fig.tight_layout()
    return fig


def counts_figure(fit_idata: az.InferenceData, inputs: ModelInputs, seed: int = 0) -> plt.Figure:
    """Prior and posterior predictive counts of stress weeks, events and QE restarts."""
    observed = observed_counts(inputs)
    groups = [("prior", fit_idata.prior), ("posterior", fit_idata.posterior)]
    counts = {name: predictive_counts(g, inputs, seed) for name, g in groups}
    keys = [
        ("event_episodes", "liquidity-event episodes"),
        ("qe_restarts", "QE restarts"),
        ("stress_weeks", "weeks in the stress regime"),
    ]
    years = inputs.n_weeks / 52.18
    fig, axes = plt.subplots(1, len(keys), figsize=(14, 3.8))
    for ax, (key, label) in zip(axes, keys, strict=True):
        for name, colour in (("prior", "tab:grey"), ("posterior", "tab:blue")):
            values = counts[name].get(key)
            if values is None:
                continue
            bins = np.arange(values.max() + 2) - 0.5 if key != "stress_weeks" else 30
            ax.hist(
                values, bins=bins, color=colour, alpha=0.5, density=True, label=f"{name} predictive"
            )
        if key in observed:
            ax.axvline(observed[key], color="black", lw=2, label=f"observed: {observed[key]}")
        ax.set(xlabel=f"{label} in {years:.1f} years", ylabel="share of replications", title=label)
        ax.legend(fontsize=8)
    fig.suptitle(
        "Predictive frequency of events and restarts over the sample "
        "(prior: before seeing data; posterior: after)"
    )
    fig.tight_layout()
    return fig
