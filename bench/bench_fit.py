"""Fit benchmark: the same model and data on NumPyro (default) vs PyMC's own NUTS, plus MLE.

    python bench/bench_fit.py [--draws 1000] [--tune 1000] [--chains 4] [--end YYYY-MM-DD]

Also a cold refit of the ``vulnerability`` variant (docs/model.md), which must cost no more
than the default's. Prints, side by side in one run: wall time, min bulk ESS over all
sampled parameters, min ESS per second, and ratios against PyMC's default backend (the
baseline). NumPyro runs three ways on the same data, with JAX's compilation cache in a fresh folder:

- **cold, compiling**: a cold refit (start search, full warm-up) that compiles its
  programs, as the first refit after a model change or on a new machine does;
- **cold, programs cached**: the same refit once an earlier one compiled them (a refit
  on a few more weeks builds the same programs, ``tests/test_jax_density.py``);
- **warm, programs cached**: the monthly refit as the quant team runs it (``fit.py
  --warm-start``): started from a fit four weeks older, itself warm-started from one
  eight weeks older (both untimed; they compile and keep the warm programs).

statsmodels' MarkovRegression (MLE, time-varying transitions, log MOVE only) is timed as
the classical reference; it has no ESS. Also printed: PyMC's own sampling clock with the
ratio against it alone (unaffected by PyTensor's C cache being cold or warm), and the
machine's speed (one gradient, timed before NumPyro's fits and after them). PyMC runs
first, before JAX starts, as ``fit.py --backend pymc`` runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def bench_backend(backend: str, inputs, config, args, warm=None, label=None) -> dict:
    from model.equations.build import build_model
    from model.equations.parameters import parameter_names
    from model.inference.gate import convergence_report
    from model.inference.jax_density import jax_potential
    from model.inference.sampling import sample
    from model.inference.settings import SamplerSettings

    started = time.perf_counter()
    pymc_model = build_model(inputs, config)
    potential = jax_potential(pymc_model, inputs, config) if backend == "numpyro" else None
    idata = sample(
        pymc_model,
        SamplerSettings(
            draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed, backend=backend
        ),
        progressbar=False,
        potential=potential,
        warm=warm,
    )
    wall = time.perf_counter() - started
    if warm is not None and "warm_start_from" not in idata.sample_stats.attrs["initialization"]:
        raise RuntimeError(f"the warm start was refused: {idata.sample_stats.attrs}")
    report = convergence_report(idata, parameter_names(idata.posterior))
    steps = idata.sample_stats.get("n_steps", None)
    return {
        "backend": label or backend,
        "idata": idata,
        "wall_s": wall,
        "min_ess_bulk": report["min_ess_bulk"],
        "sampling_s": idata.sample_stats.attrs.get("sampling_time"),
        "min_ess_per_s": report["min_ess_bulk"] / wall,
        "max_rhat": report["max_rhat"],
        "divergences": report["divergences"],
        "timing": json.loads(idata.sample_stats.attrs.get("timing", "{}")),
        "steps_per_draw": float(steps.mean()) if steps is not None else float("nan"),
    }


def passes(row: dict) -> bool:
    from model.equations.parameters import parameter_names
    from model.inference.gate import convergence_report

    return bool(convergence_report(row["idata"], parameter_names(row["idata"].posterior))["passed"])


def monthly_warm_refit(inputs, config, args) -> dict:
    """The monthly refit as the quant team runs it: all the data, started from the fit
    four weeks older (``fit.py --warm-start``), whose own refit from the fit eight weeks
    older compiled the warm programs (both untimed)."""
    from data.panel import build_panel
    from data.sources import resolve_source
    from model.equations.inputs import model_inputs
    from model.inference.sampling import WarmStart

    source = resolve_source(args.data)
    warm = None
    for weeks_earlier in (8, 4):
        end = inputs.weeks[-1 - weeks_earlier]
        earlier = model_inputs(build_panel(source, start=config.start, end=end), config)
        row = bench_backend("numpyro", earlier, config, args, warm=warm)
        warm = WarmStart.from_idata(row["idata"], f"fit to {end.date()}")
    return bench_backend(
        "numpyro", inputs, config, args, warm=warm, label="NumPyro, warm, programs cached"
    )


def gradient_timer(inputs, config, repeats: int = 400) -> Callable[[], float]:
    """A clock of this machine: each call returns milliseconds per value and gradient of
    the model's JAX potential, as NUTS calls it (``repeats`` calls inside one compiled
    loop, at the model's initial point, one thread). Compiled once, timed on every call.

    Why: this machine's speed moves by up to 3x between hours (0.48 to 1.45 ms measured
    on 2026-12-01), which the ratios against PyMC absorb but the absolute wall time (the
    30 s target) does not. Timed before NumPyro's fit and after all fits, it says how fast
    the machine ran while they did.
    """
    import jax
    import jax.numpy as jnp

    from model.equations.build import build_model
    from model.inference.jax_density import jax_potential

    pymc_model = build_model(inputs, config)
    potential = jax_potential(pymc_model, inputs, config)
    point = pymc_model.initial_point()
    values = [jnp.asarray(point[v.name]) for v in pymc_model.value_vars]
    value_and_grad = jax.value_and_grad(potential)

    @jax.jit
    def loop(values):
        def body(_, carry):
            # a nudge that depends on the previous result, so no call can be skipped
            value, grads = value_and_grad([v + carry * 1e-12 for v in values])
            return carry + 1e-15 * (value + sum(jnp.sum(g) for g in grads))

        return jax.lax.fori_loop(0, repeats, body, 0.0)

    loop(values).block_until_ready()

    def milliseconds() -> float:
        started = time.perf_counter()
        loop(values).block_until_ready()
        return (time.perf_counter() - started) / repeats * 1e3

    return milliseconds


def pymc_setup_line(pymc_row: dict, numpyro_row: dict) -> str:
    """How much of PyMC's wall was its own sampling clock, and the ESS/s ratio against that
    clock alone.

    Why: PyMC's default backend compiles C code through PyTensor, cached on disk. On a new
    machine (cold cache) that took minutes (2026-12-01: ~378 s of a 1021 s run), which
    inflates the ratio against it; the ratio against its sampling time alone is the
    conservative one and does not depend on the cache.
    """
    sampling = float(pymc_row["sampling_s"])
    ratio = numpyro_row["min_ess_per_s"] / (pymc_row["min_ess_bulk"] / sampling)
    return (
        f"  pymc's own sampling clock: {sampling:.1f} s of its {pymc_row['wall_s']:.1f} s "
        f"wall (the rest: start search, PyTensor compiling C code, setup); "
        f"NumPyro's ESS/s against PyMC's sampling time alone: {ratio:.1f}x"
    )


def bench_statsmodels(panel, inputs) -> dict:
    import numpy as np
    import statsmodels.api as sm

    frame = panel.frame.loc[inputs.weeks[0] :]
    y = np.log(frame["move"].to_numpy())
    lagged = frame["log_move"].shift(1).bfill().to_numpy()
    z = (lagged - lagged.mean()) / lagged.std()
    exog_tvtp = np.column_stack([np.ones(len(y)), z])
    started = time.perf_counter()
    result = sm.tsa.MarkovRegression(
        y, k_regimes=2, trend="c", switching_variance=True, exog_tvtp=exog_tvtp
    ).fit(disp=False, search_reps=20)
    return {
        "backend": "statsmodels MLE (log MOVE only)",
        "wall_s": time.perf_counter() - started,
        "min_ess_bulk": float("nan"),
        "min_ess_per_s": float("nan"),
        "max_rhat": float("nan"),
        "divergences": 0,
        "llf": float(result.llf),
    }


def print_table(rows: list[dict], baseline: dict | None) -> None:
    """Wall, ESS and their ratios against PyMC's default, one row per route."""
    print(
        f"\n{'route':<34}{'wall s':>9}{'min ESS':>9}{'ESS/s':>8}{'R-hat':>7}{'div':>5}"
        f"{'wall vs pymc':>14}{'ESS/s vs pymc':>15}"
    )
    for r in rows:
        wall_ratio = f"{r['wall_s'] / baseline['wall_s']:.2f}x" if baseline else "-"
        ess_ratio = (
            f"{r['min_ess_per_s'] / baseline['min_ess_per_s']:.1f}x"
            if baseline and r["min_ess_per_s"] == r["min_ess_per_s"]
            else "-"
        )
        print(
            f"{r['backend']:<34}{r['wall_s']:>9.1f}{r['min_ess_bulk']:>9.0f}"
            f"{r['min_ess_per_s']:>8.2f}{r['max_rhat']:>7.3f}{r['divergences']:>5}"
            f"{wall_ratio:>14}{ess_ratio:>15}"
        )


def print_refit_ratios(rows: list[dict]) -> None:
    """Warm against cold refits, the variant against the default, and the fixed costs."""
    from model.records.report import fixed_cost

    cold, cached, warm = rows[:3]
    print(
        f"\nwarm refit / cold refit, wall: {warm['wall_s'] / cold['wall_s']:.2f} against the "
        f"compiling one, {warm['wall_s'] / cached['wall_s']:.2f} against the cached one "
        f"(target <= 0.33); gate: "
        + ", ".join(f"{r['backend']} {'passed' if passes(r) else 'refused'}" for r in rows[:3])
    )
    print(
        f"vulnerability variant / default, cold refit compiling its programs: wall "
        f"{rows[3]['wall_s'] / cold['wall_s']:.2f}, ESS/s "
        f"{rows[3]['min_ess_per_s'] / cold['min_ess_per_s']:.2f} (target: wall <= 1)"
    )
    for r in rows[:3]:
        fixed = fixed_cost(r["timing"], r["wall_s"])
        print(f"  fixed cost, {r['backend']}: {fixed:.1f} s, {fixed / r['wall_s']:.0%} of the wall")
    print(
        "targets: <= 30 s wall (full history, 4 x 1000), min ESS/s >= 15x PyMC's default, "
        "fixed cost <= 25% of a default refit"
    )


def variant_config(config):
    """The default's config with the vulnerability variant's drivers (``fit.py --variant``)."""
    from dataclasses import replace

    from data.drivers import VARIANTS

    return replace(config, drivers=VARIANTS["vulnerability"])


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--tune", type=int, default=1000)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--end", default=None)
    p.add_argument("--data", default=None)
    p.add_argument("--skip-pymc", action="store_true", help="numpyro and MLE only")
    return p.parse_args()


def print_where_time_went(rows: list[dict], baseline: dict | None, speeds: tuple, args) -> None:
    """Each fit's phases, PyMC's set-up, and the gradient count at the machine's speed."""
    from model.records.report import phase_times

    speed_before, speed_after = speeds
    print("\nwhere the seconds went (compiling = JAX tracing, lowering and XLA compilation):")
    for r in rows:
        if r.get("timing"):
            print(
                f"  {r['backend']:<32}{phase_times(r['timing'])[1:]}"
                f"; {r['steps_per_draw']:.1f} leapfrog steps per draw"
            )
    if baseline and baseline.get("sampling_s"):
        print(pymc_setup_line(baseline, rows[0]))
    print(
        f"\nmachine speed: value and gradient of the JAX potential {speed_before:.2f} ms "
        f"before NumPyro's fit (after PyMC's), {speed_after:.2f} ms after all fits "
        "(inside a compiled loop, one thread)"
    )
    gradients = args.chains * args.draws * rows[0]["steps_per_draw"]
    cores = min(args.chains, os.cpu_count() or 1)
    low, high = sorted(gradients * ms / 1e3 / cores for ms in speeds)
    print(
        f"  NumPyro's kept draws: {gradients:,.0f} gradients, ~{low:.1f}-{high:.1f} s on "
        f"{cores} cores at that speed "
        "(warm-up not counted: its steps are not recorded)"
    )


def main() -> None:
    args = parse_args()
    # heavy imports after argparse, so --help answers at once
    from model.inference.runtime import configure

    # a fresh cache folder: the first NumPyro refit compiles, the later ones find its
    # programs (model/inference/runtime.py)
    os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench-fit-jax-")
    configure()
    from data.panel import build_panel
    from data.sources import resolve_source
    from model.equations.config import ModelConfig
    from model.equations.inputs import model_inputs

    config = ModelConfig()
    panel = build_panel(resolve_source(args.data), start=config.start, end=args.end)
    inputs = model_inputs(panel, config)
    history = "full history" if args.end is None else f"history to {args.end}"
    print(
        f"{history}: {inputs.n_weeks} weeks, {args.chains} chains x {args.draws} draws "
        f"(+{args.tune} tune)",
        flush=True,
    )
    # PyMC first: it forks its chain processes, and runs as `fit.py --backend pymc` does,
    # in a process where JAX has not started (its start search runs on PyTensor)
    baseline = None if args.skip_pymc else bench_backend("pymc", inputs, config, args)
    machine_speed = gradient_timer(inputs, config)
    speed_before = machine_speed()
    rows = [bench_backend("numpyro", inputs, config, args, label="NumPyro, cold, compiling")]
    rows.append(
        bench_backend("numpyro", inputs, config, args, label="NumPyro, cold, programs cached")
    )
    rows.append(monthly_warm_refit(inputs, config, args))
    variant = variant_config(config)
    variant_inputs = model_inputs(panel, variant)
    label = "NumPyro, vulnerability, compiling"
    rows.append(bench_backend("numpyro", variant_inputs, variant, args, label=label))
    rows += [baseline] if baseline else []
    rows.append(bench_statsmodels(panel, inputs))
    speeds = (speed_before, machine_speed())
    print_table(rows, baseline)
    print_where_time_went(rows, baseline, speeds, args)
    print_refit_ratios(rows)


if __name__ == "__main__":
    main()
