"""Argument types shared by the command lines: a bad value is a usage error (exit 2, one
line naming the flag), never a traceback from deep inside a fit."""

from __future__ import annotations

import argparse
import datetime


def positive_int(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def nonnegative_int(text: str) -> int:
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def acceptance_rate(text: str) -> float:
    """NUTS' target acceptance rate: a probability strictly between 0 and 1 (checked before
    any sampling starts, not after it)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must lie strictly between 0 and 1, got {value}")
    return value


def iso_date(text: str) -> str:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None
    return text


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


#: The sources ``python -m data refresh`` keeps as vintages (``data.services.FILES``, named
#: here so that command lines can list them without importing the clients).
REFRESHED_SOURCES = ("cftc", "dts", "tic", "move", "swap")


def add_vintage_option(parser: argparse.ArgumentParser) -> None:
    """``--vintage NAME=ID`` (repeatable), the same on every command that builds a panel."""
    parser.add_argument(
        "--vintage",
        action="append",
        type=vintage_choice,
        default=[],
        metavar="NAME=ID",
        help="read a refreshed source from that vintage, not its newest (python -m data "
        "refresh lists them)",
    )


def vintage_choice(text: str) -> tuple[str, str]:
    """``NAME=VINTAGE-ID``: read source NAME from that refreshed vintage (``data.vintages``)."""
    name, _, vintage = text.partition("=")
    if name not in REFRESHED_SOURCES or not vintage:
        raise argparse.ArgumentTypeError(
            f"expected NAME=VINTAGE-ID with NAME one of {', '.join(REFRESHED_SOURCES)}; "
            f"got {text!r}"
        )
    return name, vintage
