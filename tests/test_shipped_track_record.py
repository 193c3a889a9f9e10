"""The track record shipped in docs/track-record: it scores the default model version, or
the pages say that it is the previous version's; and it scores again to the same tables."""

from __future__ import annotations

import pandas as pd
import pytest

from diagnostics import track_record as tr
from diagnostics.evaluation import tables
from diagnostics.evaluation.records import QE_TARGET, read_table
from diagnostics.evaluation.report import FILES
from diagnostics.evaluation.scores import brier
from model.equations.config import ModelConfig
from outlook.report import track_record_line


def test_the_shipped_record_is_of_the_default_model_or_the_page_says_it_is_not(tmp_path):
    record = tr.track_record(tmp_path / "no backtests here", ModelConfig())
    assert record["available"] and record["shipped"]
    line = track_record_line({"track_record": record})
    if tr.matching_series(tr.SHIPPED, ModelConfig()) is None:
        assert record["previous_version"]
        assert "track record of the previous model version" in line
    else:
        assert not record["previous_version"]
        assert "previous model version" not in line
    assert f"{record['n_onsets']} with an event onset" in line


@pytest.mark.parametrize("folder", tr.shipped_dirs(), ids=lambda d: d.name)
def test_the_shipped_scores_are_what_the_shipped_records_give(folder):
    """The committed scores were made from the committed records (no hand edits): score
    them again and compare the point values and counts."""
    table = read_table(folder / FILES["forecasts"])
    shipped = pd.read_csv(folder / FILES["scores"])
    for target in ("catalogue", "objective", QE_TARGET):
        frame = tables.scored_origins(table, target)
        rows = shipped[(shipped["target"] == target) & (shipped["period"] == "all")]
        for row in rows.itertuples():
            own = frame[[row.forecaster, "outcome"]].dropna()
            assert row.n_origins == len(own), (target, row.forecaster)
            assert row.n_positive == int(own["outcome"].sum())
            if isinstance(row.note, str) and row.note:
                continue
            expected = brier(own[row.forecaster].to_numpy(), own["outcome"].to_numpy())
            assert row.brier == pytest.approx(expected, rel=1e-12)


def test_each_variant_and_qe_definition_reads_its_own_shipped_record(tmp_path):
    """The vulnerability variant reads its own series (not the default's as a "previous
    version"), the broad QE definition reads a backtest trained on it, and a version with no
    shipped record reads the default's, marked as the previous version's."""
    from dataclasses import replace

    from data.drivers import VULNERABILITIES

    nowhere = tmp_path / "no backtests here"
    variant = ModelConfig(drivers=VULNERABILITIES)
    record = tr.track_record(nowhere, variant)
    assert record["series"] == "vulnerability_jump" and not record["previous_version"]
    broad = tr.track_record(nowhere, replace(ModelConfig(), qe_definition="broad"), QE_TARGET)
    assert broad["backtest"].endswith("qe-broad") and broad["series"] == "regime_jump"
    assert not broad["previous_version"]
    other = tr.track_record(nowhere, ModelConfig(events="objective"))
    assert other["previous_version"] and other["series"] == "regime_jump"


def test_a_compared_series_is_described_by_its_own_refits():
    """The Model 5 backtest scored the default's refits beside its own: each series' record
    states the refits that made it (the default's 19 with 5 refused, the variant's 2)."""
    import json

    shipped = tr.SHIPPED / "model5"
    meta = json.loads((shipped / FILES["meta"]).read_text())
    for name in ("regime_jump", "vulnerability_jump"):
        refits = meta["series"][name]["refits"]
        refused = sum(not r["passed"] for r in refits)
        record = tr.read_record(shipped, name, "catalogue", False)
        assert (
            f"{len(refits)} refits every year, {refused} refused by the gate"
            in (record["description"])
        )
    counts = {
        n: sum(not r["passed"] for r in meta["series"][n]["refits"])
        for n in ("regime_jump", "vulnerability_jump")
    }
    assert counts["regime_jump"] != counts["vulnerability_jump"]
