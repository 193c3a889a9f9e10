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
from data.defaults import HORIZON_WEEKS, REPO_ROOT
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
        "--draws", type=positive_int, default=4000, help="posterior draws used (max: all)"
    )
    p.add_argument("--seed", type=nonnegative_int, default=0)
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


class OutputError(ValueError):
    """The output directory cannot take this report."""


#: What a report folder holds: the only files ``--out`` writes or replaces.
REPORT_FILES = ("report.html", "forecast.json")


def in_fit_store(out: Path, fit: Path) -> Path | None:
    """The fit or fit store ``out`` would write into: the fit itself (``latest`` resolves to
    one), any fit folder above it, or a store (a folder with a ``latest`` link); else None."""
    target = out.resolve()
    if target == fit.resolve():
        return fit
    for folder in (target, *target.parents):
        if (folder / "manifest.json").is_file() or (folder / "latest").is_symlink():
            return folder
    return None


def check_out(out: Path, force: bool, fit: Path) -> None:
    """Refuse an output that is a file, one in a fit or the fit store, one that holds
    anything but a report (the report replaces its folder as a whole, so other files would
    be lost), or one that holds a report, unless ``force``."""
    if out.exists() and not out.is_dir():
        raise OutputError("is a file, not a directory")
    inside = in_fit_store(out, fit)
    if inside is not None:
        raise OutputError(f"is in the fit store ({inside}); reports go elsewhere")
    others = (
        sorted(p.name for p in out.iterdir() if p.name not in REPORT_FILES)
        if (out.is_dir())
        else []
    )
    if others:
        listed = ", ".join(others[:4]) + (", ..." if len(others) > 4 else "")
        raise OutputError(
            f"holds other files ({listed}); a report goes into a new or empty folder, or "
            "over an earlier report, never beside other files"
        )
    existing = [n for n in REPORT_FILES if (out / n).exists()]
    if existing and not force:
        raise OutputError(
            f"already holds {', '.join(existing)}; choose another --out or pass --force"
        )


def load_usable_fit(path: Path, allow_unconverged: bool):
    """The fit at ``path``; one that failed the gate only when a review copy is asked for."""
    from model.records.store import FitError, load_fit

    fit = load_fit(path)
    if not fit.manifest["convergence"]["passed"] and not allow_unconverged:
        raise FitError(
            f"{path}: fit {fit.fit_id} failed the convergence gate ("
            + "; ".join(fit.manifest["convergence"]["failures"])
            + "); refit, or pass --allow-unconverged for a marked review copy"
        )
    return fit


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure()  # before JAX and PyMC load: the heavy imports come after the arguments
    from data.atomic import atomic_write_files
    from diagnostics.track_record import record_context
    from model.records.store import FitError
    from outlook.forecast import make_forecast
    from outlook.revision import compare_with_previous
    from outlook.scenarios import ScenarioError, load_scenarios

    started = time.perf_counter()
    try:
        if args.horizon < 1:
            raise ScenarioError(f"--horizon must be at least 1 week, got {args.horizon}")
        fit = load_usable_fit(Path(args.fit), args.allow_unconverged)
        drivers = fit.config.drivers
        scenarios = (
            []
            if args.scenarios == "none"
            else load_scenarios(Path(args.scenarios), drivers, args.horizon)
        )
        forecast = make_forecast(fit, args.horizon, args.draws, args.seed, scenarios)
        out = Path(args.out) if args.out else REPO_ROOT / "reports" / fit.fit_id
        # the previous report: beside this one, or where reports go by default
        roots = list(dict.fromkeys([out.parent.resolve(), REPO_ROOT / "reports"]))
        forecast.update(compare_with_previous(fit, roots, args.horizon, args.draws, args.seed))
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
