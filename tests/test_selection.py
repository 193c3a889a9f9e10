"""The third round's rule decides from the scored tables as docs/backtest.md words it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from diagnostics.evaluation.report import FILES
from diagnostics.evaluation.selection import apply_rule

CHALLENGER, INCUMBENT = "vulnerability_jump", "regime_jump"


def write_scored(folder: Path, differences: dict, loeo: dict | None = None) -> Path:
    """Scored tables holding the given (difference, q05, q95) per target, and per target
    the challenger's and incumbent's log score in each leave-one-event-out resample."""
    folder.mkdir(parents=True)
    rows = [
        {
            "target": t,
            "period": "all",
            "model": CHALLENGER,
            "versus": INCUMBENT,
            "n_origins": 186,
            "n_positive": 21,
            "score": "log_score",
            "difference": d,
            "q05": lo,
            "q95": hi,
        }
        for t, (d, lo, hi) in differences.items()
    ]
    pd.DataFrame(rows).to_csv(folder / FILES["differences"], index=False)
    loeo_rows = [
        {"target": t, "left_out": f"event {k}", f"{CHALLENGER}_log": c, f"{INCUMBENT}_log": i}
        for t, pairs in (loeo or {}).items()
        for k, (c, i) in enumerate(pairs)
    ]
    frame = pd.DataFrame(
        loeo_rows, columns=["target", "left_out", f"{CHALLENGER}_log", f"{INCUMBENT}_log"]
    )
    frame.to_csv(folder / FILES["leave_one_out"], index=False)
    return folder


NEUTRAL = (0.0, -0.05, 0.05)


@pytest.fixture
def broad(tmp_path):
    return write_scored(tmp_path / "broad", {"qe_restart": NEUTRAL})


def strict_with(tmp_path, catalogue, loeo_pairs, objective=NEUTRAL):
    return write_scored(
        tmp_path / "strict",
        {"catalogue": catalogue, "objective": objective, "qe_restart": NEUTRAL},
        {"catalogue": loeo_pairs},
    )


def test_better_on_catalogue_onsets_in_every_resample_and_no_harm_changes_the_default(
    tmp_path, broad
):
    strict = strict_with(tmp_path, (0.10, 0.02, 0.20), [(-0.3, -0.4), (-0.2, -0.25)])
    _, verdict = apply_rule(strict, broad, None, CHALLENGER, INCUMBENT)
    assert verdict == f"{CHALLENGER} becomes the default"


def test_one_event_carrying_the_gain_keeps_the_incumbent(tmp_path, broad):
    strict = strict_with(tmp_path, (0.10, 0.02, 0.20), [(-0.3, -0.4), (-0.5, -0.25)])
    _, verdict = apply_rule(strict, broad, None, CHALLENGER, INCUMBENT)
    assert verdict.startswith(f"{INCUMBENT} stays the default") and "warns no better" in verdict


def test_measurable_harm_elsewhere_keeps_the_incumbent(tmp_path, broad):
    strict = strict_with(tmp_path, (0.10, 0.02, 0.20), [(-0.3, -0.4)], objective=(-0.2, -0.3, -0.1))
    _, verdict = apply_rule(strict, broad, None, CHALLENGER, INCUMBENT)
    assert verdict == f"{INCUMBENT} stays the default (worse on strict objective)"


def test_without_the_broad_backtest_nothing_is_decided(tmp_path):
    strict = strict_with(tmp_path, (0.10, 0.02, 0.20), [(-0.3, -0.4)])
    _, verdict = apply_rule(strict, None, None, CHALLENGER, INCUMBENT)
    assert verdict == "not decided: no scores for broad qe_restart"


def test_the_documented_verdict_is_what_the_shipped_tables_give():
    """docs/backtest.md states the current comparison's verdict; the shipped tables must
    give it, and its table must hold the numbers they give."""
    from diagnostics.track_record import SHIPPED

    comparisons, verdict = apply_rule(
        SHIPPED / "model5", SHIPPED / "qe-broad", SHIPPED / "model5", CHALLENGER, INCUMBENT
    )
    assert len(comparisons) == 6  # four onset-type targets and two fans
    doc = (SHIPPED.parent / "backtest.md").read_text()
    current = doc.split("### The current comparison")[1].split("\n## ")[0]
    said = current.split("**Verdict by the rule: ")[1].split(".**")[0]
    assert said.replace("`", "") == verdict.split(" (")[0]
    for c in comparisons:
        events = f" {c.n_events} " if c.n_events else " "
        row = f"| {c.n_origins} |{events}| {c.difference:+.3f} ({c.q05:+.3f}..{c.q95:+.3f})"
        assert row in current, row
