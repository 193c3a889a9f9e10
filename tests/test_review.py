"""``python -m diagnostics review`` on a short real-data fit."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy.special import expit as sigmoid

from diagnostics.__main__ import main
from diagnostics.effects import entry_curves, qe_hazard
from model.equations.posterior import parameters

pytestmark = pytest.mark.slow


def test_review_page_has_every_section_and_the_gate_numbers(small_real_fit, tmp_path, capsys):
    out = tmp_path / "review"
    none = str(tmp_path / "no_backtests")
    assert (
        main(["review", "--fit", str(small_real_fit.path), "--out", str(out), "--backtests", none])
        == 0
    )
    page = (out / "review.html").read_text()
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == sorted(
        [
            "worst.png",
            "worst_rank.png",
            "rank.png",
            "trace.png",
            "energy.png",
            "prior_predictive.png",
            "posterior_predictive.png",
            "event_frequency.png",
            "p_stress.png",
            "entry_curves.png",
            "qe_hazard.png",
            "coverage.png",
        ]
    )
    from diagnostics.track_record import SHIPPED

    # the shipped track record's reliability figure is drawn by `diagnostics score` (not
    # committed); where it exists the calibration section embeds it too
    calibration = int((SHIPPED / "reliability_catalogue.png").is_file())
    assert page.count("data:image/png;base64,") == len(pngs) + calibration
    conv = small_real_fit.manifest["convergence"]
    assert f"{conv['max_rhat']:.3f} ({conv['max_rhat_at']})" in page
    assert f">{conv['divergences']}<" in page
    assert "Gate PASSED" in page if conv["passed"] else "Gate FAILED" in page
    for parameter in ("trans_coef[calm, log_move]", "qe_stress_effect", "event_hit_rate"):
        assert re.search(re.escape(parameter), page)
    assert small_real_fit.fit_id in capsys.readouterr().out
    # R-hat to the gate's precision and ESS as whole draws, from ArviZ's unrounded table
    from diagnostics.convergence import parameter_table, worst_parameters

    table = parameter_table(small_real_fit)
    worst = worst_parameters(table)
    row = table.loc[worst["largest R-hat"]]
    assert f"<td class=num>{row['r_hat']:.3f}</td>" in page
    assert f"<td class=num>{row['ess_bulk']:.0f}</td>" in page
    assert f"{worst['largest R-hat']}: largest R-hat" not in page  # it is in a figure
    assert "P(replicated >= data)" in page
    # no backtest under --backtests: the shipped track record of this model version
    assert "docs/track-record" in page and "confirmation (2020-01 on)" in page
    assert "whole period" in page


def pvalues_of(observed: dict, replicate) -> dict:
    import arviz as az
    import xarray as xr

    from diagnostics.predictive import predictive_pvalues

    reps = {k: replicate(v)[None] for k, v in observed.items()}
    return predictive_pvalues(
        az.InferenceData(
            posterior_predictive=xr.Dataset(
                {k: (("chain", "draw", f"{k}_week"), v) for k, v in reps.items()}
            ),
            observed_data=xr.Dataset({k: ((f"{k}_week",), v) for k, v in observed.items()}),
        )
    )


def test_predictive_pvalues_are_the_share_of_replications_at_or_above_the_data():
    rng = np.random.default_rng(4)
    observed = {k: rng.normal(0, 1, 60) for k in ("funding_spread_bp", "move")}
    changes = np.linspace(-1.0, 1.0, 41)  # 21 of them >= 0, one exactly 0
    shifted = pvalues_of(observed, lambda v: v[None, :] + changes[:, None])
    scaled = pvalues_of(observed, lambda v: v[None, :] * (1 + 0.5 * changes[:, None]))
    for name in observed:
        for stat in ("mean", "5th percentile", "95th percentile", "largest week"):
            assert shifted[name][stat]["p_value"] == pytest.approx(21 / 41)
        assert scaled[name]["sd"]["p_value"] == pytest.approx(21 / 41)
        assert shifted[name]["mean"]["observed"] == pytest.approx(observed[name].mean())


def test_review_of_a_broken_fit_is_a_clear_error(tmp_path, capsys):
    assert main(["review", "--fit", str(tmp_path / "nothing"), "--out", str(tmp_path)]) == 2
    assert "no fit at" in capsys.readouterr().err


def test_entry_curve_is_the_transition_formula(small_real_fit):
    inputs = small_real_fit.inputs()
    params = parameters(small_real_fit.idata.posterior)
    curves = entry_curves(small_real_fit, n_points=7)
    k = inputs.drivers.index("funding_spread")
    c = curves["funding_spread"]
    grid = (c["x"] - inputs.driver_mean[k]) / inputs.driver_sd[k]
    expected = sigmoid(
        params["trans_intercept"][:, 0, None] + params["trans_coef"][:, 0, k, None] * grid[None, :]
    )
    np.testing.assert_allclose(c["mean"], expected.mean(0))
    assert (c["q05"] <= c["mean"]).all() and (c["mean"] <= c["q95"]).all()
    observed = inputs.x[:, k][~np.isnan(inputs.x[:, k])]
    assert grid[0] == pytest.approx(observed.min()) and grid[-1] == pytest.approx(observed.max())


def test_qe_hazard_is_blank_exactly_when_not_at_risk(small_real_fit):
    hazard = qe_hazard(small_real_fit)
    at_risk = small_real_fit.inputs().obs["at_risk"] > 0
    assert hazard["mean"].isna().to_numpy().tolist() == (~at_risk).tolist()
    risky = hazard[at_risk]
    assert ((risky["q05"] <= risky["mean"]) & (risky["mean"] <= risky["q95"])).all()
    assert ((risky["mean"] > 0) & (risky["mean"] < 1)).all()
