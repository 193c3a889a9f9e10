"""The MOVE emission's observable: log level (default) or the jump over the trailing year."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data.errors import DataError
from data.panel import build_panel
from model.equations.config import DEFAULT_PRIORS, JUMP_MOVE_PRIORS, ModelConfig, default_priors
from model.equations.inputs import model_inputs, move_observable


def test_a_level_config_keeps_the_identity_of_fits_made_before_the_choice():
    level = ModelConfig(move_observable="level")
    assert "move_observable" not in level.to_dict()
    assert ModelConfig.from_dict(level.to_dict()) == level
    assert ModelConfig().move_observable == "jump"  # the default since the second round
    assert level.priors == DEFAULT_PRIORS
    jump = ModelConfig(move_observable="jump")
    assert jump.to_dict()["move_observable"] == "jump"
    assert jump.digest() != level.digest()
    assert ModelConfig.from_dict(jump.to_dict()) == jump
    assert {k: jump.priors[k] for k in JUMP_MOVE_PRIORS} == JUMP_MOVE_PRIORS
    with pytest.raises(ValueError, match="unknown MOVE observable"):
        default_priors("jmup")


def test_the_jump_is_the_log_ratio_to_the_median_of_the_previous_52_weeks(panel):
    move = panel.frame["move"]
    jump = move_observable(move, "jump")
    rng = np.random.default_rng(5)
    weeks = rng.choice(np.arange(60, len(move)), size=40, replace=False)
    for t in weeks:
        past = move.iloc[t - 52 : t].dropna()
        if len(past) < 26 or np.isnan(move.iloc[t]):
            assert np.isnan(jump.iloc[t])
            continue
        assert jump.iloc[t] == pytest.approx(np.log(move.iloc[t] / np.median(past.to_numpy())))
    # too short a history is missing, never filled
    assert jump.iloc[:26].isna().all()
    assert np.allclose(move_observable(move, "level").dropna(), np.log(move.dropna()))
    with pytest.raises(DataError, match="MOVE observable"):
        move_observable(move, "points")


def test_the_jump_known_at_a_cut_off_equals_the_full_panel_on_common_weeks(snapshot, panel):
    """No value after the cut-off enters a week's jump (the backtest's origins rely on it)."""
    config = ModelConfig(move_observable="jump")
    full = model_inputs(panel, config)
    cut = model_inputs(build_panel(snapshot, end="2020-03-18"), config)
    n = cut.n_weeks
    assert full.weeks[n - 1] == pd.Timestamp("2020-03-18")
    np.testing.assert_array_equal(cut.obs["move"], full.obs["move"][:n])
    np.testing.assert_array_equal(cut.obs["move_mask"], full.obs["move_mask"][:n])
    # March 2020 is a jump: MOVE well above its trailing year
    assert np.exp(cut.obs["move"][-1]) > 1.5
    assert cut.move_observable == "jump"


def test_the_jump_priors_cover_the_observed_jumps(panel):
    """Prior check: the calm mean's 90% prior range covers the median week, and a stressed
    week's prior (calm mean + shift) reaches the largest observed jumps (~+0.7)."""
    jump = move_observable(panel.frame["move"], "jump").dropna()
    rng = np.random.default_rng(0)
    _, (mu, sd) = JUMP_MOVE_PRIORS["move_mu_calm"]
    calm = rng.normal(mu, sd, 20_000)
    shift = np.abs(rng.normal(0, JUMP_MOVE_PRIORS["move_shift"][1][0], 20_000))
    lo, hi = np.quantile(calm, [0.05, 0.95])
    assert lo < jump.median() < hi
    assert np.quantile(calm + shift, 0.95) > jump.max()
