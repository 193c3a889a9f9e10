"""The drivers, defined once: name, plain label, formula, unit, display unit.

The panel builds their columns, a model variant reads its set in the order given here
(:data:`VARIANTS`; the default's five are ``DRIVER_ORDER``), and every page, plot and
table takes its labels and units from here. ``log_move`` is modelled in logs but shown to
people in index points.
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

#: Built into every panel, read by the ``vulnerability`` variant (not by the default).
RESERVE_BUFFER = Driver(
    "reserve_buffer",
    "Reserve buffer: reserves plus ON RRP, below their recent peak",
    "reserve balances (WRESBAL, H.4.1 week average) plus the same week's mean ON RRP "
    "take-up (RRPONTSYD), as log points x 100 below their highest week of the previous "
    "three years (0 at a new high; needs a year of weeks)",
    "percent",
    "% below 3-year peak (log x 100)",
)
#: Every driver the panel builds, whichever variant reads it.
BUILT: tuple[Driver, ...] = (*REGISTRY, RESERVE_BUFFER)

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

BY_NAME: dict[str, Driver] = {d.name: d for d in (*BUILT, *OPTIONAL)}
#: The default model's drivers, in the order it reads them.
DRIVER_ORDER: tuple[str, ...] = tuple(d.name for d in REGISTRY)

#: Slow-moving vulnerabilities: leverage, the Treasury's cash, foreign demand, reserve
#: scarcity. They can build for months before any stress shows.
VULNERABILITIES: tuple[str, ...] = (
    "basis_short",
    "tga_change_13w",
    "foreign_demand_12m",
    "reserve_buffer",
)
#: Stress observables: the state itself. The default model also reads them as drivers; the
#: ``vulnerability`` variant reads them only through the regime's emissions.
STRESS_OBSERVABLES: tuple[str, ...] = ("log_move", "funding_spread")

#: Model variants by the drivers their transitions and QE hazard read (docs/model.md).
VARIANTS: dict[str, tuple[str, ...]] = {
    "default": DRIVER_ORDER,
    "vulnerability": VULNERABILITIES,
}


def variant_of(drivers) -> str:
    """The variant a driver set belongs to: ``vulnerability`` when it reads no stress
    observable (a backtest cut-off may leave a driver out for want of data)."""
    return "default" if set(drivers) & set(STRESS_OBSERVABLES) else "vulnerability"


def to_display(name: str, values):
    """Values of driver ``name`` in the unit a person reads (:meth:`Driver.to_display`)."""
    return BY_NAME[name].to_display(values) if name in BY_NAME else values


def label(name: str) -> str:
    """The plain label of a driver (its name if it is not one of the five)."""
    return BY_NAME[name].label if name in BY_NAME else name
