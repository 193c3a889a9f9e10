"""The five drivers, 2006 to the cut-off, with the catalogued liquidity events shaded."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from data.catalogue import liquidity_events, qe_weeks
from data.defaults import DEFAULT_QE_DEFINITION
from data.drivers import label
from data.panel import DRIVERS, Panel

KIND_COLOURS = {"funding": "tab:red", "market_functioning": "tab:purple", "both": "tab:brown"}
#: One-day events (the 2014 flash rally) get a visible one-week band.
MIN_EVENT_WIDTH = pd.Timedelta(days=7)


def plot_drivers(panel: Panel, out: Path) -> Path:
    """Write a PNG with one panel per driver; missing weeks stay blank (no lines across gaps)."""
    frame = panel.frame
    fig, axes = plt.subplots(len(DRIVERS), 1, figsize=(13, 15), sharex=True)
    events = liquidity_events()
    restarts = qe_weeks(frame.index, DEFAULT_QE_DEFINITION)
    for ax, column in zip(axes, DRIVERS, strict=True):
        values = frame[column]
        units = DRIVERS[column][1]
        if column == "log_move":
            values, units = frame["move"], "index points"
            ax.set_yscale("log")
        ax.plot(values.index, values.to_numpy(), lw=1.0, color="black")
        for event in events.itertuples():
            ax.axvspan(
                event.start,
                max(event.end, event.start + MIN_EVENT_WIDTH),
                color=KIND_COLOURS[event.kind],
                alpha=0.3,
                lw=0,
            )
        for week in restarts.index[restarts["restart"] == 1]:
            ax.axvline(week, color="tab:green", ls="--", lw=1.0)
        ax.set_title(label(column), fontsize=11, loc="left")
        ax.set_ylabel(units)
        ax.grid(alpha=0.3)
        coverage = values.notna().mean()
        ax.text(
            0.995,
            0.92,
            f"observed {coverage:.0%} of weeks",
            transform=ax.transAxes,
            ha="right",
            fontsize=9,
            color="dimgray",
        )
    axes[0].set_xlim(frame.index.min(), frame.index.max())
    axes[-1].set_xlabel("week (Wednesday)")
    handles = [
        Patch(color=c, alpha=0.35, label=f"liquidity event: {k.replace('_', ' ')}")
        for k, c in KIND_COLOURS.items()
    ]
    handles.append(Line2D([], [], color="tab:green", ls="--", label="QE restart (strict)"))
    fig.legend(
        handles=handles, loc="upper center", ncol=4, frameon=False, bbox_to_anchor=(0.5, 0.995)
    )
    fig.suptitle(
        f"liqshock drivers, as known each Wednesday, {frame.index.min().date()} to "
        f"{panel.cutoff.date()} (source: {panel.source})",
        y=0.975,
        fontsize=12,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
