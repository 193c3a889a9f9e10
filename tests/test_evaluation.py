"""The evaluation: long records, scores on each forecaster's own origins, pairs on the
intersection, the horizon read from the records, the circular bootstrap, the MS-TVTP onset
question, and the report on any window."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

from diagnostics.evaluation import scores, tables
from diagnostics.evaluation.baselines import p_onset_within, p_stress_within
from diagnostics.evaluation.records import forecast_table, read_table
from diagnostics.evaluation.report import FILES, write_report
from diagnostics.evaluation.runner import month_end_wednesdays
from diagnostics.evaluation.scores import brier


def synthetic_records(
    n: int = 60,
    seed: int = 0,
    horizon: int = 13,
    no_model_before: int = 0,
    first: str = "2012-01-01",
    name: str = "regime",
) -> list[dict]:
    """Backtest records of the stored shape with random forecasts (machinery only). The
    model has no forecast at the first ``no_model_before`` origins (no passing refit)."""
    rng = np.random.default_rng(seed)
    origins = month_end_wednesdays(first, pd.Timestamp("2040-01-01"))[:n]
    records = []
    for t, origin in enumerate(origins):
        y = {s: int(rng.random() < 0.25) for s in ("catalogue", "objective")}
        p_model = float(np.clip(0.2 + 0.4 * y["catalogue"] + rng.normal(0, 0.1), 0.01, 0.99))
        model = {
            "fit_id": f"fit-{origin.year}",
            "p_event": {"mean": p_model, "q05": p_model / 2, "q95": min(1, p_model * 1.5)},
            "p_restart": {"mean": 0.05, "q05": 0.01, "q95": 0.1},
        }
        records.append(
            {
                "origin": str(origin.date()),
                "horizon": horizon,
                "data_as_of": str(origin.date()),
                "models": {name: None if t < no_model_before else model},
                "missing": {name: "no refit passed the gate"} if t < no_model_before else {},
                "ms_tvtp": float(rng.random()),
                "targets": {
                    s: {
                        "climatology": 0.25,
                        "bayes_logit": float(rng.random()),
                        "bayes_logit_refit": "2011-01-05",
                        "signal": {"p": 0.2 + 0.1 * (t % 2)},
                    }
                    for s in ("catalogue", "objective")
                },
                "qe": {"climatology": 0.05},
                "realized": {
                    **{
                        s: {"onset": y[s], "scored_for_onset": t % 7 != 0}
                        for s in ("catalogue", "objective")
                    },
                    "qe": {"qe_at_risk": True, "qe_restart": int(t == 30)},
                },
            }
        )
    return records


@pytest.fixture(autouse=True)
def quick_bootstrap(monkeypatch):
    monkeypatch.setattr(scores, "N_BOOT", 200)
    monkeypatch.setattr(scores, "CALIBRATION_BOOT", 20)


def test_every_forecaster_is_scored_on_its_own_origins_and_pairs_on_both():
    """A model without forecasts at the first origins no longer removes those origins
    from the baselines' scores: each is scored where it has a forecast, and the pair on
    the origins both have, with the count stated."""
    records = synthetic_records(n=80, no_model_before=12)
    table = forecast_table(records)
    scores, diffs = tables.score_tables(table)
    whole = scores[(scores["target"] == "catalogue") & (scores["period"] == "all")]
    by = whole.set_index("forecaster")
    scored = [t for t in range(80) if t % 7]
    assert by.loc["climatology", "n_origins"] == len(scored)
    assert by.loc["regime", "n_origins"] == len([t for t in scored if t >= 12])
    frame = tables.scored_origins(table, "catalogue")
    own = frame[["regime", "outcome"]].dropna()
    assert by.loc["regime", "brier"] == pytest.approx(
        brier(own["regime"].to_numpy(), own["outcome"].to_numpy())
    )
    pair = diffs[
        (diffs["target"] == "catalogue")
        & (diffs["period"] == "all")
        & (diffs["versus"] == "bayes_logit")
        & (diffs["score"] == "brier")
    ].iloc[0]
    assert pair["n_origins"] == by.loc["regime", "n_origins"]
    both = frame[["regime", "bayes_logit", "outcome"]].dropna()
    assert pair["difference"] == pytest.approx(
        brier(both["regime"].to_numpy(), both["outcome"].to_numpy())
        - brier(both["bayes_logit"].to_numpy(), both["outcome"].to_numpy())
    )
    missing = tables.missing_table(table)
    gaps = missing[(missing["forecaster"] == "regime") & (missing["target"] == "catalogue")]
    assert len(gaps) == len([t for t in scored if t < 12])
    assert set(gaps["missing"]) == {"no refit passed the gate"}
    assert tables.missing_years(table, "regime", "catalogue") == [2012]


def test_the_horizon_is_read_from_the_records():
    table = forecast_table(synthetic_records(horizon=26))
    assert set(table["horizon"]) == {26}
    assert tables.horizon_of(table) == 26
    # leaving an event out removes the origins whose 26-week window holds it, not 13 weeks'
    onset = "2014-01-01"
    removed = {
        h: tables.leave_one_event_out(
            forecast_table(synthetic_records(horizon=h)), {"catalogue": [onset]}
        )["origins_removed"].iloc[0]
        for h in (13, 26)
    }
    frame = tables.scored_origins(table, "catalogue")
    before = (frame.index < onset) & (frame.index >= pd.Timestamp(onset) - pd.Timedelta(weeks=26))
    assert removed[26] == before.sum() > removed[13]
    mixed = pd.concat([table, forecast_table(synthetic_records(horizon=13, seed=1))])
    with pytest.raises(ValueError, match="mix horizons"):
        tables.score_tables(mixed)


def test_the_circular_bootstrap_weights_every_origin_equally():
    """Each origin's expected count per resample is 1, the edges included; the moving-block
    bootstrap this replaced gave the first origin about 1/block of that."""
    n, block = 40, 6
    idx = scores.block_indices(n, block, n_boot=4000, seed=3)
    counts = np.bincount(idx.ravel(), minlength=n) / len(idx)
    expected = block * int(np.ceil(n / block)) / n * (n / (block * np.ceil(n / block)))
    assert counts[0] == pytest.approx(counts[n // 2], rel=0.1)
    assert counts.min() > 0.85 * expected
    # blocks wrap around: an index n - 1 can be followed by 0 inside a block
    follows = (idx[:, :-1] == n - 1) & (idx[:, 1:] == 0)
    assert follows.any()


def test_resamples_without_an_onset_are_counted_not_dropped():
    y = np.zeros(60)
    y[[5, 6]] = 1  # one short event: many resamples miss it
    idx = scores.block_indices(60, 6, 500, seed=1)
    row = scores.scores_with_intervals(np.full(60, 0.1), y, np.full(60, 0.05), idx)
    brute = sum(1 for r in idx if y[r].sum() == 0)
    assert row["resamples_without_onset"] == brute > 0
    assert row["n_resamples"] == 500


@pytest.mark.parametrize("horizon", [1, 2, 5])
@pytest.mark.parametrize("p_now", [0.0, 0.3, 1.0])
def test_the_markov_onset_probability_matches_enumerating_every_path(horizon, p_now):
    """P(calm -> stress at least once within h) against all 2^(h+1) regime paths."""
    to_stress = np.array([0.07, 0.8])  # from calm, from stress
    total = 0.0
    for path in itertools.product((0, 1), repeat=horizon + 1):
        prob = p_now if path[0] else 1 - p_now
        for a, b in itertools.pairwise(path):
            prob *= to_stress[a] if b else 1 - to_stress[a]
        if any(a == 0 and b == 1 for a, b in itertools.pairwise(path)):
            total += prob
    assert p_onset_within(p_now, to_stress, horizon) == pytest.approx(total, abs=1e-12)
    # "any stress week" is a different, larger number whenever stress is under way
    if p_now == 1.0:
        stress_week = p_stress_within(p_now, to_stress, horizon)
        assert stress_week >= 0.8 > 0.5 > p_onset_within(p_now, to_stress, horizon)


def test_the_report_works_on_a_short_window_and_says_why_a_score_is_missing(tmp_path):
    table = forecast_table(synthetic_records(n=6))
    paths = write_report(table, tmp_path, {"description": "six origins"}, {"catalogue": []})
    scores = pd.read_csv(paths["scores"])
    assert scores["note"].str.contains("scored origins").all()
    assert "at least 10 needed" in paths["summary"].read_text()


@pytest.mark.slow
def test_the_stored_records_score_again_to_the_same_tables(tmp_path):
    """What a referee runs: the tables from the stored long records equal the run's."""
    records = synthetic_records(n=70, no_model_before=5)
    onsets = {"catalogue": ["2013-03-13"], "objective": []}
    first = write_report(forecast_table(records), tmp_path / "a", {"description": "x"}, onsets)
    again = write_report(read_table(first["forecasts"]), tmp_path / "b", {}, onsets)
    for key in ("scores", "differences", "missing", "leave_one_out"):
        pd.testing.assert_frame_equal(pd.read_csv(first[key]), pd.read_csv(again[key]))
    assert json.loads(again["onsets"].read_text()) == onsets
    assert set(FILES) >= {"forecasts", "scores", "onsets", "meta"}


def test_a_stored_record_that_is_cut_short_or_out_of_range_is_redone(tmp_path):
    """On resume, only whole records of the right shape are reused; the rest are redone and
    the run says which and why."""
    from diagnostics.evaluation.stored import forecast_problem, refit_problem, reusable

    good, bad_p, cut = synthetic_records(n=3)
    bad_p["models"]["regime"]["p_event"]["mean"] = 7.5
    folder = tmp_path / "origins"
    folder.mkdir()
    for record in (good, bad_p):
        (folder / f"{record['origin']}.json").write_text(json.dumps(record))
    (folder / f"{cut['origin']}.json").write_text(json.dumps(cut)[:200])
    said = []
    kept = reusable(
        folder, [r["origin"] for r in (good, bad_p, cut)], forecast_problem, said.append
    )
    assert list(kept) == [good["origin"]]
    assert any("outside [0, 1]" in line and bad_p["origin"] in line for line in said)
    assert any("unreadable" in line and cut["origin"] in line for line in said)
    refit = {"origin": "2019-01-02", "fit_id": "x", "gate_passed": "yes"}
    assert "gate_passed" in refit_problem(refit)
    assert refit_problem({**refit, "gate_passed": True}) is None


def test_the_markov_onset_probability_is_a_probability_at_the_extremes():
    """Rounding once gave -1e-16 where no onset is possible (a chain locked in stress):
    a score would refuse it."""
    grid = [0.0, 1e-300, 1e-12, 0.3, 1 - 1e-12, 1.0]
    for p_now, calm_to_stress, stay in itertools.product(grid, grid, grid):
        p = p_onset_within(p_now, np.array([calm_to_stress, stay]), 13)
        assert 0.0 <= p <= 1.0
