"""Periodic refit: ``python fit.py`` fits the full default snapshot and stores a versioned fit.

Exit status: 0 when the fit passed the convergence gate (and became ``fits/latest``),
1 when it was stored but failed the gate, 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import model  # noqa: F401  (sets JAX's CPU device count before JAX loads)
from data.errors import DataError
from data.sources import resolve_source
from model.config import ModelConfig
from model.gate import GateThresholds
from model.report import fit_summary
from model.sampling import BACKENDS, SamplerSettings


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="snapshot directory (default ../shared/data/raw, else the "
                   "FRED cache)")
    p.add_argument("--fred", action="store_true", help="FRED series via fredapi and its cache")
    p.add_argument("--end", help="data cut-off as known on that date (YYYY-MM-DD)")
    p.add_argument("--start", default="2006-01-04", help="first week of the fit")
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--tune", type=int, default=1000)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--seed", type=int, default=20061)
    p.add_argument("--target-accept", type=float, default=SamplerSettings.target_accept)
    p.add_argument("--map-starts", type=int, default=16,
                   help="local optimizations that place the chains in the dominant mode "
                   "(0: PyMC's jittered default start)")
    p.add_argument("--dense-mass", action="store_true",
                   help="adapt a full mass matrix in warm-up (default: diagonal; dense is "
                   "the backtest's default, for the ridges of short histories)")
    p.add_argument("--backend", choices=BACKENDS, default="numpyro",
                   help="NUTS backend (numpyro: JAX, fast; pymc: PyMC's own sampler)")
    p.add_argument("--qe-definition", choices=("strict", "broad"), default="strict")
    p.add_argument("--fits-dir", default="fits", help="where fits are stored")
    p.add_argument("--max-rhat", type=float, default=1.01)
    p.add_argument("--min-ess", type=float, default=400.0, help="bulk and tail ESS")
    p.add_argument("--max-divergences", type=int, default=0)
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from model.fitting import run_fit

    config = ModelConfig(qe_definition=args.qe_definition, start=args.start)
    settings = SamplerSettings(draws=args.draws, tune=args.tune, chains=args.chains,
                               seed=args.seed, target_accept=args.target_accept,
                               backend=args.backend, map_starts=args.map_starts,
                               dense_mass=args.dense_mass)
    thresholds = GateThresholds(args.max_rhat, args.min_ess, args.min_ess,
                                args.max_divergences)
    try:
        source = resolve_source(args.data, use_fred=args.fred)
        result = run_fit(source, end=args.end, config=config, settings=settings,
                         thresholds=thresholds, fits_dir=Path(args.fits_dir),
                         progressbar=not args.no_progress)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(fit_summary(result.manifest, result.idata, result.path))
    if not result.passed:
        print("FIT REFUSED by the convergence gate: " + "; ".join(
            result.manifest["convergence"]["failures"]) + f". {args.fits_dir}/latest was not "
            "moved.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
