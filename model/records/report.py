"""The one-screen summary printed at the end of a refit."""

from __future__ import annotations

from pathlib import Path

import arviz as az

from model.equations.parameters import PARAMETERS, parameter_names
from model.records.store import latest_is

KEY_PARAMETERS = (
    "trans_intercept",
    "trans_coef",
    "qe_intercept",
    "qe_stress_effect",
    "qe_coef",
    "funding_shift",
    "move_shift",
    "stress_type_weights",
    "event_hit_rate",
    "event_continue",
)


def fit_summary(manifest: dict, idata: az.InferenceData, path: Path) -> str:
    optional = parameter_names(idata.posterior)[len(PARAMETERS) :]
    names = [*KEY_PARAMETERS, *optional]
    summary = az.summary(idata, var_names=names, kind="stats", hdi_prob=0.9)
    conv = manifest["convergence"]
    now = manifest["current"]["p_stress_filtered"]
    lines = [
        f"liqshock fit {manifest['fit_id']}",
        f"data: {manifest['data']['source']}, weeks {manifest['data']['start']} .. "
        f"{manifest['data']['cutoff']} ({manifest['data']['n_weeks']})",
        f"sampler: {manifest['sampler']['backend']} {manifest['sampler']['chains']} chains x "
        f"{manifest['sampler']['draws']} draws (+{manifest['sampler']['tune']} tune), "
        f"{manifest['wall_time_s']} s wall" + phase_times(manifest.get("timing", {})),
        fixed_line(manifest),
        start_line(manifest.get("initialization", {}), manifest["sampler"]),
        "",
        f"{'parameter':<42}{'mean':>8}{'5%':>8}{'95%':>8}",
    ]
    for name, row in summary.iterrows():
        lines.append(f"{name:<42}{row['mean']:>8.2f}{row['hdi_5%']:>8.2f}{row['hdi_95%']:>8.2f}")
    lines += [
        "",
        f"P(stress) in the week of {manifest['current']['week']}: {now['mean']:.1%} "
        f"(90% interval {now['q05']:.1%} .. {now['q95']:.1%})",
        f"convergence: max R-hat {conv['max_rhat']:.3f}, min bulk ESS {conv['min_ess_bulk']:.0f}"
        f", min tail ESS {conv['min_ess_tail']:.0f}, divergences {conv['divergences']} -> "
        + ("PASSED" if conv["passed"] else "FAILED: " + "; ".join(conv["failures"])),
    ]
    for name, row in manifest["checks"]["prior_predictive"].items():
        if "observed" in row:
            lines.append(
                f"prior predictive {name}: {row['q05_per_20y']:.1f} .. "
                f"{row['q95_per_20y']:.1f} per 20y (observed "
                f"{row['observed_per_20y']:.1f})"
            )
    if not conv["passed"]:
        where = " (kept, NOT latest)"
    elif latest_is(path.parent, path.name):
        where = " (now fits/latest)"
    else:
        where = " (passed, but NOT latest: fits/latest holds a fit of newer data)"
    lines.append(f"written to {path}{where}")
    return "\n".join(lines)


def start_line(record: dict, sampler: dict) -> str:
    """How the chains started: warm from an earlier fit, or a search (and why not warm)."""
    if "warm_start_from" in record:
        return (
            f"warm start from {record['warm_start_from']} "
            f"({sampler.get('warm_tune')} warm-up iterations instead of {sampler['tune']}"
            + (", its mass matrix kept" if sampler.get("warm_keeps_mass", True) else "")
            + ")"
        )
    text = f"cold start: {record.get('map_starts', 0)} optimizer starts"
    if record.get("warm_start_refused"):
        text += f" (no warm start: {record['warm_start_refused']})"
    return text


def phase_times(timing: dict) -> str:
    """' (start search 9.8 s, 4.3 compiling; NUTS 36.1 s, 8.4 compiling)', or ''. A phase
    without a compile time (PyMC's sampler: PyTensor's compiling is not split out) shows
    its wall seconds alone."""
    parts = [
        f"{label} {timing[key + '_s']:.1f} s"
        + (f", {timing[key + '_compile_s']:.1f} compiling" if key + "_compile_s" in timing else "")
        for key, label in (("start_search", "start search"), ("nuts", "NUTS"))
        if key + "_s" in timing
    ]
    return f" ({'; '.join(parts)})" if parts else ""


def fixed_line(manifest: dict) -> str:
    fixed = fixed_cost(manifest.get("timing", {}), manifest["wall_time_s"])
    if fixed is None:
        return ""
    return (
        f"fixed cost (everything but the NUTS iterations): {fixed:.1f} s, "
        f"{fixed / manifest['wall_time_s']:.0%} of the wall"
    )


def fixed_cost(timing: dict, wall_s: float) -> float | None:
    """Seconds of a fit that are not NUTS iterations (setup, start search, compiling,
    summaries): the part a warm start or a faster gradient cannot shrink."""
    if "nuts_s" not in timing:
        return None
    iterations = timing["nuts_s"] - timing.get("nuts_compile_s", 0.0)
    return wall_s - iterations
