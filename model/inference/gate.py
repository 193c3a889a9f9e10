"""Convergence gate: a fit that fails it is stored but never becomes the committee's fit."""

from __future__ import annotations

from dataclasses import asdict

import arviz as az
import numpy as np

from model.inference.settings import GateThresholds


def convergence_report(
    idata: az.InferenceData, var_names: list[str], thresholds: GateThresholds = GateThresholds()
) -> dict:
    """Max R-hat, min bulk/tail ESS over every scalar of ``var_names``, divergences, verdict.

    Unrounded: ``az.summary`` rounds R-hat to two decimals by default, and compared with
    the 1.01 threshold a rounded 1.01 lets any R-hat up to 1.0149 pass (seen: the
    2026-12-01 default refit reported "1.01"; its true maximum was 1.0053)."""
    summary = az.summary(idata, var_names=var_names, kind="diagnostics", round_to="none")
    divergences = int(idata.sample_stats["diverging"].sum())
    worst = {
        "max_rhat": float(summary["r_hat"].max()),
        "max_rhat_at": str(summary["r_hat"].idxmax()),
        "min_ess_bulk": float(summary["ess_bulk"].min()),
        "min_ess_bulk_at": str(summary["ess_bulk"].idxmin()),
        "min_ess_tail": float(summary["ess_tail"].min()),
        "min_ess_tail_at": str(summary["ess_tail"].idxmin()),
        "divergences": divergences,
    }
    failures = []
    # pandas' max/min skip NaN: a parameter whose chains never moved has an undefined R-hat
    # and ESS and must fail, not vanish from the comparison
    undefined = summary.index[summary[["r_hat", "ess_bulk", "ess_tail"]].isna().any(axis=1)]
    if len(undefined):
        failures.append(
            f"R-hat/ESS undefined (NaN) for {len(undefined)} parameter(s), e.g. {undefined[0]}: "
            "chains that never moved"
        )
    if not np.isfinite(worst["max_rhat"]) or worst["max_rhat"] > thresholds.max_rhat:
        failures.append(
            f"R-hat {worst['max_rhat']:.3f} > {thresholds.max_rhat} ({worst['max_rhat_at']})"
        )
    if worst["min_ess_bulk"] < thresholds.min_ess_bulk:
        failures.append(
            f"bulk ESS {worst['min_ess_bulk']:.0f} < {thresholds.min_ess_bulk:.0f} "
            f"({worst['min_ess_bulk_at']})"
        )
    if worst["min_ess_tail"] < thresholds.min_ess_tail:
        failures.append(
            f"tail ESS {worst['min_ess_tail']:.0f} < {thresholds.min_ess_tail:.0f} "
            f"({worst['min_ess_tail_at']})"
        )
    if divergences > thresholds.max_divergences:
        failures.append(f"{divergences} divergent transitions > {thresholds.max_divergences}")
    return {
        **worst,
        "n_scalars": int(len(summary)),
        "thresholds": asdict(thresholds),
        "passed": not failures,
        "failures": failures,
    }
