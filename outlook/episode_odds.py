"""P(an objective stress episode starts within the horizon), from the simulated paths.

The episode rules are :mod:`data.episodes`' (one definition): a week qualifies when the
funding spread's weekly maximum is far above its median of the previous year, or the week's
highest MOVE close far above the median weekly mean of the previous half year; a qualifying
week after enough calm weeks opens an episode. Here they run over each simulated path with
the fit's last weeks in front of it, so the trailing medians and the calm weeks before the
first forecast week are the real ones.

Two things the simulation does not give are supplied from the data, and said so:

- the week's *highest* MOVE close: the simulated weekly mean times a max/mean ratio drawn
  from the fit's last three years of observed weeks;
- the funding spread's *basis* (which overnight and administered rates it compares): the
  forecast weeks are taken to be measured as the last weeks were (SOFR minus IORB since
  2021-07), so the reference is the last year of observed weekly maxima.
"""

from __future__ import annotations

import numpy as np

from data.episodes import (
    CALM_WEEKS,
    FUNDING_MIN_WEEKS,
    FUNDING_WINDOW_WEEKS,
    VOLATILITY_MIN_WEEKS,
    VOLATILITY_WINDOW_WEEKS,
    funding_qualifies,
    opening_weeks,
    volatility_qualifies,
)
from model.equations.inputs import FUNDING_UNIT_BP, ModelInputs
from outlook.observables import ObservablePaths

#: Weeks of observed max/mean MOVE ratios the simulated weekly maximum draws from.
RATIO_WEEKS = 156


def trailing_medians(values: np.ndarray, first: int, window: int, min_weeks: int) -> np.ndarray:
    """(D, T - first) median of the ``window`` weeks before each week from ``first`` on (the
    week itself excluded), NaN where fewer than ``min_weeks`` are known: ``data.episodes.
    trailing_median`` for every draw at once."""
    out = np.full((values.shape[0], values.shape[1] - first), np.nan)
    for j, t in enumerate(range(first, values.shape[1])):
        window_values = values[:, max(0, t - window) : t]
        enough = np.isfinite(window_values).sum(axis=1) >= min_weeks
        if enough.any():
            out[enough, j] = np.nanmedian(window_values[enough], axis=1)
    return out


def episode_start_probability(
    paths: ObservablePaths,
    inputs: ModelInputs,
    rng: np.random.Generator,
    move_max: np.ndarray | None = None,
) -> dict | None:
    """P(an episode of each kind, and of either, opens in weeks T+1..T+H) over the paths;
    None when the fit did not keep the weekly MOVE maximum the volatility rule needs.
    ``move_max`` (D, H): the weeks' highest MOVE closes where they are known (a path of
    real weeks); otherwise drawn as the module doc says."""
    levels = inputs.stress_levels or {}
    if "move_max" not in levels or "move" not in levels:
        return None
    n_draws, horizon = paths.move.shape
    keep = FUNDING_WINDOW_WEEKS + CALM_WEEKS
    funding_history = np.where(inputs.obs["funding_mask"] > 0, inputs.obs["funding"], np.nan)
    move_history, move_max_history = (
        np.asarray(levels[k], dtype=float) for k in ("move", "move_max")
    )
    ratios = (move_max_history / move_history)[-RATIO_WEEKS:]
    ratios = ratios[np.isfinite(ratios)]
    if not len(ratios):
        return None
    if move_max is None:
        move_max = paths.move * rng.choice(ratios, size=paths.move.shape)

    def joined(history: np.ndarray, future: np.ndarray) -> np.ndarray:
        return np.concatenate([np.tile(history[-keep:], (n_draws, 1)), future], axis=1)

    funding = joined(funding_history * FUNDING_UNIT_BP, paths.funding_bp)
    move, move_max = joined(move_history, paths.move), joined(move_max_history, move_max)
    first = funding.shape[1] - horizon - CALM_WEEKS  # the calm weeks before T+1 are read too
    funding_normal = trailing_medians(funding, first, FUNDING_WINDOW_WEEKS, FUNDING_MIN_WEEKS)
    move_normal = trailing_medians(move, first, VOLATILITY_WINDOW_WEEKS, VOLATILITY_MIN_WEEKS)
    qualifying = {
        "funding": funding_qualifies(funding[:, first:], funding_normal),
        "volatility": volatility_qualifies(move_max[:, first:], move_normal),
    }
    qualifying["any"] = qualifying["funding"] | qualifying["volatility"]
    return {
        kind: float(opening_weeks(flags)[:, CALM_WEEKS:].any(axis=1).mean())
        for kind, flags in qualifying.items()
    }
