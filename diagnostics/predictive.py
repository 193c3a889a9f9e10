"""Prior and posterior predictive checks: stress observables and event/restart frequencies.

Replicated data come from the model's own generative process
(:func:`model.equations.simulate.simulate`) run on each draw's drivers (observed where
known; where not, the week's mean and variance given the observed weeks, integrated out as
in the fitted model), for the same weeks as the data. The observables are compared as
distributions (ArviZ ``plot_ppc``), the event and restart counts as predictive distributions
with the observed count marked.
"""

from __future__ import annotations

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from data.defaults import DEFAULT_SEED
from model.equations.inputs import FUNDING_UNIT_BP, ModelInputs
from model.equations.posterior import driver_moments, parameters
from model.equations.simulate import simulate
from model.inference.checks import observed_counts, predictive_counts

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


#: Statistics of a replicated history compared with the data's (posterior predictive
#: p-values): location, spread and both tails, where a misfit of a regime model shows.
STATISTICS = {
    "mean": lambda v: np.mean(v, axis=-1),
    "sd": lambda v: np.std(v, axis=-1),
    "5th percentile": lambda v: np.quantile(v, 0.05, axis=-1),
    "95th percentile": lambda v: np.quantile(v, 0.95, axis=-1),
    "largest week": lambda v: np.max(v, axis=-1),
}


def predictive_pvalues(idata: az.InferenceData) -> dict[str, dict[str, dict[str, float]]]:
    """Per observable and statistic: the data's value, the replicated 90% interval and
    P(replicated >= observed). Values near 0 or 1 say the model cannot reproduce that
    feature of the data (Gelman et al., BDA3 ch. 6)."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name in OBSERVABLES:
        rep = (
            idata.posterior_predictive[name]
            .to_numpy()
            .reshape(-1, idata.posterior_predictive[name].shape[-1])
        )
        obs = idata.observed_data[name].to_numpy()
        out[name] = {}
        for stat, f in STATISTICS.items():
            r, o = f(rep), float(f(obs))
            out[name][stat] = {
                "observed": o,
                "q05": float(np.quantile(r, 0.05)),
                "q95": float(np.quantile(r, 0.95)),
                "p_value": float(np.mean(r >= o)),
            }
    return out


def observables_figure(idata: az.InferenceData, move_observable: str, which: str) -> plt.Figure:
    """Observed vs replicated distributions of the two stress observables."""
    n_draws = idata.posterior_predictive.sizes["draw"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    labels = {**OBSERVABLES, "move": MOVE_LABELS[move_observable]}
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


def counts_figure(
    fit_idata: az.InferenceData, inputs: ModelInputs, seed: int = DEFAULT_SEED
) -> plt.Figure:
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
