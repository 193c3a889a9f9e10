"""The convergence gate judges the diagnostics themselves, not their rounded display."""

from __future__ import annotations

import arviz as az
import numpy as np

from model.inference.gate import convergence_report
from model.inference.settings import GateThresholds


def draws_with_one_chain_shifted(shift: float) -> az.InferenceData:
    """4 chains x 1000 independent N(0, 1) draws, the last chain's mean moved by ``shift``
    (machinery only: a known between-chain disagreement, not market data)."""
    x = np.random.default_rng(7).normal(size=(4, 1000))
    x[3] += shift
    return az.from_dict(
        posterior={"a": x}, sample_stats={"diverging": np.zeros((4, 1000), dtype=bool)}
    )


def test_an_rhat_that_rounds_to_the_threshold_but_exceeds_it_fails_the_gate():
    idata = draws_with_one_chain_shifted(0.28)
    rhat = float(az.rhat(idata)["a"])
    assert 1.01 < rhat < 1.015  # displays as "1.01" at two decimals
    report = convergence_report(idata, ["a"], GateThresholds(max_rhat=1.01))
    assert not report["passed"]
    assert report["max_rhat"] == rhat
    assert any(f.startswith("R-hat 1.012") for f in report["failures"])


def test_chains_that_agree_pass_and_the_report_names_the_worst_scalar():
    idata = draws_with_one_chain_shifted(0.0)
    report = convergence_report(idata, ["a"])
    assert report["passed"] and report["failures"] == []
    assert report["max_rhat"] < 1.01 and report["max_rhat_at"] == "a"
    assert report["min_ess_bulk"] > 400 and report["min_ess_tail"] > 400


def test_a_parameter_whose_chains_never_moved_fails_the_gate():
    """Its R-hat and ESS are NaN, which pandas' max and min skip: the gate must not."""
    good = draws_with_one_chain_shifted(0.0)
    frozen = np.full((4, 1000), 0.5)
    idata = az.from_dict(
        posterior={"a": good.posterior["a"].to_numpy(), "b": frozen},
        sample_stats={"diverging": np.zeros((4, 1000), dtype=bool)},
    )
    assert np.isnan(float(az.rhat(idata)["b"]))
    report = convergence_report(idata, ["a", "b"])
    assert np.isfinite(report["max_rhat"])  # what the gate read before: b was skipped
    assert not report["passed"]
    assert any("NaN" in f and "b" in f for f in report["failures"])
