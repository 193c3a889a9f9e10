"""The backtest's speed: refit throughput (short chains), or one variant's whole dense backtest.

    python bench/bench_backtest.py [--origins 4] [--draws 150] [--fit-start 2014-01-01]
    python bench/bench_backtest.py --full [--variant default] [--warm-start] [--out DIR]

``--full`` runs ``python -m diagnostics backtest`` with its documented settings (every
yearly refit with the production sampler and gate, every monthly origin, every baseline,
the scores) for one variant into a fresh folder (or ``--out``, resumable), on 2 Dask
workers, with an empty compilation cache (a variant under research is a new model, none of
its programs compiled yet; ``--keep-cache`` uses the project's), and prints the wall time
of each stage against the 15-minute target, the forecast
stage's time by part (summed over origins: the panel as known, the model, the MS-TVTP
baseline's MLE, the other baselines) and the refits' gate results and warm starts. Then
the MS-TVTP baseline's MLE at five origins with statsmodels' own ``MarkovRegression`` and
with the backtest's subclass (same forecasts, checked), side by side.

Without ``--full``:
The same origins (quarterly from 2019-01) and the backtest's own sampler settings
(``model.inference.settings.BACKTEST_SAMPLER``: 2 chains, 32 starts) with fewer draws run three
times into fresh output directories: serially in this process, on a LocalCluster of
``--workers`` processes, and serially with warm starts (each refit from the previous
passing one, ``--warm-start``). Each includes everything a refit does (panel as known, NUTS
compile and sampling, regime probabilities, predictive checks, gate).
Prints wall time, refits per minute and the Dask/serial speed-up.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--origins", type=int, default=4)
    p.add_argument("--draws", type=int, default=150, help="draws = tune, per chain")
    p.add_argument("--fit-start", default="2014-01-01")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--data", help="snapshot directory")
    p.add_argument("--full", action="store_true", help="one variant's whole dense backtest")
    p.add_argument("--variant", default="default", help="--full: the variant (default default)")
    p.add_argument("--warm-start", action="store_true", help="--full: chained warm refits")
    p.add_argument("--out", help="--full: keep the backtest here (default: a temporary folder)")
    p.add_argument(
        "--keep-cache",
        action="store_true",
        help="--full: use the project's compiled programs (default: an empty cache, as a "
        "new variant meets it)",
    )
    return p.parse_args()


#: The research loop's target for one variant's whole dense backtest (wall, 2 cores).
FULL_TARGET_MINUTES = 15.0


def full_backtest(args: argparse.Namespace) -> None:
    """One variant's dense backtest exactly as ``docs/backtest.md`` runs it, timed by stage."""
    import json

    from model.inference.runtime import configure

    with tempfile.TemporaryDirectory() as tmp:
        if not args.keep_cache:
            # a variant under research is a new model: none of its programs is compiled yet
            os.environ["JAX_COMPILATION_CACHE_DIR"] = str(Path(tmp) / "jax-cache")
        configure()
        from diagnostics.__main__ import main as diagnostics_main

        out = Path(args.out or Path(tmp) / "backtest")
        argv = ["backtest", "--out", str(out), "--variant", args.variant]
        argv += ["--workers", str(args.workers)] + (["--data", args.data] if args.data else [])
        argv += ["--warm-start"] if args.warm_start else []
        started = time.perf_counter()
        status = diagnostics_main(argv)
        wall = time.perf_counter() - started
        meta = json.loads((out / "dense" / "dense_meta.json").read_text())
        origins = [
            json.loads(p.read_text()) for p in sorted((out / "dense" / "origins").glob("*.json"))
        ]
        refits = [json.loads(p.read_text()) for p in sorted((out / "origins").glob("*.json"))]
    print_full(args, status, wall, meta, origins, refits)


def print_full(args, status: int, wall: float, meta: dict, origins: list, refits: list) -> None:
    stages = meta.get("stage_seconds", {})
    warm = sum("warm_start_from" in r.get("initialization", {}) for r in refits)
    passed = sum(r["gate_passed"] for r in refits)
    print(
        f"one variant's dense backtest ({args.variant}, "
        f"{'chained warm' if args.warm_start else 'cold'} refits, {args.workers} workers, "
        f"{'the project' if args.keep_cache else 'an empty'} compilation cache): "
        f"exit status {status}"
    )
    print(f"{'stage':<34}{'wall min':>10}")
    for name in ("refits", "forecasts", "scores"):
        print(f"{name:<34}{stages.get(name, float('nan')) / 60:>10.1f}")
    print(f"{'whole run':<34}{wall / 60:>10.1f}")
    print(
        f"target {FULL_TARGET_MINUTES:.0f} min: {wall / 60 / FULL_TARGET_MINUTES:.2f}x of it; "
        f"{len(refits)} refits, {passed} passed the gate, {warm} warm-started"
    )
    parts: dict[str, float] = {}
    for record in origins:
        for part, seconds in record.get("seconds_by_part", {}).items():
            parts[part] = parts.get(part, 0.0) + seconds
    total = sum(r["seconds"] for r in origins)
    print(f"forecast stage, {len(origins)} origins, {total:.0f} s of work in all, by part:")
    for part, seconds in sorted(parts.items(), key=lambda kv: -kv[1]):
        print(
            f"  {part:<32}{seconds:>8.0f} s  {seconds / total:>6.1%}  "
            f"{seconds / len(origins):.2f} s/origin"
        )


#: Origins at which the MS-TVTP baseline is timed with statsmodels' own class and the
#: backtest's (:mod:`diagnostics.evaluation.markov_tvtp`), spread over the backtest.
MS_TVTP_ORIGINS = ("2009-06-24", "2012-09-26", "2015-12-30", "2019-06-26", "2022-03-30")


def ms_tvtp_side_by_side(data: str | None) -> None:
    """The MS-TVTP baseline's MLE with statsmodels' ``MarkovRegression`` and with the
    backtest's subclass, in turns at the same origins: seconds, and whether the forecasts
    are the same."""
    from unittest import mock

    import pandas as pd
    from statsmodels.tsa.regime_switching.markov_regression import MarkovRegression

    from data.defaults import DEFAULT_START, HORIZON_WEEKS
    from data.panel import build_panel
    from data.sources import resolve_source
    from diagnostics.evaluation import baselines

    print("MS-TVTP baseline's MLE per origin, statsmodels' class against the backtest's:")
    totals = {"statsmodels": 0.0, "backtest": 0.0}
    for origin in MS_TVTP_ORIGINS:
        panel = build_panel(resolve_source(data), start=DEFAULT_START, end=origin)
        at = (panel, pd.Timestamp(origin), HORIZON_WEEKS, DEFAULT_START)
        started = time.perf_counter()
        with mock.patch.object(baselines, "TwoRegimeTvtpRegression", MarkovRegression):
            stock = baselines.ms_tvtp_forecast(*at)
        seconds = {"statsmodels": time.perf_counter() - started}
        started = time.perf_counter()
        fast = baselines.ms_tvtp_forecast(*at)
        seconds["backtest"] = time.perf_counter() - started
        for name in totals:
            totals[name] += seconds[name]
        print(
            f"  {origin}: {seconds['statsmodels']:.2f} s against {seconds['backtest']:.2f} s; "
            f"forecast {'the same' if fast == stock else 'DIFFERENT'}"
        )
    print(f"  ratio statsmodels / backtest: {totals['statsmodels'] / totals['backtest']:.2f}x")


def main() -> None:
    args = parse_args()
    if args.full:
        full_backtest(args)
        ms_tvtp_side_by_side(args.data)
        return
    # heavy imports after argparse, so --help answers at once
    from model.inference.runtime import configure

    # every refit compiles, as a refit on new data does: programs an earlier run kept
    # on disk (model/inference/runtime.py) would make the first route look slower than the rest
    os.environ["JAX_ENABLE_COMPILATION_CACHE"] = "false"
    configure()
    from dataclasses import asdict, replace

    from diagnostics.evaluation.refits import RefitSpec, default_origins, run_refits
    from model.inference.settings import BACKTEST_SAMPLER, GateThresholds, SamplerSettings

    defaults = SamplerSettings()
    warm_share = defaults.warm_tune / defaults.tune

    with tempfile.TemporaryDirectory() as tmp:
        spec = RefitSpec(
            data_dir=args.data,
            start=args.fit_start,
            sampler={
                **BACKTEST_SAMPLER,
                "draws": args.draws,
                "tune": args.draws,
                # the production ratio of warm to cold warm-up, at this length
                "warm_tune": max(20, round(warm_share * args.draws)),
            },
            # ESS 100: short chains can pass, so a warm start has a passing fit to start from
            gate=asdict(GateThresholds(1.05, 100, 100, 10)),
            fits_dir=str(Path(tmp) / "fits"),
        )
        origins = default_origins(spec, "2019-01-01", "quarter")[: args.origins]
        rows = []
        for label, run_spec, kwargs in (
            ("serial", spec, {"serial": True}),
            (f"dask x{args.workers}", spec, {"n_workers": args.workers}),
            ("serial, warm", replace(spec, warm_start=True), {"serial": True}),
        ):
            out = Path(tmp) / label.replace(" ", "_").replace(",", "")
            started = time.perf_counter()
            run = run_refits(run_spec, origins, out, log=lambda *_: None, **kwargs)
            seconds = time.perf_counter() - started
            assert len(run.computed) == len(origins), run.failed
            warm = sum("warm_start_from" in r.get("initialization", {}) for r in run.records)
            passed = sum(r["gate_passed"] for r in run.records)
            rows.append((label, seconds, 60 * len(origins) / seconds, warm, passed))
    print(
        f"{len(origins)} origins ({origins[0]} .. {origins[-1]}), fits from "
        f"{args.fit_start}, 2 chains x {args.draws}+{args.draws}"
    )
    print(f"{'run':<14}{'wall s':>10}{'origins/min':>14}{'warm-started':>14}{'passed':>8}")
    for label, seconds, rate, warm, passed in rows:
        print(f"{label:<14}{seconds:>10.1f}{rate:>14.2f}{warm:>14}{passed:>8}")
    print(f"speed-up dask/serial: {rows[1][2] / rows[0][2]:.2f}x")
    print(f"speed-up warm/cold, serial: {rows[2][2] / rows[0][2]:.2f}x")


if __name__ == "__main__":
    main()
