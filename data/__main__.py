"""CLI: ``python -m data {summary,plot,refresh}`` (see README)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from data.arguments import REFRESHED_SOURCES, add_vintage_option, iso_date
from data.defaults import DEFAULT_START
from data.errors import DEBUG_HELP, DataError, user_error

if TYPE_CHECKING:
    from data.candidate import Accepted


def add_reading_commands(sub) -> None:
    """``summary`` and ``plot``: the panel as known at a cut-off, from a chosen source."""
    for name, helptext in (
        ("summary", "print coverage and last values per driver"),
        ("plot", "draw the drivers with events shaded"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--debug", action="store_true", help=DEBUG_HELP)
        p.add_argument(
            "--data",
            help="snapshot directory (default: ../shared/data/raw, "
            "else $LIQSHOCK_DATA, else the FRED cache)",
        )
        p.add_argument(
            "--fred",
            action="store_true",
            help="read FRED series through fredapi (cache, FRED_API_KEY)",
        )
        add_vintage_option(p)
        p.add_argument(
            "--start", type=iso_date, default=DEFAULT_START, help="first week (YYYY-MM-DD)"
        )
        p.add_argument(
            "--end", type=iso_date, help="data cut-off as known on that date (YYYY-MM-DD)"
        )
        if name == "plot":
            p.add_argument("--out", default="reports/drivers.png", help="PNG path")


def add_refresh_command(sub) -> None:
    """``refresh``: every source downloaded into the cache as a new, checked vintage."""
    r = sub.add_parser(
        "refresh",
        help="download every source (FRED, CFTC, Treasury DTS, TIC; MOVE from a file) into "
        "the cache as a new vintage",
    )
    r.add_argument("--data", help="snapshot directory (the base a first refresh is compared with)")
    r.add_argument(
        "--source",
        action="append",
        choices=("fred", *REFRESHED_SOURCES),
        help="refresh only this source (repeatable; default: all; move needs --move-file, "
        "swap --swap-file)",
    )
    r.add_argument(
        "--move-file",
        help="daily MOVE closes you are licensed to use: CSV with columns date,value",
    )
    r.add_argument(
        "--swap-file",
        help="daily 10-year swap rates you are licensed to use (the seed's SOFR swap): CSV "
        "with columns date,value (percent); adds the 10-year swap spread to the panel",
    )
    r.add_argument(
        "--service-url",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="another address for a service (cftc, dts, tic), e.g. a mirror",
    )
    r.add_argument(
        "--accept-shrink",
        action="store_true",
        help="keep a download that covers less than the copy it replaces (later first date, "
        "earlier last date, fewer values); refused by default, recorded when accepted",
    )
    r.add_argument(
        "--accept-rescale",
        action="store_true",
        help="keep a download whose values changed by a power of ten against the copy it "
        "replaces (a unit change); refused by default, recorded when accepted",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    add_reading_commands(sub)
    add_refresh_command(sub)
    args = parser.parse_args(argv)
    if args.command == "refresh":
        return refresh(args)
    from data.panel import build_panel
    from data.sources import resolve_source

    try:
        source = resolve_source(args.data, use_fred=args.fred, named=dict(args.vintage))
        panel = build_panel(source, start=args.start, end=args.end)
        if args.command == "summary":
            from data.summary import format_summary

            print(format_summary(panel))
        else:
            from data.plot import plot_drivers

            print(f"wrote {plot_drivers(panel, args.out)}")
    except DataError as exc:
        return user_error(exc, args.debug)
    return 0


def service_urls(args: argparse.Namespace) -> dict[str, str]:
    """``--service-url NAME=URL`` as a mapping; ``ValueError`` naming a bad one."""
    urls = {}
    for item in args.service_url:
        name, _, url = item.partition("=")
        if name not in ("cftc", "dts", "tic") or not url:
            raise ValueError(f"--service-url {item!r}: expected cftc|dts|tic=URL")
        urls[name] = url
    return urls


def chosen_sources(args: argparse.Namespace) -> list[str]:
    """The sources to refresh: ``--source``, or every one with a service plus the files
    given; ``ValueError`` when a file-only source has no file."""
    chosen = args.source or [
        "fred",
        "cftc",
        "dts",
        "tic",
        *(["move"] if args.move_file else []),
        *(["swap"] if args.swap_file else []),
    ]
    if "move" in chosen and not args.move_file:
        raise ValueError("--source move needs --move-file (no free MOVE service)")
    if "swap" in chosen and not args.swap_file:
        raise ValueError("--source swap needs --swap-file (no free swap-rate service)")
    return chosen


def refresh_fred(accepted: Accepted) -> bool:
    """Download every FRED series of the registry into the FRED cache; False (reason
    printed, key redacted) if one failed."""
    from data.registry import SERIES
    from data.sources import FredSource, redact

    fred = FredSource(refresh=True, accepted=accepted)
    try:
        for spec in SERIES.values():
            if spec.fred_id:
                fred.series(spec.id)
        print("fred: every series downloaded into the FRED cache")
        return True
    except DataError as exc:
        print(f"fred: FAILED: {redact(str(exc), fred.api_key)}")
        return False


def refresh(args: argparse.Namespace) -> int:
    """Every chosen source in turn; exit 0 if all refreshed, 1 if any failed (its reason
    printed; the others are refreshed and nothing kept before is lost), 2 on bad flags."""
    from pathlib import Path

    from data.candidate import Accepted
    from data.refresh import fetchers, refresh_one
    from data.sources import DEFAULT_SNAPSHOT
    from data.vintages import VintageStore

    try:
        urls, chosen = service_urls(args), chosen_sources(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    snapshot = Path(args.data) if args.data else DEFAULT_SNAPSHOT
    snapshot = snapshot if snapshot.is_dir() else None
    store = VintageStore()
    bad_file = 0
    accepted = Accepted(shrink=args.accept_shrink, rescale=args.accept_rescale)
    failed = 0
    if "fred" in chosen:
        failed += not refresh_fred(accepted)
    services = fetchers(
        snapshot,
        Path(args.move_file) if args.move_file else None,
        urls,
        Path(args.swap_file) if args.swap_file else None,
    )
    for name in chosen:
        if name == "fred":
            continue
        fetch, address = services[name]
        outcome = refresh_one(name, fetch, store, snapshot, address, accepted)
        failed += not outcome.ok
        # a file the user gave (--move-file, --swap-file) that cannot be used is bad input
        bad_file += not outcome.ok and not outcome.refused and name in ("move", "swap")
        print(f"{name}: {'' if outcome.ok else 'FAILED: '}{outcome.message}")
    print(f"precedence: refreshed vintages in {store.root}, then the snapshot, per source")
    return 2 if bad_file else 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
