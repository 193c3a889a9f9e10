"""fredapi against a local FRED look-alike: same panel as the snapshot; cache works offline."""

from __future__ import annotations

import pandas as pd
import pytest

from data.errors import DataError
from data.panel import build_panel
from data.sources import FredSource
from tests.fred_server import FredServer


@pytest.mark.slow
def test_fred_path_builds_the_same_panel_as_the_snapshot(snapshot, panel, tmp_path):
    cache = tmp_path / "fred-cache"
    with FredServer(snapshot.directory) as server:
        fred = FredSource(
            cache_dir=cache, api_key="test-key", root_url=server.url, snapshot=snapshot
        )
        via_fred = build_panel(fred, end=panel.cutoff)
        fetched = {r.split("series_id=")[1].split("&")[0] for r in server.requests}
    assert {"SOFR", "IORB", "WTREGEN", "WALCL", "DFEDTAR", "DFEDTARU"} <= fetched
    pd.testing.assert_frame_equal(via_fred.frame, panel.frame)
    assert via_fred.digest() == panel.digest()
    assert (cache / "SOFR.csv").is_file() and (cache / "SOFR.json").is_file()

    # Offline, no key: the cache alone rebuilds the same panel.
    offline = FredSource(cache_dir=cache, api_key=None, snapshot=snapshot)
    offline.api_key = None
    assert build_panel(offline, end=panel.cutoff).digest() == panel.digest()


def test_fred_errors_are_clear(snapshot, tmp_path, monkeypatch):
    monkeypatch.delenv("FRED_API_KEY", raising=False)
    no_key = FredSource(cache_dir=tmp_path / "empty", snapshot=snapshot)
    with pytest.raises(DataError, match="FRED SOFR.*FRED_API_KEY"):
        no_key.series("SOFR")
    with FredServer(snapshot.directory) as server:
        wrong_key = FredSource(cache_dir=tmp_path / "c2", api_key="bad", root_url=server.url)
        with pytest.raises(DataError, match="FRED SOFR: download failed.*api_key"):
            wrong_key.series("SOFR")
    fred_only = FredSource(cache_dir=tmp_path / "c3", api_key="x")
    with pytest.raises(DataError, match="MOVE.*not a FRED series"):
        fred_only.series("MOVE")


def test_a_malformed_key_never_appears_in_a_message_and_a_corrupt_cache_is_named(
    snapshot, tmp_path
):
    """A key with a space made fredapi raise an uncaught InvalidURL whose text held the
    whole query string, key included; a garbled cache file gave a pandas traceback."""
    with FredServer(snapshot.directory) as server:
        spaced = FredSource(cache_dir=tmp_path / "c", api_key="sekrit key 42", root_url=server.url)
        with pytest.raises(DataError, match="FRED SOFR: download failed") as caught:
            spaced.series("SOFR")
    assert "sekrit" not in str(caught.value) and "42" not in str(caught.value)
    assert caught.value.__cause__ is None  # no chained exception carrying the URL
    cache = tmp_path / "garbled"
    cache.mkdir()
    (cache / "SOFR.csv").write_text("when,what\n2020-01-01,1\n")
    with pytest.raises(DataError, match=r"SOFR\.csv: unreadable FRED cache file"):
        FredSource(cache_dir=cache, api_key=None).series("SOFR")
