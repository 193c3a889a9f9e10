"""``python -m diagnostics review|backtest|score|fans|select|episodes|loo``: sign-off, track
record, targets.

Exit status: 0 on success; 1 when the backtest finished but some origins raised (their
tracebacks are under OUT/failed/); 2 on bad input (unknown fit, wrong spec in OUT, no data).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from data.arguments import acceptance_rate, iso_date, nonnegative_int, positive_int
from data.defaults import (
    DEFAULT_QE_DEFINITION,
    DEFAULT_START,
    HORIZON_WEEKS,
    QE_DEFINITION_NAMES,
    REPO_ROOT,
)
from data.drivers import VARIANTS
from data.errors import DEBUG_HELP, DataError, user_error
from model.equations.config import MOVE_OBSERVABLES, ModelConfig
from model.inference.runtime import configure
from model.inference.settings import BACKTEST_SAMPLER, GateThresholds


def add_review_command(sub, common: argparse.ArgumentParser) -> None:
    """``python -m diagnostics review`` and its flags."""
    r = sub.add_parser(
        "review", parents=[common], help="plots and checks of one fit, as one HTML page"
    )
    r.add_argument(
        "--fit", default=str(REPO_ROOT / "fits" / "latest"), help="fit (default fits/latest)"
    )
    r.add_argument("--out", help="output directory (default diagnostics/review/<fit-id>)")
    r.add_argument(
        "--backtests",
        default=str(REPO_ROOT / "backtest"),
        help="where dense backtests are kept (default backtest/): the newest of this model "
        "version fills the calibration and backtest section",
    )


def add_loo_command(sub, common: argparse.ArgumentParser) -> None:
    """``python -m diagnostics loo`` and its flags."""
    lo = sub.add_parser(
        "loo", parents=[common], help="PSIS-LOO comparison of fits of the same weeks and events"
    )
    lo.add_argument(
        "--fit",
        action="append",
        required=True,
        metavar="NAME=DIR",
        help="a fit to compare (repeat, at least two)",
    )


def add_episodes_command(sub, common: argparse.ArgumentParser) -> None:
    """``python -m diagnostics episodes`` and its flags."""
    e = sub.add_parser(
        "episodes",
        parents=[common],
        help="the objective stress episodes and their recall of the catalogue, as Markdown tables",
    )
    e.add_argument("--data", help="snapshot directory (default ../shared/data/raw)")
    e.add_argument(
        "--end", type=iso_date, help="panel as known on this date (default: latest data)"
    )


def add_score_command(sub, common: argparse.ArgumentParser) -> None:
    """``python -m diagnostics score`` and its flags."""
    sc = sub.add_parser(
        "score",
        parents=[common],
        help="score a backtest's stored records again (e.g. the shipped docs/track-record)",
    )
    sc.add_argument("records", help="folder with dense_forecasts.csv and onsets.json")
    sc.add_argument("--out", help="write the tables here (default: the records' folder)")


def add_select_command(sub, common: argparse.ArgumentParser) -> None:
    """``python -m diagnostics select``: the pre-registered variant rule in force."""
    se = sub.add_parser(
        "select",
        parents=[common],
        help="apply the pre-registered variant rule (docs/backtest.md) to scored backtests",
    )
    se.add_argument("--strict", required=True, help="scored records (OUT/dense), strict QE")
    se.add_argument("--broad", help="scored records (OUT/dense) of the broad-QE refits")
    se.add_argument("--fans", help="fan tables made with fans --challenger")
    se.add_argument("--challenger", default="vulnerability_jump")
    se.add_argument("--incumbent", default="regime_jump")


def add_fans_command(sub, common: argparse.ArgumentParser) -> None:
    """``python -m diagnostics fans`` and its flags."""
    fa = sub.add_parser(
        "fans",
        parents=[common],
        help="stress-at-risk: quantile forecasts of the stress observables against "
        "climatology and persistence, on the backtest's monthly origins",
    )
    fa.add_argument("--data", help="snapshot directory (default ../shared/data/raw)")
    fa.add_argument("--start", type=iso_date, default="2008-01-01", help="first refit and origin")
    fa.add_argument(
        "--out", default="backtest/fans", help="output directory (docs/track-record ships it)"
    )
    fa.add_argument(
        "--records",
        help="a backtest's forecast records (OUT/dense) whose model fans join the table",
    )
    fa.add_argument(
        "--series", default="regime_jump", help="the model series of --records to score"
    )
    fa.add_argument(
        "--challenger", help="another model series of --records, scored beside it as 'challenger'"
    )


def add_refit_sampler_options(b: argparse.ArgumentParser) -> None:
    """The refits' sampler and gate flags (defaults: the backtest's settings)."""
    b.add_argument(
        "--draws",
        type=positive_int,
        default=BACKTEST_SAMPLER["draws"],
        help="per chain, per origin fit",
    )
    b.add_argument("--tune", type=nonnegative_int, default=BACKTEST_SAMPLER["tune"])
    b.add_argument("--chains", type=positive_int, default=BACKTEST_SAMPLER["chains"])
    b.add_argument(
        "--target-accept", type=acceptance_rate, default=BACKTEST_SAMPLER["target_accept"]
    )
    b.add_argument(
        "--map-starts",
        type=nonnegative_int,
        default=BACKTEST_SAMPLER["map_starts"],
        help="see fit.py --map-starts",
    )
    b.add_argument(
        "--dense-mass",
        action=argparse.BooleanOptionalAction,
        default=BACKTEST_SAMPLER["dense_mass"],
        help="full (default) or diagonal mass matrix in warm-up",
    )
    gate = GateThresholds()
    b.add_argument(
        "--min-ess", type=float, default=gate.min_ess_bulk, help="gate: bulk and tail ESS"
    )
    b.add_argument("--max-rhat", type=float, default=gate.max_rhat)
    b.add_argument("--max-divergences", type=nonnegative_int, default=gate.max_divergences)


def add_variant_options(b: argparse.ArgumentParser) -> None:
    """Which model variant the refits fit, its name in the tables, and the series compared."""
    b.add_argument(
        "--events",
        choices=("catalogue", "objective"),
        default="catalogue",
        help="what each origin's model is trained on (see fit.py --events)",
    )
    b.add_argument(
        "--event-coef-sd",
        type=float,
        default=0.0,
        help="prior sd of the onset hazard's driver coefficients (0: onsets "
        "depend on the regime alone; see fit.py --event-coef-sd)",
    )
    b.add_argument(
        "--move-observable",
        choices=MOVE_OBSERVABLES,
        default=ModelConfig().move_observable,
        help="what each origin's MOVE emission reads (see fit.py --move-observable)",
    )
    b.add_argument(
        "--variant",
        choices=tuple(VARIANTS),
        default="default",
        help="which drivers each origin's transitions and QE hazard read (see fit.py --variant)",
    )
    b.add_argument(
        "--name",
        help="this model variant's name in the tables (default from --variant, --events and "
        "--event-coef-sd)",
    )
    b.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="also score another variant's refits (DIR: its backtest --out); repeatable",
    )


def add_backtest_command(sub, common: argparse.ArgumentParser) -> None:
    """``python -m diagnostics backtest`` and its flags."""
    b = sub.add_parser(
        "backtest", parents=[common], help="rolling-origin backtest against baselines, on Dask"
    )
    b.add_argument(
        "--start", type=iso_date, default="2008-01-01", help="first refit and origin (YYYY-MM-DD)"
    )
    b.add_argument(
        "--end",
        type=iso_date,
        help="last origin at most this date (default: the last whose horizon is inside the data)",
    )
    b.add_argument(
        "--every",
        default="month",
        choices=("week", "month", "quarter", "year"),
        help="forecast origins: every Wednesday, each month's or quarter's last Wednesday, "
        "or the first Wednesday of each year",
    )
    b.add_argument("--horizon", type=positive_int, default=HORIZON_WEEKS, help="weeks")
    b.add_argument(
        "--scheduler",
        help="address of an existing Dask scheduler (default: a LocalCluster on this machine)",
    )
    b.add_argument("--workers", type=positive_int, default=2, help="LocalCluster worker processes")
    b.add_argument("--serial", action="store_true", help="no Dask: origins one after another")
    b.add_argument(
        "--warm-start",
        action="store_true",
        help="each refit starts from the previous passing one (fit.py --warm-start); "
        "the refits then run in date order, one after another",
    )
    b.add_argument("--out", default="backtest", help="output directory (resumable)")
    b.add_argument("--data", help="snapshot directory (default ../shared/data/raw)")
    b.add_argument(
        "--fit-start", type=iso_date, default=DEFAULT_START, help="first week of every fit"
    )
    b.add_argument("--qe-definition", choices=QE_DEFINITION_NAMES, default=DEFAULT_QE_DEFINITION)
    add_refit_sampler_options(b)
    b.add_argument(
        "--refit-every",
        choices=("quarter", "year"),
        default="year",
        help="refit at this cadence (first Wednesday of the period); every origin forecasts "
        "from the latest refit that passed the gate (docs/backtest.md)",
    )
    add_variant_options(b)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m diagnostics",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    add_review_command(sub, common)
    add_loo_command(sub, common)
    add_episodes_command(sub, common)
    add_score_command(sub, common)
    add_fans_command(sub, common)
    add_select_command(sub, common)
    add_backtest_command(sub, common)
    return p.parse_args(argv)


def refit_spec(args: argparse.Namespace):
    from diagnostics.evaluation.refits import RefitSpec

    out = Path(args.out)
    return RefitSpec(
        data_dir=args.data,
        horizon=args.horizon,
        qe_definition=args.qe_definition,
        start=args.fit_start,
        sampler={
            "draws": args.draws,
            "tune": args.tune,
            "chains": args.chains,
            "target_accept": args.target_accept,
            "backend": "numpyro",
            "map_starts": args.map_starts,
            "dense_mass": args.dense_mass,
        },
        gate=asdict(
            GateThresholds(args.max_rhat, args.min_ess, args.min_ess, args.max_divergences)
        ),
        fits_dir=str(out / "fits"),
        events=args.events,
        event_coef_prior_sd=args.event_coef_sd,
        move_observable=args.move_observable,
        variant=args.variant,
        keep_idata=True,  # the forecasts at every origin read the refits' draws
        warm_start=args.warm_start,
    )


def variant_name(args: argparse.Namespace) -> str:
    name = "hazard" if args.event_coef_sd > 0 else "regime"
    name = f"{name}_{args.move_observable}"
    if args.variant != "default":
        name = f"{args.variant}_{args.move_observable}"
    return args.name or (name if args.events == "catalogue" else f"{name}_{args.events}")


def compared_series(items: list[str]) -> dict[str, str]:
    from diagnostics.evaluation.refits import BacktestError

    out = {}
    for item in items:
        name, _, folder = item.partition("=")
        if not name or not folder or not (Path(folder) / "fits").is_dir():
            raise BacktestError(
                f"--compare {item!r}: expected NAME=DIR with DIR/fits from an earlier backtest"
            )
        out[name] = str(Path(folder) / "fits")
    return out


def backtest(args: argparse.Namespace) -> int:
    """Refits at ``--refit-every`` (gated, kept), then every forecaster at every ``--every``
    origin from the latest passing refit, then the scores."""
    from diagnostics.evaluation.pipeline import Schedule, run_backtest
    from diagnostics.evaluation.refits import BacktestError
    from diagnostics.evaluation.runner import ForecastSpec

    out = Path(args.out)
    spec = refit_spec(args)
    try:
        forecasts = ForecastSpec(
            fits={variant_name(args): spec.fits_dir, **compared_series(args.compare)},
            data_dir=args.data,
            horizon=args.horizon,
            start=args.fit_start,
            qe_definition=args.qe_definition,
        )
        schedule = Schedule(args.start, args.refit_every, args.every, args.end)
        run = dict(scheduler=args.scheduler, n_workers=args.workers, serial=args.serial)
        result = run_backtest(spec, forecasts, schedule, out, **run)
    except (BacktestError, DataError) as exc:
        return user_error(exc, args.debug)
    print(
        f"backtest: {len(result.records)} origins, {len(result.refits.records)} refits "
        f"({result.refused} refused); summary: {result.report['summary']}"
    )
    if result.refits.failed:
        print(
            f"{len(result.refits.failed)} refit(s) raised; see {out / 'failed'}; "
            "rerun to retry them",
            file=sys.stderr,
        )
    return 1 if result.refits.failed else 0


def score(args: argparse.Namespace) -> int:
    """Score a backtest's stored records again (the shipped track record, or any OUT/dense)."""
    from diagnostics.evaluation.records import read_table
    from diagnostics.evaluation.report import FILES, write_report

    folder = Path(args.records)
    try:
        table = read_table(folder / FILES["forecasts"])
        onsets = json.loads((folder / FILES["onsets"]).read_text())
        meta_file = folder / FILES["meta"]
        meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
    except (OSError, ValueError, KeyError) as exc:
        return user_error(DataError(str(folder), f"not a backtest's records: {exc}"), args.debug)
    paths = write_report(table, Path(args.out) if args.out else folder, meta, onsets)
    print(f"scored {table['origin'].nunique()} origins again: {paths['tables']}")
    return 0


def fans(args: argparse.Namespace) -> int:
    """Quantile forecasts of the stress observables at every month-end origin, scored."""
    import pandas as pd

    from data.atomic import atomic_write_text
    from data.panel import build_panel, latest_data_date
    from data.sources import resolve_source
    from diagnostics.evaluation import fans as fan
    from diagnostics.evaluation.refits import origin_dates
    from diagnostics.evaluation.runner import month_end_wednesdays

    try:
        source = resolve_source(args.data)
        panel = build_panel(source)
    except DataError as exc:
        return user_error(exc, args.debug)
    last = latest_data_date(source)
    origins = month_end_wednesdays(args.start, last - pd.Timedelta(weeks=fan.MAX_WINDOW))
    refits = [pd.Timestamp(d) for d in origin_dates(args.start, "year", fan.MAX_WINDOW, last)]
    table = fan.fan_table(panel, origins, refits)
    if args.records:
        from diagnostics.evaluation.stored import forecast_problem, reusable

        names = [str(o.date()) for o in origins]
        records = reusable(Path(args.records) / "origins", names, forecast_problem)
        table = fan.with_model(table, list(records.values()), args.series)
        if args.challenger:
            table = fan.with_model(table, list(records.values()), args.challenger, fan.CHALLENGER)
    scores, pairs = fan.fan_scores(table)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "fan_forecasts.csv", table.to_csv(index=False))
    atomic_write_text(out / "fan_scores.csv", scores.to_csv(index=False))
    atomic_write_text(out / "fan_skill.csv", pairs.to_csv(index=False))
    atomic_write_text(out / "fans.md", fan.markdown(scores, pairs))
    fan.pit_figure(scores).savefig(out / "fan_pit_h13.png", dpi=100)
    print(f"fans: {len(origins)} origins, {len(refits)} refits; tables: {out / 'fans.md'}")
    return 0


def review(args: argparse.Namespace) -> int:
    from diagnostics.review import write_review
    from model.records.store import FitError, load_fit

    try:
        fit = load_fit(Path(args.fit))
    except FitError as exc:
        return user_error(exc, args.debug)
    out = Path(args.out) if args.out else REPO_ROOT / "diagnostics" / "review" / fit.fit_id
    page = write_review(fit, out, Path(args.backtests))
    gate = "PASSED" if fit.manifest["convergence"]["passed"] else "FAILED"
    print(f"review of {fit.fit_id} (gate {gate}): {page}")
    return 0


def episodes(args: argparse.Namespace) -> int:
    from data.panel import build_panel
    from data.sources import resolve_source
    from diagnostics.episodes_report import markdown

    try:
        panel = build_panel(resolve_source(args.data), end=args.end)
    except DataError as exc:
        return user_error(exc, args.debug)
    print(markdown(panel), end="")
    return 0


def loo(args: argparse.Namespace) -> int:
    from diagnostics.loo import LooError, compare_fits
    from model.records.store import FitError, load_fit

    try:
        fits = {}
        for item in args.fit:
            name, _, folder = item.partition("=")
            if not name or not folder:
                raise LooError(f"--fit {item!r}: expected NAME=DIR")
            fits[name] = load_fit(Path(folder))
        if len(fits) < 2:
            raise LooError("give at least two --fit NAME=DIR")
        table = compare_fits(fits)
    except (FitError, LooError) as exc:
        return user_error(exc, args.debug)
    print(table.to_string(float_format=lambda v: f"{v:.2f}"))
    return 0


def select(args: argparse.Namespace) -> int:
    """The pre-registered rule on stored tables: every comparison it reads, and the verdict."""
    from diagnostics.evaluation.selection import apply_rule, markdown

    def folder(value: str | None) -> Path | None:
        return None if value is None else Path(value)

    try:
        comparisons, verdict = apply_rule(
            Path(args.strict),
            folder(args.broad),
            folder(args.fans),
            args.challenger,
            args.incumbent,
        )
    except (OSError, KeyError, ValueError) as exc:
        return user_error(DataError(args.strict, f"not scored backtest tables: {exc}"), args.debug)
    print(markdown(comparisons, verdict, args.challenger, args.incumbent))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure()  # before JAX and PyMC load: the heavy imports come after the arguments
    commands = {
        "backtest": backtest,
        "review": review,
        "episodes": episodes,
        "loo": loo,
        "score": score,
        "fans": fans,
        "select": select,
    }
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
