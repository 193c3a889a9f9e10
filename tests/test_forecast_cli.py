"""forecast.py end to end on a real-data fit: JSON, report page, refusal of unconverged fits."""

from __future__ import annotations

import base64
import json
import re
import shutil
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

import forecast as forecast_cli
from outlook.report import triple

pytestmark = pytest.mark.slow


class PageCheck(HTMLParser):
    """Collects image sources and checks that every opened tag is closed."""

    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self):
        super().__init__()
        self.images, self.stack, self.errors = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        if tag == "link" or (tag == "script" and "src" in attrs):
            self.errors.append(f"external resource <{tag}>")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()


@pytest.fixture(scope="module")
def report(small_real_fit, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    code = forecast_cli.main(
        [
            "--fit",
            str(small_real_fit.path),
            "--out",
            str(out),
            "--draws",
            "300",
            "--seed",
            "3",
            "--backtests",
            str(out / "no_backtests"),
        ]
    )
    assert code == 0
    return json.loads((out / "forecast.json").read_text()), (out / "report.html").read_text()


def test_forecast_json_has_the_documented_fields(report, small_real_fit):
    data, _ = report
    assert data["fit_id"] == small_real_fit.fit_id
    assert data["data_cutoff"] == "2020-12-30" and data["horizon_weeks"] == 13
    names = ["baseline", "tga_rebuild", "rate_vol_shock", "basis_unwind", "foreign_selling"]
    names += ["reserves_drain", "calm"]
    results = {"baseline": data["baseline"], **data["scenarios"]}
    assert list(results) == names
    for res in results.values():
        for key in ("p_liquidity_event", "p_qe_restart"):
            d = res[key]
            assert 0 <= d["q05"] <= d["mean"] <= d["q95"] <= 1
    assert len(data["p_stress_path"]) == 13
    assert set(data["attribution"]["drivers"]) == set(small_real_fit.config.drivers)


def test_report_numbers_equal_the_json_and_the_page_is_self_contained(report):
    data, page = report
    for res in [data["baseline"], *data["scenarios"].values()]:
        assert triple(res["p_liquidity_event"]) in page
        assert triple(res["p_qe_restart"]) in page
    assert data["fit_id"] in page and data["data_cutoff"] in page
    checker = PageCheck()
    checker.feed(page)
    assert not checker.errors and checker.stack == []
    assert len(checker.images) >= 5
    for src in checker.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r'src="(?!data:)', page)


def test_an_unconverged_fit_is_refused_unless_asked(small_real_fit, tmp_path, capsys):
    bad = tmp_path / small_real_fit.path.name
    shutil.copytree(small_real_fit.path, bad)
    manifest = json.loads((bad / "manifest.json").read_text())
    manifest["convergence"].update(passed=False, failures=["R-hat 1.300 > 1.01 (trans_coef)"])
    (bad / "manifest.json").write_text(json.dumps(manifest))
    assert forecast_cli.main(["--fit", str(bad), "--out", str(tmp_path / "r")]) == 2
    assert "failed the convergence gate" in capsys.readouterr().err
    assert (
        forecast_cli.main(
            [
                "--fit",
                str(bad),
                "--out",
                str(tmp_path / "r"),
                "--draws",
                "50",
                "--scenarios",
                "none",
                "--allow-unconverged",
            ]
        )
        == 0
    )
    assert "FAILED the convergence gate" in (tmp_path / "r" / "report.html").read_text()
    # the terminal says it too, first, not only the page
    assert capsys.readouterr().out.startswith("REVIEW COPY: this fit FAILED the convergence gate")


def test_a_scenario_name_is_printed_as_typed_even_with_dollar_signs(small_real_fit, tmp_path):
    """Matplotlib reads $...$ as mathematics; an unknown symbol in a user's scenario name
    once stopped the report with a traceback."""
    scenario = tmp_path / "math.toml"
    scenario.write_text(
        "[scenarios.'$\\foo$']\ndescription = 'costs $x^2$'\n"
        "[scenarios.'$\\foo$'.drivers.log_move]\nmode = 'pin'\nunit = 'index points'\n"
        "path = [150.0]\nhold = true\n"
    )
    data = run_forecast(small_real_fit.path, tmp_path / "r", "--scenarios", str(scenario))
    assert "$\\foo$" in data["scenarios"]
    assert "$\\foo$" in (tmp_path / "r" / "report.html").read_text()


def test_a_previous_fit_of_another_model_version_does_not_stop_the_forecast(
    small_real_fit, tmp_path
):
    """After a model upgrade the last passing fit on disk is of the old version: the new
    fit's forecast still runs, and says why there is no comparison."""
    fits = tmp_path / "fits"
    older, current = fits / "older", fits / small_real_fit.path.name
    shutil.copytree(small_real_fit.path, current)
    shutil.copytree(small_real_fit.path, older)
    manifest = json.loads((older / "manifest.json").read_text())
    manifest.update(fit_id="older", created_at="2000-01-01T00:00:00+00:00")
    manifest["model"]["config"]["version"] = "0.1"
    (older / "manifest.json").write_text(json.dumps(manifest))
    out = tmp_path / "report"
    code = forecast_cli.main(["--fit", str(current), "--out", str(out), "--draws", "200"])
    assert code == 0
    data = json.loads((out / "forecast.json").read_text())
    assert "previous" not in data and "model version 0.1" in data["previous_unavailable"]
    assert "cannot be compared" in (out / "report.html").read_text()


def test_an_event_under_way_at_the_cut_off_is_named_in_the_summary(report):
    from outlook.report import what_moved

    data, _ = report
    # 2020-12-30: no catalogued event week
    assert data["event_under_way"] == {"funding": False, "market_functioning": False}
    assert "under way" not in what_moved(data)
    ongoing = dict(data, event_under_way={"funding": True, "market_functioning": False})
    assert "catalogued funding event is under way" in what_moved(ongoing)


def test_the_printed_table_says_what_its_intervals_are(report):
    data, _ = report
    lines = forecast_cli.headline_lines(data)
    assert len(lines) == 2 + 1 + len(data["scenarios"]) + 1
    baseline = data["baseline"]["p_liquidity_event"]
    assert lines[2].startswith("baseline") and f"{baseline['q95']:5.1%}" in lines[2]
    assert "90% interval: 5th-95th percentile over 300 posterior draws" in lines[-1]
    assert "strict definition" in lines[-1]


def test_an_existing_report_is_never_replaced_without_force(report, small_real_fit, tmp_path):
    out = tmp_path / "official"
    args = ["--fit", str(small_real_fit.path), "--out", str(out), "--draws", "100"]
    assert forecast_cli.main([*args, "--scenarios", "none"]) == 0
    first = (out / "report.html").read_bytes(), (out / "forecast.json").read_bytes()
    # a second run (other draws, so other numbers) is refused and leaves both files
    assert forecast_cli.main([*args, "--seed", "9"]) == 2
    assert ((out / "report.html").read_bytes(), (out / "forecast.json").read_bytes()) == first
    assert forecast_cli.main([*args, "--seed", "9", "--force"]) == 0
    assert (out / "forecast.json").read_bytes() != first[1]
    as_file = tmp_path / "a_file"
    as_file.write_text("")
    assert forecast_cli.main(["--fit", str(small_real_fit.path), "--out", str(as_file)]) == 2


def test_the_first_screen_answers_how_likely_against_what_base_rate_and_how_fresh(
    report, small_real_fit
):
    """The answer box comes before any other section and shows the headline beside its base
    rate, the gate's numbers and each driver's last observed week (brute force from the
    fit's observed data)."""
    from outlook.report import pct

    data, page = report
    box = page[page.index("<section class=answer>") : page.index("</section>")]
    assert page.index("<section class=answer>") < page.index("<h2>")
    for key in ("p_liquidity_event", "p_qe_restart"):
        assert pct(data["baseline"][key]["mean"]) in box
        assert 0 < data["base_rate"][key] < 1
        assert pct(data["base_rate"][key]) in box
    assert f"{data['convergence']['max_rhat']:.3f}" in box
    observed = small_real_fit.idata.observed_data
    weeks = observed["week"].to_numpy()
    for driver in small_real_fit.config.drivers:
        values = observed[f"driver_{driver}"].to_numpy()
        last = max(w for w, v in zip(weeks, values, strict=True) if not np.isnan(v))
        assert data["drivers_last_observed"][driver] == str(last)[:10]
        assert data["drivers_last_observed"][driver] in box
    assert 'name="viewport"' in page


def run_forecast(fit_path, out, *extra: str) -> dict:
    code = forecast_cli.main(
        ["--fit", str(fit_path), "--out", str(out), "--draws", "200", "--seed", "2", *extra]
    )
    assert code == 0
    return json.loads((out / "forecast.json").read_text())


def test_a_scenario_that_changes_nothing_has_no_effect(small_real_fit, tmp_path):
    """Scenarios reuse the baseline's draws and shocks, so a zero shift changes nothing, draw
    by draw: its paired interval is exactly zero (independent shocks would not give that)."""
    scenario = tmp_path / "zero.toml"
    scenario.write_text(
        '[scenarios.nothing]\ndescription = "no change"\n'
        '[scenarios.nothing.drivers.funding_spread]\nmode = "shift"\nunit = "bp"\n'
        "path = [0.0]\nhold = true\n"
    )
    data = run_forecast(
        small_real_fit.path, tmp_path / "r", "--scenarios", str(scenario), "--backtests", "x"
    )
    effect = data["scenarios"]["nothing"]["change_vs_baseline"]["p_liquidity_event"]
    assert effect == {"mean": 0.0, "q05": 0.0, "q95": 0.0}
    assert "+0.0 pp <small>(+0.0 to +0.0)</small>" in (tmp_path / "r" / "report.html").read_text()


def test_what_changed_reads_the_previous_report_as_it_was_shown(small_real_fit, tmp_path):
    """The previous report's stored numbers are compared, not a recomputation: a stored
    number no code would produce today (43.21%) is what the page shows as "previous"."""
    fits, reports = tmp_path / "fits", tmp_path / "reports"
    current = fits / small_real_fit.path.name
    shutil.copytree(small_real_fit.path, current)
    older = fits / "older"
    older.mkdir()
    manifest = json.loads((current / "manifest.json").read_text())
    manifest.update(fit_id="older", created_at="2000-01-01T00:00:00+00:00")
    (older / "manifest.json").write_text(json.dumps(manifest))
    shown = run_forecast(current, reports / "first", "--backtests", "x")
    shown["fit_id"], shown["data_cutoff"] = "older", "2020-06-24"
    shown["baseline"]["p_liquidity_event"]["mean"] = 0.4321
    (reports / "older").mkdir()
    (reports / "older" / "forecast.json").write_text(json.dumps(shown))
    data = run_forecast(current, reports / current.name, "--backtests", "x")
    assert data["previous"]["source"] == "stored"
    assert data["previous"]["p_liquidity_event"]["mean"] == 0.4321
    page = (reports / current.name / "report.html").read_text()
    assert "43.2%" in page and "as its report showed them" in page
    delta = 100 * (data["baseline"]["p_liquidity_event"]["mean"] - 0.4321)
    assert f"{delta:+.1f} pp<br><small>since 2020-06-24</small>" in page


def write_backtest(root, config: dict, name: str, seed: int):
    """A backtest's scored records, written by the evaluation itself from synthetic records
    (machinery only): the scores the page must show are whatever the scoring computed."""
    from diagnostics.evaluation import scores
    from diagnostics.evaluation.records import forecast_table
    from diagnostics.evaluation.report import write_report
    from tests.test_evaluation import synthetic_records

    records = synthetic_records(n=200, seed=seed, no_model_before=3, first="2008-01-01", name=name)
    scores.N_BOOT, saved = 100, scores.N_BOOT
    try:
        meta = {"description": "synthetic", "series": {name: {"config": config}}}
        return write_report(forecast_table(records), root / "dense", meta, {"catalogue": []})
    finally:
        scores.N_BOOT = saved


def test_the_track_record_is_read_from_a_backtest_of_this_model_version(
    small_real_fit, tmp_path, monkeypatch
):
    from diagnostics import track_record as tr

    monkeypatch.setattr(tr, "SHIPPED", tmp_path / "nothing shipped")
    config = json.loads((small_real_fit.path / "manifest.json").read_text())["model"]["config"]
    level = {k: v for k, v in config.items() if k != "move_observable"}  # another version
    backtests = tmp_path / "backtests"
    write_backtest(backtests / "a", level, "regime", seed=1)
    data = run_forecast(small_real_fit.path, tmp_path / "r1", "--backtests", str(backtests))
    assert not data["track_record"]["available"]
    assert "no backtest of this model version" in (tmp_path / "r1" / "report.html").read_text()

    paths = write_backtest(backtests / "b", config, "regime_jump", seed=2)
    data = run_forecast(small_real_fit.path, tmp_path / "r2", "--backtests", str(backtests))
    record = data["track_record"]
    assert record["available"] and record["series"] == "regime_jump"
    scores = pd.read_csv(paths["scores"])
    row = scores[
        (scores["target"] == "catalogue")
        & (scores["period"] == "confirmation (2020-01 on)")
        & (scores["forecaster"] == "regime_jump")
    ].iloc[0]
    assert record["headline_period"] == "confirmation (2020-01 on)"
    assert record["n_origins"] == row["n_origins"] and record["n_onsets"] == row["n_positive"]
    assert record["brier_skill"]["mean"] == pytest.approx(row["brier_skill"])
    lo, hi = row["brier_skill_q05"], row["brier_skill_q95"]
    expected = "better than" if lo > 0 else "worse than" if hi < 0 else "cannot be told apart from"
    assert record["verdict"] == f"{expected} the base rate"
    page = (tmp_path / "r2" / "report.html").read_text()
    assert f"{row['n_origins']} forecasts, {row['n_positive']} with an event onset" in page
    assert f"{row['brier_skill']:+.2f} (90%: {lo:+.2f} to {hi:+.2f})" in page
    assert "Out of sample, origins from 2020-01" in page and "Whole period" in page
    assert "No model forecast in 2008" in page  # the first origins had no passing refit
    assert "P(event) at each backtest origin" in page


def test_a_fresh_clone_reads_the_shipped_track_record(small_real_fit, tmp_path, monkeypatch):
    """No backtest run here: the page reads the shipped one, and says so when it scored
    another model version."""
    from diagnostics import track_record as tr

    config = json.loads((small_real_fit.path / "manifest.json").read_text())["model"]["config"]
    level = {k: v for k, v in config.items() if k != "move_observable"}
    monkeypatch.setattr(tr, "SHIPPED", tmp_path / "shipped" / "dense")
    write_backtest(tmp_path / "shipped", config, "regime_jump", seed=3)
    data = run_forecast(small_real_fit.path, tmp_path / "r1", "--backtests", str(tmp_path / "x"))
    assert data["track_record"]["available"] and data["track_record"]["shipped"]
    assert not data["track_record"]["previous_version"]
    page = (tmp_path / "r1" / "report.html").read_text()
    assert "track record of the previous model version" not in page

    (tmp_path / "shipped" / "dense" / "dense_meta.json").write_text(
        json.dumps({"series": {"regime_jump": {"config": level}}})
    )
    data = run_forecast(small_real_fit.path, tmp_path / "r2", "--backtests", str(tmp_path / "x"))
    assert data["track_record"]["previous_version"]
    assert (
        "track record of the previous model version"
        in (tmp_path / "r2" / "report.html").read_text()
    )


def test_old_parameters_on_their_own_data_reproduce_the_forecast(small_real_fit):
    """The revision's middle step (old parameters, new data) is exact at its edge: given
    the fit's own data, refiltering with its draws reproduces its own forecast, so the
    "new data" step is zero when no data changed."""
    from outlook.fitted import FittedModel, in_units_of

    fitted = FittedModel.of(small_real_fit)
    own = small_real_fit.inputs()
    again = fitted.apply(own).forecast(13, 300, 4)
    stored = fitted.forecast(13, 300, 4)
    for key in ("p_liquidity_event", "p_qe_restart"):
        assert again["baseline"][key] == pytest.approx(stored["baseline"][key], rel=1e-9)
    # another vintage's drivers are put in the fit's units: raw values are kept
    shifted = own.__class__(
        own.weeks, own.drivers, own.x, own.driver_mean + 1.0, own.driver_sd * 2.0, own.obs
    )
    moved = in_units_of(shifted, own)
    np.testing.assert_allclose(
        moved.x * own.driver_sd + own.driver_mean,
        shifted.x * shifted.driver_sd + shifted.driver_mean,
    )


def test_the_revision_steps_add_up_to_the_change():
    from outlook.report import revision_table

    def headline(event: float, qe: float) -> dict:
        return {
            "p_liquidity_event": {"mean": event, "q05": 0, "q95": 1},
            "p_qe_restart": {"mean": qe, "q05": 0, "q95": 1},
        }

    forecast = {
        "previous": headline(0.10, 0.03),
        "revision": {
            "recomputed": headline(0.11, 0.03),
            "previous_parameters_new_data": headline(0.15, 0.05),
        },
        "baseline": headline(0.12, 0.04),
    }
    table = revision_table(forecast)
    assert "10.0%</td><td class=num>+1.00 pp</td><td class=num>+4.00 pp</td>" in table
    assert "<td class=num>-3.00 pp</td><td class=num>12.0%</td>" in table


def test_each_scenario_has_its_event_path_and_the_page_shows_it(report):
    """P(an event has started by week h) rises with h and ends at the headline."""
    data, page = report
    for res in [data["baseline"], *data["scenarios"].values()]:
        path = [r["mean"] for r in res["p_event_path"]]
        assert len(path) == data["horizon_weeks"]
        assert all(b >= a - 1e-12 for a, b in zip(path, path[1:], strict=False))
        assert path[-1] == pytest.approx(res["p_liquidity_event"]["mean"])
    assert 'alt="P(event) paths by scenario"' in page
    assert 'alt="scenario driver paths"' in page


def test_both_qe_definitions_are_on_the_page_with_base_rate_and_track_record(report):
    """At the fit's 2020-12-30 cut-off the Fed was buying under both definitions (coupon
    purchases since 2020-03, bills since 2019-10), so neither can restart; the fit models the
    strict one; the shipped track record is the strict one's, and the broad one's is read
    only from a backtest whose refits were trained on it."""
    data, page = report
    definitions = data["qe_definitions"]
    assert set(definitions) == {"strict", "broad"}
    assert definitions["strict"]["modelled"] and not definitions["broad"]["modelled"]
    assert not definitions["strict"]["at_risk"] and not definitions["broad"]["at_risk"]
    assert 0 < definitions["strict"]["base_rate"] < 0.5
    strict_record = definitions["strict"]["track_record"]
    assert strict_record["available"] and strict_record["target"] == "qe_restart"
    broad_record = definitions["broad"]["track_record"]
    if broad_record["available"]:
        assert "qe-broad" in broad_record["backtest"]
    for name in ("strict", "broad"):
        row = page.split(f"data-check=qe_{name}>")[1].split("</tr>")[0]
        assert "the Fed is buying under this definition" in row
        assert f"{100 * definitions[name]['base_rate']:.1f}%" in row
        said = page.split(f"data-check=qe_record_{name}>")[1].split("</li>")[0]
        record = definitions[name]["track_record"]
        if record["available"]:
            assert f"{record['whole']['n_origins']} forecasts" in said
            assert record["whole"]["verdict"] in said
        else:
            assert "no backtest of this definition" in said


def test_the_episode_probability_of_the_paths_is_in_the_json_and_on_the_page(report):
    data, page = report
    odds = data["observables"]["p_episode_start"]
    assert 0 <= odds["funding"] <= odds["any"] <= 1
    assert odds["volatility"] <= odds["any"] <= odds["funding"] + odds["volatility"]
    note = page.split("data-check=observables>")[1].split("</p>")[0]
    assert f"episode starts within 13 weeks on {100 * odds['any']:.1f}% of them" in note
    assert "base rate" in note
