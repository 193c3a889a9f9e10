"""Text summary of a panel: coverage per driver and observable, last values, data vintage."""

from __future__ import annotations

import pandas as pd

from data.panel import DRIVERS, OBSERVABLES, OPTIONAL_DRIVERS, Panel


def format_summary(panel: Panel) -> str:
    cov = panel.coverage()
    last_known = panel.inputs["last_known"]
    lines = [
        "liqshock weekly panel (Wednesdays, as known on each date)",
        f"source:  {panel.source}",
        "read from (refreshed vintage, else snapshot): "
        + (", ".join(f"{k} {v}" for k, v in panel.origin.items()) or "-"),
        f"weeks:   {panel.frame.index.min().date()} .. {panel.cutoff.date()} "
        f"({len(panel.frame)} weeks)",
        "",
        f"{'column':<22}{'kind':<16}{'first':<12}{'last':<12}{'coverage':>9}  "
        f"{'last value':>12}  units",
    ]
    for column in [*DRIVERS, *OBSERVABLES, *OPTIONAL_DRIVERS]:
        row = cov.loc[column]
        first = "-" if pd.isna(row["first"]) else str(row["first"].date())
        last = "-" if pd.isna(row["last"]) else str(row["last"].date())
        lines.append(
            f"{column:<22}{row['kind']:<16}{first:<12}{last:<12}"
            f"{row['coverage']:>8.1%}  {row['last_value']:>12.4g}  {row['units']}"
        )
    lines += ["", "raw inputs (observation dates; last_known = when the last value became public):"]
    for name, row in panel.inputs.iterrows():
        lines.append(
            f"  {name:<10} {row['first_obs'].date()} .. {row['last_obs'].date()}"
            f"  (known {last_known[name].date()})"
        )
    counts = panel.funding_basis.value_counts()
    lines += [
        "",
        "funding spread pieces (weeks): " + ", ".join(f"{k} {v}" for k, v in counts.items()),
    ]
    gaps = _gaps(panel.frame["basis_short"])
    if gaps:
        lines += ["basis-trade gaps (no CFTC data, left missing): " + "; ".join(gaps)]
    lines += [f"note: {n}" for n in panel.notes]
    return "\n".join(lines)


def _gaps(series: pd.Series, min_weeks: int = 4) -> list[str]:
    """Runs of at least ``min_weeks`` missing weeks, as 'start..end (n weeks)'."""
    missing = series.isna().astype(int)
    run_id = (missing.diff().fillna(missing.iloc[0]) != 0).cumsum()
    runs = [
        (g.index.min(), g.index.max())
        for _, g in series[missing == 1].groupby(run_id[missing == 1])
    ]
    return [
        f"{a.date()}..{b.date()} ({int((b - a).days / 7) + 1} wk)"
        for a, b in runs
        if (b - a).days / 7 + 1 >= min_weeks
    ]
