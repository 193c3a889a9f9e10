"""CLI: ``python -m data {summary,plot,refresh}`` (see README)."""

from __future__ import annotations

import argparse
import sys

from data.defaults import DEFAULT_START
from data.errors import DataError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (
        ("summary", "print coverage and last values per driver"),
        ("plot", "draw the five drivers with events shaded"),
    ):
        p = sub.add_parser(name, help=helptext)
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
        p.add_argument("--start", default=DEFAULT_START, help="first week (YYYY-MM-DD)")
        p.add_argument("--end", help="data cut-off as known on that date (YYYY-MM-DD)")
        if name == "plot":
            p.add_argument("--out", default="reports/drivers.png", help="PNG path")
    r = sub.add_parser("refresh", help="download every FRED series into the cache")
    r.add_argument("--data", help="snapshot directory for the non-FRED files")
    args = parser.parse_args(argv)
    from data.panel import build_panel
    from data.sources import FredSource, resolve_source

    try:
        if args.command == "refresh":
            from data.registry import SERIES

            source = FredSource(refresh=True)
            for spec in SERIES.values():
                if spec.fred_id:
                    print(f"{spec.id}: {len(source.series(spec.id))} observations")
            return 0
        source = resolve_source(args.data, use_fred=args.fred)
        panel = build_panel(source, start=args.start, end=args.end)
        if args.command == "summary":
            from data.summary import format_summary

            print(format_summary(panel))
        else:
            from data.plot import plot_drivers

            print(f"wrote {plot_drivers(panel, args.out)}")
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
