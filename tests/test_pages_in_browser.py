"""The committee page in a real headless Chromium, at a desktop and a phone width."""

from __future__ import annotations

import json
import os

import pytest

import forecast as forecast_cli
from outlook.report import pct
from tests.browser import chromium, measure

pytestmark = [
    pytest.mark.slow,
    # CI sets LIQSHOCK_REQUIRE_BROWSER: there a missing browser fails instead of skipping
    pytest.mark.skipif(
        chromium() is None and not os.environ.get("LIQSHOCK_REQUIRE_BROWSER"),
        reason="needs the chromium binary (scripts/setup.sh installs it with apt-get)",
    ),
]


@pytest.fixture(scope="module")
def page(small_real_fit, tmp_path_factory):
    out = tmp_path_factory.mktemp("page")
    code = forecast_cli.main(
        ["--fit", str(small_real_fit.path), "--out", str(out), "--draws", "300"]
        + ["--backtests", str(out / "none")]
    )
    assert code == 0
    return out / "report.html", json.loads((out / "forecast.json").read_text())


def test_the_answer_is_on_the_first_screen_at_desktop_width(page, tmp_path):
    html_file, forecast = page
    seen = measure(html_file, 1400, 900, tmp_path)
    for check in ("p_liquidity_event", "p_qe_restart", "track_record", "gate", "freshness"):
        assert check in seen["checks"], f"{check} is not on the page"
        assert seen["checks"][check]["bottom"] <= seen["height"], f"{check} is below the fold"
    event_row = seen["checks"]["p_liquidity_event"]["text"]
    assert pct(forecast["baseline"]["p_liquidity_event"]["mean"]) in event_row
    assert pct(forecast["base_rate"]["p_liquidity_event"]) in event_row
    assert seen["images"] >= 4 and seen["broken_images"] == 0


def test_nothing_overflows_a_phone_screen(page, tmp_path):
    html_file, _ = page
    seen = measure(html_file, 390, 844, tmp_path)
    assert seen["scroll_width"] <= seen["width"], seen["widest"]
    assert seen["widest"] == []
    assert seen["broken_images"] == 0


def test_the_stress_fans_are_on_the_page_with_their_numbers(page, tmp_path):
    html_file, forecast = page
    seen = measure(html_file, 1400, 900, tmp_path)
    text = seen["checks"]["observables"]["text"]
    funding = forecast["observables"]["funding_spread_max"]["horizon_max"]
    move = forecast["observables"]["move"]["horizon_max"]
    assert f"peaks at {funding['q50']:.0f} bp" in text and f"MOVE at {move['q50']:.0f}" in text
    assert "Read with care" in text
