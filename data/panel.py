"""Weekly (Wednesday) panel of the five drivers and the stress observables, as known then.

Interface for the model stage (the contract this module keeps):

- ``build_panel(source, start, end) -> Panel``; ``Panel.frame`` is indexed by Wednesday
  (``week``), one float column per entry of :data:`DRIVERS` and :data:`OBSERVABLES`; NaN means
  "not known on that Wednesday" and is never filled here. ``Panel.mask`` is the observed mask.
- Every value in row ``W`` was public on or before ``W`` (publication lags from
  :mod:`data.registry`); daily series enter as the mean (or max) of the values that became
  public in the week ending ``W``; weekly and monthly series as the latest value public at
  ``W``, unless older than the series' ``max_age_days``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from data import cftc
from data.defaults import DEFAULT_START
from data.drivers import BUILT, OPTIONAL
from data.errors import DataError
from data.registry import FILES, SERIES
from data.sources import DataSource

#: Model drivers: column -> (formula, units), from the one registry (:mod:`data.drivers`).
DRIVERS: dict[str, tuple[str, str]] = {d.name: (d.formula, d.unit) for d in BUILT}
#: Drivers a fit may add; an empty column when their input was not supplied.
OPTIONAL_DRIVERS: dict[str, tuple[str, str]] = {d.name: (d.formula, d.unit) for d in OPTIONAL}

#: Stress observables and state variables the regime model reads.
OBSERVABLES: dict[str, tuple[str, str]] = {
    "funding_spread_max": ("weekly maximum of the daily funding spread", "bp"),
    "move": ("weekly mean MOVE close", "index points"),
    "move_max": ("weekly maximum MOVE close", "index points"),
    "vix": ("weekly mean VIX close", "index points"),
    "stlfsi": ("St. Louis Fed Financial Stress Index v4, latest release", "index"),
    "nfci": ("Chicago Fed NFCI, latest release", "index"),
    "walcl": ("Fed total assets, latest H.4.1", "$bn"),
    "tga_level": ("TGA weekly average", "$bn"),
    "reserve_buffer_level": ("reserves plus ON RRP take-up, H.4.1 week average", "$bn"),
    "foreign_official_12m": ("12-month log change of foreign official holdings x 100", "percent"),
}

FUNDING_OVERNIGHT = ("SOFR", "EFFR", "DFF")  # first available wins, in this order
FUNDING_ADMINISTERED = ("IORB", "IOER", "DFEDTARU")
RANGE_START = pd.Timestamp("2008-12-16")  # DFEDTARU: single target before this


@dataclass
class Panel:
    """The weekly panel and what it was built from."""

    frame: pd.DataFrame
    funding_basis: pd.Series
    inputs: pd.DataFrame  # per raw input: first/last observation and last known date
    cutoff: pd.Timestamp
    source: str
    notes: list[str] = field(default_factory=list)
    #: where each non-FRED source was read from: a refreshed vintage id, or "snapshot"
    origin: dict[str, str] = field(default_factory=dict)

    @property
    def mask(self) -> pd.DataFrame:
        """True where a value is observed (known on that Wednesday)."""
        return self.frame.notna()

    @property
    def drivers(self) -> pd.DataFrame:
        return self.frame[list(DRIVERS)]

    def coverage(self) -> pd.DataFrame:
        """Per column: first and last observed week, share of weeks observed, last value."""
        rows = {}
        for column in self.frame.columns:
            observed = self.frame[column].dropna()
            rows[column] = {
                "first": observed.index.min() if len(observed) else pd.NaT,
                "last": observed.index.max() if len(observed) else pd.NaT,
                "coverage": len(observed) / len(self.frame),
                "last_value": observed.iloc[-1] if len(observed) else np.nan,
                "units": {**DRIVERS, **OBSERVABLES, **OPTIONAL_DRIVERS}[column][1],
                "kind": "driver"
                if column in DRIVERS
                else "optional driver"
                if column in OPTIONAL_DRIVERS
                else "observable",
            }
        return pd.DataFrame.from_dict(rows, orient="index")

    def digest(self) -> str:
        """SHA-256 of the panel values and index: the data identity a fit records. An
        optional input that was not supplied (an empty column) does not change it."""
        frame = self.frame.drop(columns=[c for c in OPTIONAL_DRIVERS if self.frame[c].isna().all()])
        h = hashlib.sha256()
        h.update(frame.index.asi8.tobytes())
        h.update(",".join(frame.columns).encode())
        h.update(np.ascontiguousarray(frame.to_numpy(dtype=float)).tobytes())
        return h.hexdigest()


def wednesdays(start: str | pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(start), end, freq="W-WED", name="week")


def week_ending(dates: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The Wednesday on or after each date: the panel week in which it becomes known."""
    dates = pd.DatetimeIndex(dates).normalize()
    return dates + pd.to_timedelta((2 - dates.day_of_week) % 7, unit="D")


def latest_known(
    values: pd.Series, known: pd.DatetimeIndex, weeks: pd.DatetimeIndex, max_age_days: int
) -> pd.Series:
    """Latest value public at each week; NaN when it is older than ``max_age_days``."""
    table = pd.DataFrame(
        {"known": known, "obs_date": values.index, "value": values.to_numpy()}
    ).sort_values("known")
    merged = pd.merge_asof(
        pd.DataFrame({"week": weeks}), table, left_on="week", right_on="known", direction="backward"
    )
    stale = (merged["week"] - merged["obs_date"]).dt.days > max_age_days
    return pd.Series(merged["value"].where(~stale).to_numpy(), index=weeks)


def weekly_aggregate(
    values: pd.Series, known: pd.DatetimeIndex, weeks: pd.DatetimeIndex, how: str
) -> pd.Series:
    """Aggregate the daily values that became public in each panel week."""
    grouped = pd.Series(values.to_numpy(), index=week_ending(known)).groupby(level=0)
    return getattr(grouped, how)().reindex(weeks)


def source_origin(source: DataSource) -> dict[str, str]:
    """Per non-FRED source, the vintage the panel read (see ``SnapshotSource.origin``)."""
    snapshot = getattr(source, "snapshot", source)  # FRED reads them through its snapshot
    return snapshot.origin() if hasattr(snapshot, "origin") else {}


def daily_funding_spread(source: DataSource) -> tuple[pd.Series, pd.Series]:
    """Daily overnight-minus-administered spread (bp) and a label naming its two pieces."""
    # Business days only: DFF is a 7-day series whose weekend values repeat Friday's.
    overnight = _first_available({k: _business_days(source.series(k)) for k in FUNDING_OVERNIGHT})
    administered = _first_available({k: source.series(k) for k in FUNDING_ADMINISTERED})
    joined = overnight.join(administered.add_suffix("_adm"), how="inner").rename(
        columns={"value": "value_on", "name": "name_on"}
    )
    spread = (joined["value_on"] - joined["value_adm"]) * 100.0
    admin_name = joined["name_adm"].where(
        joined["name_adm"] != "DFEDTARU", np.where(joined.index < RANGE_START, "TARGET", "TOP")
    )
    label = joined["name_on"] + "-" + admin_name
    return spread.rename("funding_spread_daily"), label.rename("funding_basis")


def _business_days(series: pd.Series) -> pd.Series:
    return series[pd.DatetimeIndex(series.index).day_of_week < 5]


def _first_available(series: dict[str, pd.Series]) -> pd.DataFrame:
    """Per date, the value of the first series (in priority order) that has one."""
    stacked = pd.concat(series, axis=1, sort=True)
    order = list(series)
    has = stacked.notna().to_numpy()
    first = np.argmax(has, axis=1)
    any_value = has.any(axis=1)
    values = stacked.to_numpy()[np.arange(len(stacked)), first]
    out = pd.DataFrame({"value": values, "name": np.array(order)[first]}, index=stacked.index)
    return out[any_value]


def tga_weekly_level(source: DataSource) -> tuple[pd.Series, pd.DatetimeIndex, str]:
    """TGA week average in $bn: WTREGEN, continued by the DTS after WTREGEN's last week.

    The DTS daily closing balance holds over weekends and holidays (the account does not
    move when the Treasury does not settle), so the Thursday..Wednesday week average uses the
    last business-day close for non-business days, as WTREGEN does. Weeks with fewer than
    three DTS business days are not formed.
    """
    weekly = source.series("WTREGEN") / 1000.0
    note = "WTREGEN only"
    daily = source.tga_dts()  # a bad file stops the build; None only when there is none
    if daily is not None and len(daily):
        daily = daily / 1000.0
        dts_weekly = dts_week_average(daily)
        after = dts_weekly[dts_weekly.index > weekly.index.max()]
        if len(after):
            note = (
                f"WTREGEN to {weekly.index.max().date()}, Daily Treasury Statement "
                f"week averages from {after.index.min().date()}"
            )
            weekly = pd.concat([weekly, after])
    known = SERIES["WTREGEN"].known_at(pd.DatetimeIndex(weekly.index))
    return weekly.rename("tga_level"), known, note


def dts_week_average(daily_close: pd.Series) -> pd.Series:
    """Thursday..Wednesday average of DTS closing balances, dated the Wednesday."""
    calendar = pd.date_range(daily_close.index.min(), daily_close.index.max(), freq="D")
    held = daily_close.reindex(calendar).ffill(limit=4)  # weekends and holidays only
    business_days = daily_close.groupby(week_ending(daily_close.index)).size()
    means = held.groupby(week_ending(calendar)).mean()
    full = business_days[business_days >= 3].index
    means = means[means.index.isin(full) & (means.index <= daily_close.index.max())]
    means.index.name = "date"
    return means


#: The ON RRP facility's first (test) operation: before it, a day without a recorded
#: operation had no take-up, so it counts as zero; from it on, a missing day is a gap.
#: (Federal Reserve Bank of New York, "Statement Regarding Overnight RRP Operational
#: Exercise", 2013-09-20, first operation 2013-09-23.)
ON_RRP_FACILITY_START = pd.Timestamp("2013-09-23")
#: The reserve buffer's reference: its highest week of the previous three years, known once
#: a year of weeks is observed.
RESERVE_PEAK_WEEKS = 156
RESERVE_PEAK_MIN_WEEKS = 52


def reserve_buffer_level(source: DataSource) -> tuple[pd.Series, pd.DatetimeIndex]:
    """Reserves plus ON RRP take-up ($bn) per H.4.1 week, dated its Wednesday, and when
    each week's value was public.

    WRESBAL is the Thursday..Wednesday average of reserve balances; the ON RRP take-up of
    the same days is averaged to match (a week with no ON RRP day published after the
    facility opened is not formed). The week is public once both are: the Thursday H.4.1.
    """
    reserves = source.series("WRESBAL")
    rrp = source.series("RRPONTSYD")
    days = pd.date_range(reserves.index.min() - pd.Timedelta(days=6), reserves.index.max())
    days = days[days.day_of_week < 5]
    daily = rrp.reindex(days)
    daily[(days < ON_RRP_FACILITY_START) & daily.isna()] = 0.0
    weekly_rrp = daily.groupby(week_ending(days)).mean()  # NaN days skipped, all-NaN NaN
    level = (reserves + weekly_rrp.reindex(reserves.index)).dropna()
    known = SERIES["WRESBAL"].known_at(pd.DatetimeIndex(level.index))
    return level.rename("reserve_buffer_level"), known


def below_recent_peak(level: pd.Series) -> pd.Series:
    """How far a weekly level is below its highest week of the previous three years, in log
    points x 100 (0 at a new high, -50 about 40% below it); NaN until a year is observed."""
    peak = level.rolling(RESERVE_PEAK_WEEKS, min_periods=RESERVE_PEAK_MIN_WEEKS).max()
    return 100.0 * np.log(level / peak)


def log_change_12m(monthly: pd.Series) -> pd.Series:
    """12-month log change x 100 on a monthly series dated the 1st (needs both months)."""
    idx = pd.DatetimeIndex(monthly.index)
    previous = monthly.reindex(idx - pd.DateOffset(months=12)).to_numpy()
    return pd.Series(100.0 * np.log(monthly.to_numpy() / previous), index=idx).dropna()


def latest_data_date(source: DataSource) -> pd.Timestamp:
    """The last Wednesday on which the daily market series had news."""
    known = [
        SERIES[s].known_at(pd.DatetimeIndex(source.series(s).index)).max()
        for s in ("MOVE", "VIXCLS")
    ]
    last = max(known)
    return last - pd.Timedelta(days=(last.day_of_week - 2) % 7)


def resolve_cutoff(
    source: DataSource, end: str | pd.Timestamp | None, today: pd.Timestamp | None = None
) -> pd.Timestamp:
    """The panel's last Wednesday: ``end`` rounded back to a Wednesday, never in the future."""
    today = (today or pd.Timestamp.today()).normalize()
    if end is None:
        cutoff = min(latest_data_date(source), today)
    else:
        try:
            cutoff = pd.Timestamp(end)
        except (ValueError, TypeError) as exc:
            raise DataError("--end", f"cannot parse {end!r}", expected="YYYY-MM-DD") from exc
        if cutoff > today:
            raise DataError(
                "--end",
                f"cut-off {cutoff.date()} is in the future",
                where=f"today is {today.date()}",
                expected="a date on or before today",
            )
    return (cutoff - pd.Timedelta(days=(cutoff.day_of_week - 2) % 7)).normalize()


@dataclass
class PanelBuild:
    """What the column builders share: the source, the weeks, the cut-off, and what they
    add (columns, the inputs' first and last observations, notes)."""

    source: DataSource
    weeks: pd.DatetimeIndex
    cutoff: pd.Timestamp
    columns: dict[str, pd.Series] = field(default_factory=dict)
    inputs: dict[str, dict] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def record(self, name: str, obs: pd.Series, known: pd.DatetimeIndex) -> None:
        visible = obs[np.asarray(known <= self.cutoff)]
        self.inputs[name] = {
            "first_obs": obs.index.min(),
            "last_obs": visible.index.max() if len(visible) else pd.NaT,
            "last_known": known[known <= self.cutoff].max() if len(visible) else pd.NaT,
        }


def add_basis(b: PanelBuild) -> None:
    """The basis trade: leveraged funds' net Treasury-futures short (CFTC TFF)."""
    positions = b.source.cftc_positions()
    basis = cftc.net_short_10y_equivalent(positions)
    known = FILES["CFTC_TFF"].known_at(pd.DatetimeIndex(basis.index))
    b.record("CFTC_TFF", basis, known)
    b.columns["basis_short"] = latest_known(basis, known, b.weeks, FILES["CFTC_TFF"].max_age_days)


def add_move(b: PanelBuild) -> None:
    """MOVE: the weekly mean and maximum close, and log MOVE."""
    move = b.source.series("MOVE")
    known = SERIES["MOVE"].known_at(pd.DatetimeIndex(move.index))
    b.record("MOVE", move, known)
    b.columns["move"] = weekly_aggregate(move, known, b.weeks, "mean")
    b.columns["move_max"] = weekly_aggregate(move, known, b.weeks, "max")
    b.columns["log_move"] = np.log(b.columns["move"])


def add_funding(b: PanelBuild) -> pd.Series:
    """The funding spread (weekly mean and maximum) and the pair of rates it measures."""
    spread, label = daily_funding_spread(b.source)
    known = pd.DatetimeIndex(spread.index) + pd.offsets.BDay(1)
    for name in FUNDING_OVERNIGHT + FUNDING_ADMINISTERED:
        s = b.source.series(name)
        b.record(name, s, SERIES[name].known_at(pd.DatetimeIndex(s.index)))
    b.columns["funding_spread"] = weekly_aggregate(spread, known, b.weeks, "mean")
    b.columns["funding_spread_max"] = weekly_aggregate(spread, known, b.weeks, "max")
    return weekly_aggregate(label, known, b.weeks, "last")


def add_tga(b: PanelBuild) -> None:
    """The TGA: its weekly level and 13-week change."""
    tga, known, tga_note = tga_weekly_level(b.source)
    b.notes.append(f"TGA: {tga_note}")
    b.record("TGA", tga, known)
    level = latest_known(tga, known, b.weeks, SERIES["WTREGEN"].max_age_days)
    b.columns["tga_level"] = level
    b.columns["tga_change_13w"] = level - level.shift(13)


def add_foreign(b: PanelBuild) -> None:
    """Foreign demand: the 12-month log changes of total and official holdings (TIC)."""
    tic = b.source.tic()
    tic_known = FILES["TIC_MFH"].known_at(pd.DatetimeIndex(tic.index))
    b.record("TIC_MFH", tic["foreign_total_bn"], tic_known)
    for column, out in (
        ("foreign_total_bn", "foreign_demand_12m"),
        ("foreign_official_bn", "foreign_official_12m"),
    ):
        change = log_change_12m(tic[column])
        known = FILES["TIC_MFH"].known_at(pd.DatetimeIndex(change.index))
        b.columns[out] = latest_known(change, known, b.weeks, FILES["TIC_MFH"].max_age_days)


def add_reserve(b: PanelBuild) -> None:
    """The reserve buffer: reserves plus ON RRP, its level and how far below its peak."""
    level, known = reserve_buffer_level(b.source)
    for name in ("WRESBAL", "RRPONTSYD"):
        s = b.source.series(name)
        b.record(name, s, SERIES[name].known_at(pd.DatetimeIndex(s.index)))
    max_age = SERIES["WRESBAL"].max_age_days
    b.columns["reserve_buffer_level"] = latest_known(level, known, b.weeks, max_age)
    b.columns["reserve_buffer"] = latest_known(below_recent_peak(level), known, b.weeks, max_age)


def add_other(b: PanelBuild) -> None:
    """Other observables: VIX, the two stress indices and the Fed's balance sheet."""
    vix = b.source.series("VIXCLS")
    known = SERIES["VIXCLS"].known_at(pd.DatetimeIndex(vix.index))
    b.record("VIXCLS", vix, known)
    b.columns["vix"] = weekly_aggregate(vix, known, b.weeks, "mean")
    for name, column, scale in (
        ("STLFSI4", "stlfsi", 1.0),
        ("NFCI", "nfci", 1.0),
        ("WALCL", "walcl", 1e-3),
    ):
        s = b.source.series(name) * scale
        known = SERIES[name].known_at(pd.DatetimeIndex(s.index))
        b.record(name, s, known)
        b.columns[column] = latest_known(s, known, b.weeks, SERIES[name].max_age_days)


def add_swap(b: PanelBuild) -> None:
    """Optional: the 10-year swap spread, from the user's swap rates and DGS10."""
    if b.source.has("SWAP10Y"):
        swap, treasury = b.source.series("SWAP10Y"), b.source.series("DGS10")
        b.record("SWAP10Y", swap, SERIES["SWAP10Y"].known_at(pd.DatetimeIndex(swap.index)))
        daily = (100.0 * (swap - treasury)).dropna()  # bp, days with both
        known = SERIES["SWAP10Y"].known_at(pd.DatetimeIndex(daily.index))
        b.columns["swap_spread_10y"] = weekly_aggregate(daily, known, b.weeks, "mean")
    else:
        b.columns["swap_spread_10y"] = pd.Series(np.nan, index=b.weeks)
        b.notes.append(
            "10-year swap spread: no swap-rate file supplied (python -m data refresh "
            "--swap-file FILE); the column is empty"
        )


def build_panel(
    source: DataSource,
    start: str = DEFAULT_START,
    end: str | pd.Timestamp | None = None,
    today: pd.Timestamp | None = None,
) -> Panel:
    """Build the as-known weekly panel from ``start`` to the cut-off ``end``."""
    cutoff = resolve_cutoff(source, end, today)
    if cutoff < pd.Timestamp(start):
        raise DataError("--end", f"cut-off {cutoff.date()} is before the start {start}")
    b = PanelBuild(source, wednesdays(start, cutoff), cutoff)
    add_basis(b)
    add_move(b)
    basis_label = add_funding(b)
    add_tga(b)
    add_foreign(b)
    add_reserve(b)
    add_other(b)
    add_swap(b)
    frame = pd.DataFrame(
        {c: b.columns[c] for c in [*DRIVERS, *OBSERVABLES, *OPTIONAL_DRIVERS]}, index=b.weeks
    )
    frame.index.name = "week"
    b.notes.append("Nothing is interpolated: a week with no published value is NaN.")
    return Panel(
        frame=frame.astype(float),
        funding_basis=basis_label.rename("funding_basis"),
        inputs=pd.DataFrame.from_dict(b.inputs, orient="index"),
        cutoff=cutoff,
        source=source.description,
        notes=b.notes,
        origin=source_origin(source),
    )
