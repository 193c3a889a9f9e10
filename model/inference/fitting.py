"""One refit, end to end: panel -> model -> NUTS -> regime probabilities -> gate -> fit record.

``run_fit`` is what ``fit.py`` and the backtest call; it never overwrites anything: every
fit gets a new id, and ``latest`` moves only to a fit that passed the convergence gate.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from data.panel import Panel, build_panel
from data.sources import REPO_ROOT, DataSource
from model.equations.build import build_model
from model.equations.config import ModelConfig
from model.equations.inputs import STRESS_LEVELS, ModelInputs, model_inputs
from model.equations.parameters import parameter_names
from model.equations.posterior import regime_probabilities
from model.inference.checks import observed_counts, predictive_counts, prior_group, summarize_counts
from model.inference.gate import convergence_report
from model.inference.jax_density import jax_potential
from model.inference.sampling import WarmStart, sample
from model.inference.settings import GateThresholds, SamplerSettings
from model.records.store import Fit, check_store, write_fit

PACKAGES = (
    "pymc",
    "pytensor",
    "arviz",
    "numpy",
    "pandas",
    "xarray",
    "statsmodels",
    "jax",
    "numpyro",
    "fredapi",
)


@dataclass
class FitResult:
    path: Path
    manifest: dict
    idata: az.InferenceData
    inputs: ModelInputs
    panel: Panel

    @property
    def passed(self) -> bool:
        return self.manifest["convergence"]["passed"]


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def make_fit_id(panel: Panel, config: ModelConfig) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{panel.cutoff.date()}_{config.qe_definition}_{stamp}_{config.digest()[:8]}"


def warm_start_for(
    earlier: Fit | None, config: ModelConfig, panel: Panel
) -> tuple[WarmStart | None, str | None]:
    """The earlier fit's last state if this refit may start from it, else why not.

    Only a passing fit of the same model and config (same digest) whose data this refit's
    extend: its chains then sit where the new posterior is, up to the new weeks' news.
    """
    if earlier is None:
        return None, None
    if not earlier.manifest["convergence"]["passed"]:
        return None, f"{earlier.fit_id} failed the gate"
    if earlier.config.digest() != config.digest():
        return None, f"{earlier.fit_id} is another model or config"
    if pd.Timestamp(earlier.manifest["data"]["cutoff"]) > panel.cutoff:
        return None, f"{earlier.fit_id} has newer data than this refit"
    try:
        warm = WarmStart.from_idata(earlier.idata, earlier.fit_id)
    except (KeyError, ValueError, TypeError) as exc:  # a damaged warm_start group
        return None, f"{earlier.fit_id}'s chain state is unreadable ({type(exc).__name__}: {exc})"
    if warm is None:
        return None, f"{earlier.fit_id} kept no chain state"
    damage = warm.damaged()
    if damage:
        return None, f"{earlier.fit_id}'s chain state {damage}"
    return warm, None


def run_fit(
    source: DataSource,
    *,
    end=None,
    config: ModelConfig = ModelConfig(),
    settings: SamplerSettings = SamplerSettings(),
    thresholds: GateThresholds = GateThresholds(),
    fits_dir: Path = Path("fits"),
    progressbar: bool = True,
    prior_draws: int = 300,
    warm_from: Fit | None = None,
) -> FitResult:
    started = time.perf_counter()
    check_store(Path(fits_dir))
    panel = build_panel(source, start=config.start, end=end)
    inputs = model_inputs(panel, config)
    model = build_model(inputs, config)
    potential = jax_potential(model, inputs, config) if settings.backend == "numpyro" else None
    warm, cold_reason = warm_start_for(warm_from, config, panel)
    setup_seconds = time.perf_counter() - started
    idata = sample(model, settings, progressbar=progressbar, potential=potential, warm=warm)
    if cold_reason:
        note_initialization(idata, warm_start_refused=cold_reason)
    sampling_seconds = time.perf_counter() - started

    add_fit_groups(idata, model, panel, inputs, config, prior_draws, settings.seed)
    checks = predictive_checks(idata, inputs, settings.seed)
    # every sampled quantity: the parameters alone (missing driver weeks are integrated
    # out, not sampled: model/equations/missing.py), a variant's optional ones included
    convergence = convergence_report(idata, parameter_names(idata.posterior), thresholds)
    fit_id = make_fit_id(panel, config)
    idata.posterior.attrs.update(
        {"fit_id": fit_id, "config_digest": config.digest(), "model_version": config.version}
    )
    manifest = {
        "fit_id": fit_id,
        "created_at": datetime.now(UTC).isoformat(),
        "data": data_record(panel, inputs),
        "model": {
            "version": config.version,
            "config": config.to_dict(),
            "config_digest": config.digest(),
        },
        "sampler": settings.to_dict(),
        "initialization": json.loads(idata.sample_stats.attrs.get("initialization", "{}")),
        "timing": timing_record(idata, started, setup_seconds, sampling_seconds),
        "packages": package_versions(),
        "git_commit": git_commit(),
        "wall_time_s": round(time.perf_counter() - started, 1),
        "sampling_time_s": round(sampling_seconds, 1),
        "convergence": convergence,
        "checks": checks,
        "current": current_state(idata, inputs),
    }
    path = write_fit(Path(fits_dir), fit_id, idata, manifest)
    return FitResult(path, manifest, idata, inputs, panel)


def note_initialization(idata: az.InferenceData, **facts: str) -> None:
    """Add ``facts`` to the record of how the chains started (kept with the draws)."""
    record = json.loads(idata.sample_stats.attrs["initialization"])
    idata.sample_stats.attrs["initialization"] = json.dumps({**record, **facts})


def timing_record(
    idata: az.InferenceData, started: float, setup_seconds: float, sampling_seconds: float
) -> dict:
    """Where the refit's seconds went: set-up, the sampler's phases (with JAX's compiling),
    and the summaries after sampling (regime probabilities, prior draws, checks, gate)."""
    return {
        "setup_s": round(setup_seconds, 2),
        **json.loads(idata.sample_stats.attrs.get("timing", "{}")),
        "summaries_s": round(time.perf_counter() - started - sampling_seconds, 2),
    }


def add_fit_groups(
    idata: az.InferenceData,
    model,
    panel: Panel,
    inputs: ModelInputs,
    config: ModelConfig,
    prior_draws: int,
    seed: int,
) -> None:
    """What a stored fit keeps beside its draws: the regime probabilities of every draw,
    the data it read, and prior draws for the reviewer's prior predictive checks."""
    regimes = regime_probabilities(idata.posterior, inputs, config)
    idata.posterior = xr.merge(
        [idata.posterior, regimes[["p_stress_filtered", "p_stress_smoothed"]]]
    )
    idata.add_groups(
        observed_data=observed_dataset(panel, inputs), constant_data=constant_dataset(inputs)
    )
    idata.add_groups(prior=prior_group(model, prior_draws, seed))


def predictive_checks(idata: az.InferenceData, inputs: ModelInputs, seed: int) -> dict:
    """Events and restarts per 20 years, prior and posterior predictive, against the data."""
    observed = observed_counts(inputs)
    return {
        f"{group}_predictive": summarize_counts(
            predictive_counts(idata[group], inputs, seed), observed, inputs.n_weeks
        )
        for group in ("prior", "posterior")
    }


def data_record(panel: Panel, inputs: ModelInputs) -> dict:
    """The manifest's account of the data: source and vintage, weeks, identity, last
    observations, coverage, the drivers' scaling, notes."""
    return {
        "source": panel.source,
        "origin": panel.origin,
        "cutoff": str(panel.cutoff.date()),
        "start": str(inputs.weeks[0].date()),
        "n_weeks": inputs.n_weeks,
        "panel_digest": panel.digest(),
        "last_observation": {
            k: {
                c: (None if v is None or str(v) == "NaT" else str(v.date())) for c, v in row.items()
            }
            for k, row in panel.inputs.to_dict(orient="index").items()
        },
        "coverage": {k: float(v) for k, v in panel.coverage()["coverage"].items()},
        "driver_scaling": {
            d: {"mean": float(m), "sd": float(s)}
            for d, m, s in zip(inputs.drivers, inputs.driver_mean, inputs.driver_sd, strict=True)
        },
        "notes": panel.notes,
    }


def observed_dataset(panel: Panel, inputs: ModelInputs) -> xr.Dataset:
    frame = panel.frame.loc[inputs.weeks[0] :]
    data = {f"driver_{d}": ("week", frame[d].to_numpy()) for d in inputs.drivers}
    data.update({k: ("week", v) for k, v in inputs.obs.items()})
    data.update({f"{k}_level": ("week", frame[k].to_numpy()) for k in STRESS_LEVELS})
    return xr.Dataset(data, coords={"week": inputs.weeks})


def constant_dataset(inputs: ModelInputs) -> xr.Dataset:
    return xr.Dataset(
        {
            "driver_mean": ("driver", inputs.driver_mean),
            "driver_sd": ("driver", inputs.driver_sd),
            "x_standardized": (("week", "driver"), inputs.x),
        },
        coords={"driver": list(inputs.drivers), "week": inputs.weeks},
    )


def current_state(idata: az.InferenceData, inputs: ModelInputs) -> dict:
    last = idata.posterior["p_stress_filtered"].isel(week=-1).to_numpy().ravel()
    return {
        "week": str(inputs.weeks[-1].date()),
        "p_stress_filtered": {
            "mean": float(last.mean()),
            "q05": float(np.quantile(last, 0.05)),
            "q95": float(np.quantile(last, 0.95)),
        },
    }
