"""The episode probability of the simulated paths applies data/episodes.py's rules: fed the
real weeks after an origin as its one "path", it finds exactly the episodes the panel's
rules date."""

from __future__ import annotations

import numpy as np
import pandas as pd

from data.episodes import objective_episodes
from model.equations.inputs import FUNDING_UNIT_BP, ModelInputs
from outlook.episode_odds import episode_start_probability
from outlook.observables import ObservablePaths

HORIZON = 13


def inputs_at(frame: pd.DataFrame, origin: pd.Timestamp) -> ModelInputs:
    """What a fit made at ``origin`` keeps of the stress observables (no drivers needed)."""
    past = frame.loc[:origin]
    funding = past["funding_spread_max"].to_numpy() / FUNDING_UNIT_BP
    obs = {"funding": np.nan_to_num(funding), "funding_mask": np.isfinite(funding).astype(float)}
    levels = {k: past[k].to_numpy() for k in ("move", "move_max", "funding_spread")}
    empty = np.zeros((len(past), 0))
    return ModelInputs(
        pd.DatetimeIndex(past.index), (), empty, np.zeros(0), np.ones(0), obs, "jump", levels
    )


def test_the_real_weeks_after_each_origin_open_the_episodes_the_panel_dates(panel):
    # one measured basis (SOFR minus IORB) throughout, as the forecast assumes
    frame = panel.frame.loc["2021-08-01":]
    starts = {k: [e.start for e in v] for k, v in objective_episodes(panel).items()}
    origins = frame.index[60:-HORIZON:4]
    seen = {"funding": 0, "volatility": 0}
    for origin in origins:
        after = frame.loc[origin:].iloc[1 : HORIZON + 1]
        paths = ObservablePaths(
            after["funding_spread_max"].to_numpy()[None, :],
            after["move"].to_numpy()[None, :],
            np.zeros((1, HORIZON)),
        )
        odds = episode_start_probability(
            paths,
            inputs_at(panel.frame, origin),
            np.random.default_rng(0),
            move_max=after["move_max"].to_numpy()[None, :],
        )
        for kind in ("funding", "volatility", "any"):
            truth = any(origin < s <= after.index[-1] for s in starts[kind])
            assert odds[kind] == float(truth), (origin, kind)
            seen[kind] = seen.get(kind, 0) + truth
    assert seen["funding"] >= 2 and seen["volatility"] >= 2  # the check saw episodes open


def test_without_the_weekly_move_maximum_there_is_no_number(panel):
    origin = panel.frame.index[-30]
    inputs = inputs_at(panel.frame, origin)
    inputs = ModelInputs(
        **{**inputs.__dict__, "stress_levels": {"move": inputs.stress_levels["move"]}}
    )
    paths = ObservablePaths(np.zeros((1, 3)), np.full((1, 3), 90.0), np.zeros((1, 3)))
    assert episode_start_probability(paths, inputs, np.random.default_rng(0)) is None
