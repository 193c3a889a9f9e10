"""Periodic refit: ``python fit.py`` fits the full default snapshot and stores a versioned fit.

Exit status: 0 when the fit passed the convergence gate (and became ``fits/latest``),
1 when it was stored but failed the gate, 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from data.arguments import (
    acceptance_rate,
    add_vintage_option,
    iso_date,
    nonnegative_int,
    positive_int,
)
from data.defaults import QE_DEFINITION_NAMES, REPO_ROOT
from data.drivers import OPTIONAL, VARIANTS
from data.errors import DEBUG_HELP, DataError, user_error
from model.equations.config import MOVE_OBSERVABLES, ModelConfig
from model.inference.runtime import configure
from model.inference.settings import BACKENDS, GateThresholds, SamplerSettings


def add_data_options(p: argparse.ArgumentParser, config: ModelConfig) -> None:
    """Where the data come from and which weeks the fit reads."""
    p.add_argument(
        "--data", help="snapshot directory (default ../shared/data/raw, else the FRED cache)"
    )
    p.add_argument("--fred", action="store_true", help="FRED series via fredapi and its cache")
    add_vintage_option(p)
    p.add_argument(
        "--end",
        type=iso_date,
        help="data cut-off as known on that date (YYYY-MM-DD; default: all the data)",
    )
    p.add_argument(
        "--start",
        type=iso_date,
        default=config.start,
        help="first week of the fit (default %(default)s)",
    )


def add_sampler_options(p: argparse.ArgumentParser, sampler: SamplerSettings) -> None:
    """NUTS: draws, warm-up, chains, seed, starts, mass matrix and backend."""
    p.add_argument(
        "--draws",
        type=positive_int,
        default=sampler.draws,
        help="draws per chain (default %(default)s)",
    )
    p.add_argument(
        "--tune",
        type=nonnegative_int,
        default=sampler.tune,
        help="warm-up iterations per chain (default %(default)s)",
    )
    p.add_argument(
        "--chains",
        type=positive_int,
        default=sampler.chains,
        help="NUTS chains (default %(default)s)",
    )
    p.add_argument(
        "--seed",
        type=nonnegative_int,
        default=sampler.seed,
        help="random seed (default %(default)s)",
    )
    p.add_argument(
        "--target-accept",
        type=acceptance_rate,
        default=sampler.target_accept,
        help="NUTS' target acceptance rate (default %(default)s)",
    )
    p.add_argument(
        "--map-starts",
        type=nonnegative_int,
        default=sampler.map_starts,
        help="local optimizations that place the chains in the dominant mode "
        "(default %(default)s; 0: PyMC's jittered default start)",
    )
    p.add_argument(
        "--dense-mass",
        action="store_true",
        help="adapt a full mass matrix in warm-up (default: diagonal; dense is "
        "the backtest's default, for the ridges of short histories)",
    )
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default=sampler.backend,
        help="NUTS backend (default %(default)s; numpyro: JAX, fast; pymc: PyMC's own sampler)",
    )


def add_model_options(p: argparse.ArgumentParser, config: ModelConfig) -> None:
    """The model variant: QE definition, driver set, events and the MOVE observable."""
    p.add_argument(
        "--qe-definition",
        choices=QE_DEFINITION_NAMES,
        default=config.qe_definition,
        help="which policy events count as a QE restart (default %(default)s; "
        "README, 'Events and definitions')",
    )
    p.add_argument(
        "--variant",
        choices=tuple(VARIANTS),
        default="default",
        help="which drivers the transitions and the QE hazard read (default %(default)s: "
        "all five; vulnerability: basis, TGA, foreign demand and the reserve buffer, with "
        "MOVE and the funding spread read only as the regime's emissions, docs/model.md)",
    )
    p.add_argument(
        "--events",
        choices=("catalogue", "objective"),
        default=config.events,
        help="what the event emission is trained on (default %(default)s: the "
        "catalogue's counted events; objective: the data-dated episodes, "
        "docs/backtest.md)",
    )
    p.add_argument(
        "--event-coef-sd",
        type=float,
        default=config.event_coef_prior_sd,
        help="prior sd of each driver's effect on an event onset's log-odds "
        "(default %(default)s: onsets depend on the regime alone; > 0 adds the "
        "onset hazard in the lagged drivers, docs/backtest.md)",
    )
    p.add_argument(
        "--move-observable",
        choices=MOVE_OBSERVABLES,
        default=config.move_observable,
        help="what the MOVE emission reads (default %(default)s: log MOVE, a "
        "volatility-level stress state; jump: log MOVE over its trailing-year "
        "median, a volatility-jump state, docs/backtest.md)",
    )


def add_driver_options(p: argparse.ArgumentParser) -> None:
    """Drivers left out of the variant, or optional ones added."""
    every_driver = tuple(dict.fromkeys(d for v in VARIANTS.values() for d in v))
    p.add_argument(
        "--without-driver",
        action="append",
        default=[],
        choices=every_driver,
        metavar="DRIVER",
        help="leave a driver of the variant out of the model (repeatable; e.g. basis_short "
        "for cut-offs before the CFTC history starts in 2015); choices: " + ", ".join(every_driver),
    )
    p.add_argument(
        "--with-driver",
        action="append",
        default=[],
        choices=[d.name for d in OPTIONAL],
        metavar="DRIVER",
        help="add an optional driver (off by default; its coverage is short): "
        + ", ".join(d.name for d in OPTIONAL)
        + " (needs python -m data refresh --swap-file)",
    )


def add_store_options(p: argparse.ArgumentParser) -> None:
    """Where the fit is stored and whether it starts from the last one."""
    p.add_argument(
        "--warm-start",
        action="store_true",
        help="start from the last state of FITS_DIR/latest when it is a passing fit of the "
        "same model whose data this refit extends (no start search; its mass matrix "
        "kept and a short warm-up of the step size); "
        "otherwise a cold start, and the manifest says why",
    )
    p.add_argument(
        "--fits-dir",
        default=str(REPO_ROOT / "fits"),
        help="where fits are stored (default fits/ in the repository)",
    )


def add_gate_options(p: argparse.ArgumentParser, gate: GateThresholds) -> None:
    """The convergence gate's thresholds."""
    p.add_argument(
        "--max-rhat",
        type=float,
        default=gate.max_rhat,
        help="gate: largest R-hat of any parameter (default %(default)s)",
    )
    p.add_argument(
        "--min-ess",
        type=float,
        default=gate.min_ess_bulk,
        help="gate: smallest bulk and tail ESS of any parameter (default %(default)s)",
    )
    p.add_argument(
        "--max-divergences",
        type=int,
        default=gate.max_divergences,
        help="gate: divergent transitions allowed after warm-up (default %(default)s)",
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    # Defaults come from the settings classes, so --help, the manifest and a fit run from
    # Python (model.inference.fitting.run_fit) cannot disagree.
    sampler, gate, config = SamplerSettings(), GateThresholds(), ModelConfig()
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_data_options(p, config)
    add_sampler_options(p, sampler)
    add_model_options(p, config)
    add_driver_options(p)
    add_store_options(p)
    add_gate_options(p, gate)
    p.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bars (they are shown only on a terminal)",
    )
    p.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    args = p.parse_args(argv)
    if set(args.without_driver) >= set(VARIANTS[args.variant]):
        p.error("--without-driver: at least one driver must stay in the model")
    return args


def fit_options(args: argparse.Namespace) -> tuple[ModelConfig, SamplerSettings, GateThresholds]:
    """The model config, sampler settings and gate thresholds the flags ask for."""
    config = ModelConfig(
        qe_definition=args.qe_definition,
        start=args.start,
        events=args.events,
        event_coef_prior_sd=args.event_coef_sd,
        move_observable=args.move_observable,
        drivers=(
            *(d for d in VARIANTS[args.variant] if d not in args.without_driver),
            *dict.fromkeys(args.with_driver),
        ),
    )
    settings = SamplerSettings(
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        seed=args.seed,
        target_accept=args.target_accept,
        backend=args.backend,
        map_starts=args.map_starts,
        dense_mass=args.dense_mass,
    )
    thresholds = GateThresholds(args.max_rhat, args.min_ess, args.min_ess, args.max_divergences)
    return config, settings, thresholds


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure()  # before JAX and PyMC load: the heavy imports come after the arguments
    from data.sources import resolve_source
    from model.inference.fitting import run_fit
    from model.records.report import fit_summary
    from model.records.store import FitError, load_fit

    config, settings, thresholds = fit_options(args)
    try:
        source = resolve_source(args.data, use_fred=args.fred, named=dict(args.vintage))
        latest = Path(args.fits_dir) / "latest"
        warm_from = load_fit(latest) if args.warm_start and latest.exists() else None
        result = run_fit(
            source,
            end=args.end,
            config=config,
            settings=settings,
            thresholds=thresholds,
            fits_dir=Path(args.fits_dir),
            progressbar=not args.no_progress and sys.stderr.isatty(),
            warm_from=warm_from,
        )
    except (DataError, FitError) as exc:
        return user_error(exc, args.debug)
    print(fit_summary(result.manifest, result.idata, result.path))
    if not result.passed:
        print(
            "FIT REFUSED by the convergence gate: "
            + "; ".join(result.manifest["convergence"]["failures"])
            + f". {args.fits_dir}/latest was not "
            "moved.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
