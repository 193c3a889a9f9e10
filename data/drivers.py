"""The five drivers, defined once: name, plain label, formula, unit, display unit.

The panel builds its columns in this order, the model reads them in this order
(``model.config.DRIVER_ORDER``), and every page, plot and table takes its labels and units
from here. ``log_move`` is modelled in logs but shown to people in index points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Driver:
    name: str  # the panel column and the model's coordinate
    label: str  # plain words for committee pages and plot titles
    formula: str  # how the panel computes it
    unit: str  # the unit of the panel column
    display_unit: str  # the unit a person reads it in (log MOVE is shown as MOVE)
    #: modelled as the log of what people read (MOVE): shown with exp, never scaled in %
    in_logs: bool = False

    def to_display(self, values):
        """Panel unit -> the unit a person reads (exp of a log driver, else unchanged)."""
        return np.exp(values) if self.in_logs else values


REGISTRY: tuple[Driver, ...] = (
    Driver(
        "basis_short",
        "Basis-trade size: leveraged-fund net short in Treasury futures",
        "leveraged-fund net short (short - long) over 2Y, 5Y, 10Y, Ultra 10Y, Bond and "
        "Ultra Bond futures, in 10-year-note equivalents by relative DV01 (data.cftc)",
        "million 10Y-equivalent contracts",
        "million 10Y-eq. contracts",
    ),
    Driver(
        "log_move",
        "Rate volatility: MOVE index",
        "log of the weekly mean MOVE close",
        "log index points",
        "index points",
        in_logs=True,
    ),
    Driver(
        "funding_spread",
        "Funding spread: overnight rate minus the Fed's administered rate",
        "weekly mean of the daily overnight rate minus the administered rate: SOFR-IORB "
        "(2021-07-29+), SOFR-top of range (2018-04..2021-07), EFFR-IOER (2008-10..2017-01), "
        "EFFR-top of range / target otherwise (see funding_basis)",
        "bp",
        "bp",
    ),
    Driver(
        "tga_change_13w",
        "Treasury General Account: 13-week change",
        "TGA weekly average minus its value 13 weeks earlier (WTREGEN; "
        "Daily Treasury Statement after WTREGEN ends)",
        "$bn",
        "$bn",
    ),
    Driver(
        "foreign_demand_12m",
        "Foreign demand: 12-month change in foreign holdings of Treasuries",
        "12-month log change of total foreign holdings of Treasuries "
        "(TIC Major Foreign Holders) x 100",
        "percent",
        "% (log x 100)",
    ),
)

#: Drivers a fit may add (``fit.py --with-driver``); off by default, their coverage is short.
OPTIONAL: tuple[Driver, ...] = (
    Driver(
        "swap_spread_10y",
        "10-year swap spread: swap rate minus the 10-year Treasury yield",
        "weekly mean of the daily 10-year swap rate (a user-supplied file, python -m data "
        "refresh --swap-file) minus the 10-year Treasury yield (DGS10), days with both",
        "bp",
        "bp",
    ),
)

BY_NAME: dict[str, Driver] = {d.name: d for d in (*REGISTRY, *OPTIONAL)}
DRIVER_ORDER: tuple[str, ...] = tuple(d.name for d in REGISTRY)


def to_display(name: str, values):
    """Values of driver ``name`` in the unit a person reads (:meth:`Driver.to_display`)."""
    return BY_NAME[name].to_display(values) if name in BY_NAME else values


def label(name: str) -> str:
    """The plain label of a driver (its name if it is not one of the five)."""
    return BY_NAME[name].label if name in BY_NAME else name
