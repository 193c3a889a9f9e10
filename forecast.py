"""Posterior scenarios for the coming quarter from a stored fit (default ``fits/latest``).

Writes ``forecast.json`` and ``report.html`` (self-contained) under ``--out`` (default
``reports/<fit-id>/``, one directory per fit, so a review copy of a refused fit or a fit of
the other QE definition never replaces a page the committee read) and prints the headline
table. An existing report is never overwritten without ``--force``. Exit status 2 on a
missing, corrupt or unconverged fit (unless --allow-unconverged), a bad scenario file or an
output directory that cannot take the report.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from data.arguments import nonnegative_int, positive_int
from data.defaults import DEFAULT_SEED, FORECAST_DRAWS, HORIZON_WEEKS, REPO_ROOT
from data.errors import DEBUG_HELP, user_error
from model.inference.runtime import configure

DEFAULT_SCENARIOS = REPO_ROOT / "scenarios" / "seed.toml"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--fit",
        default=str(REPO_ROOT / "fits" / "latest"),
        help="fit directory (default fits/latest)",
    )
    p.add_argument(
        "--horizon",
        type=positive_int,
        default=HORIZON_WEEKS,
        help="weeks ahead (default %(default)s)",
    )
    p.add_argument(
        "--scenarios",
        default=str(DEFAULT_SCENARIOS),
        help="TOML scenario file (default scenarios/seed.toml); 'none' for none",
    )
    p.add_argument(
        "--draws",
        type=positive_int,
        default=FORECAST_DRAWS,
        help="posterior draws used (default %(default)s; at most all)",
    )
    p.add_argument("--seed", type=nonnegative_int, default=DEFAULT_SEED, help="default %(default)s")
    p.add_argument("--out", help="output directory (default reports/<fit-id>/)")
    p.add_argument("--force", action="store_true", help="replace a report already in --out")
    p.add_argument(
        "--backtests",
        default=str(REPO_ROOT / "backtest"),
        help="where dense backtests are kept (default backtest/); the page shows the "
        "newest one of this model version as its track record",
    )
    p.add_argument(
        "--allow-unconverged",
        action="store_true",
        help="forecast from a fit that failed the gate (page marked NOT for use)",
    )
    p.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    return p.parse_args(argv)


def headline_lines(forecast: dict) -> list[str]:
    h = forecast["horizon_weeks"]
    warning = (
        []
        if forecast["fit_convergence_passed"]
        else ["REVIEW COPY: this fit FAILED the convergence gate; not for decisions"]
    )
    lines = [
        *warning,
        f"liqshock outlook: data to {forecast['data_cutoff']}, fit {forecast['fit_id']}",
        f"{'scenario':<18}{f'P(event in {h}w)':>28}{f'P(QE restart in {h}w)':>28}",
    ]
    results = {"baseline": forecast["baseline"], **forecast["scenarios"]}
    for name, res in results.items():
        cells = []
        for key in ("p_liquidity_event", "p_qe_restart"):
            d = res[key]
            cells.append(f"{d['mean']:6.1%} ({d['q05']:5.1%}-{d['q95']:5.1%})")
        lines.append(f"{name:<18}{cells[0]:>28}{cells[1]:>28}")
    lines.append(
        f"posterior mean (90% interval: 5th-95th percentile over {forecast['draws']} "
        f"posterior draws); QE restart: {forecast['qe_definition']} definition"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure()  # before JAX and PyMC load: the heavy imports come after the arguments
    from data.atomic import atomic_write_files
    from diagnostics.track_record import record_context
    from model.records.store import FitError
    from outlook.fitted import FittedModel
    from outlook.report_folder import OutputError, check_out
    from outlook.revision import compare_with_previous
    from outlook.scenarios import ScenarioError, load_scenarios

    started = time.perf_counter()
    try:
        if args.horizon < 1:
            raise ScenarioError(f"--horizon must be at least 1 week, got {args.horizon}")
        fitted = FittedModel.load(Path(args.fit), args.allow_unconverged)
        fit = fitted.fit
        scenarios = (
            []
            if args.scenarios == "none"
            else load_scenarios(Path(args.scenarios), fit.config.drivers, args.horizon)
        )
        forecast = fitted.forecast(args.horizon, args.draws, args.seed, scenarios)
        out = Path(args.out) if args.out else REPO_ROOT / "reports" / fit.fit_id
        # the previous report: beside this one, or where reports go by default
        roots = list(dict.fromkeys([out.parent.resolve(), REPO_ROOT / "reports"]))
        forecast.update(compare_with_previous(fitted, roots, args.horizon, args.draws, args.seed))
        forecast.update(record_context(fit, args.horizon, Path(args.backtests)))
        review = REPO_ROOT / "diagnostics" / "review" / fit.fit_id / "review.html"
        forecast["review_href"] = os.path.relpath(review, out.resolve())
    except (FitError, ScenarioError) as exc:
        return user_error(exc, args.debug)
    forecast["wall_time_s"] = round(time.perf_counter() - started, 2)
    from outlook.report import render

    page = render(forecast, fit)  # before anything is written: a failure leaves no half report
    try:
        check_out(out, args.force, fit.path)
        # the page and its numbers land together: never a new JSON beside an old page
        atomic_write_files(
            out, {"forecast.json": json.dumps(forecast, indent=2), "report.html": page}
        )
    except (OSError, OutputError) as exc:
        return user_error(exc, args.debug, f"--out {out}: ")
    print("\n".join(headline_lines(forecast)))
    print(f"report: {out / 'report.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
