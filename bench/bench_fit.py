"""Fit benchmark: the same model and data on NumPyro (default) vs PyMC's own NUTS, plus MLE.

    python bench/bench_fit.py [--draws 1000] [--tune 1000] [--chains 4] [--end YYYY-MM-DD]

Prints, side by side in one run: wall time (compilation included), min bulk ESS over all
sampled parameters, min ESS per second, and ratios against PyMC's default backend (the
baseline). statsmodels' MarkovRegression (MLE, time-varying transitions, log
MOVE only) is timed as the classical reference; it has no ESS.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import model  # noqa: E402,F401  (JAX device count before JAX loads)
from data.panel import build_panel  # noqa: E402
from data.sources import resolve_source  # noqa: E402
from model.build import build_model  # noqa: E402
from model.config import ModelConfig  # noqa: E402
from model.gate import convergence_report  # noqa: E402
from model.inputs import model_inputs  # noqa: E402
from model.jax_density import jax_potential  # noqa: E402
from model.posterior import PARAMETERS  # noqa: E402
from model.report import phase_times  # noqa: E402
from model.sampling import SamplerSettings, sample  # noqa: E402


def bench_backend(backend: str, inputs, config, args) -> dict:
    started = time.perf_counter()
    pymc_model = build_model(inputs, config)
    potential = jax_potential(pymc_model, inputs, config) if backend == "numpyro" else None
    idata = sample(pymc_model, SamplerSettings(draws=args.draws, tune=args.tune, chains=args.chains,
                                          seed=args.seed, backend=backend),
                   progressbar=False, potential=potential)
    wall = time.perf_counter() - started
    report = convergence_report(idata, list(PARAMETERS))
    steps = idata.sample_stats.get("n_steps", None)
    return {"backend": backend, "wall_s": wall, "min_ess_bulk": report["min_ess_bulk"],
            "min_ess_per_s": report["min_ess_bulk"] / wall, "max_rhat": report["max_rhat"],
            "divergences": report["divergences"],
            "timing": json.loads(idata.sample_stats.attrs.get("timing", "{}")),
            "steps_per_draw": float(steps.mean()) if steps is not None else float("nan")}


def bench_statsmodels(panel, inputs) -> dict:
    import numpy as np
    import statsmodels.api as sm

    frame = panel.frame.loc[inputs.weeks[0]:]
    y = np.log(frame["move"].to_numpy())
    lagged = frame["log_move"].shift(1).bfill().to_numpy()
    z = (lagged - lagged.mean()) / lagged.std()
    exog_tvtp = np.column_stack([np.ones(len(y)), z])
    started = time.perf_counter()
    result = sm.tsa.MarkovRegression(y, k_regimes=2, trend="c", switching_variance=True,
                                     exog_tvtp=exog_tvtp).fit(disp=False, search_reps=20)
    return {"backend": "statsmodels MLE (log MOVE only)", "wall_s": time.perf_counter() - started,
            "min_ess_bulk": float("nan"), "min_ess_per_s": float("nan"),
            "max_rhat": float("nan"), "divergences": 0, "llf": float(result.llf)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--tune", type=int, default=1000)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--end", default=None)
    p.add_argument("--data", default=None)
    p.add_argument("--skip-pymc", action="store_true", help="numpyro and MLE only")
    args = p.parse_args()

    config = ModelConfig()
    panel = build_panel(resolve_source(args.data), start=config.start, end=args.end)
    inputs = model_inputs(panel, config)
    print(f"full history: {inputs.n_weeks} weeks, {args.chains} chains x {args.draws} draws "
          f"(+{args.tune} tune)", flush=True)
    rows = [bench_backend("numpyro", inputs, config, args)]
    if not args.skip_pymc:
        rows.append(bench_backend("pymc", inputs, config, args))
    rows.append(bench_statsmodels(panel, inputs))
    baseline = next((r for r in rows if r["backend"] == "pymc"), None)
    print(f"\n{'route':<34}{'wall s':>9}{'min ESS':>9}{'ESS/s':>8}{'R-hat':>7}{'div':>5}"
          f"{'wall vs pymc':>14}{'ESS/s vs pymc':>15}")
    for r in rows:
        wall_ratio = f"{r['wall_s'] / baseline['wall_s']:.2f}x" if baseline else "-"
        ess_ratio = (f"{r['min_ess_per_s'] / baseline['min_ess_per_s']:.1f}x"
                     if baseline and r["min_ess_per_s"] == r["min_ess_per_s"] else "-")
        print(f"{r['backend']:<34}{r['wall_s']:>9.1f}{r['min_ess_bulk']:>9.0f}"
              f"{r['min_ess_per_s']:>8.2f}{r['max_rhat']:>7.3f}{r['divergences']:>5}"
              f"{wall_ratio:>14}{ess_ratio:>15}")
    print("\nwhere the seconds went (compiling = JAX tracing, lowering and XLA compilation):")
    for r in rows:
        if r.get("timing"):
            print(f"  {r['backend']:<10}{phase_times(r['timing'])[1:]}"
                  f"; {r['steps_per_draw']:.1f} leapfrog steps per draw")
    print("\ntargets: <= 30 s wall (full history, 4 x 1000), min ESS/s >= 15x PyMC's default")


if __name__ == "__main__":
    main()
