"""A stored fit as the object the product's questions are asked of.

A statsmodels results object answers ``apply`` (the same parameters on other data),
``forecast`` and ``news`` (a forecast's revision split by cause); :class:`FittedModel`
answers the same three for a liqshock fit. The committee's forecast (``forecast.py``), the
revision on its page (:mod:`outlook.revision`) and every backtest origin
(:mod:`diagnostics.evaluation.runner`) call these methods, so "old parameters on new data"
and "where a forecast starts" are written once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from data.defaults import DEFAULT_SEED, HORIZON_WEEKS
from data.panel import Panel
from model.equations.inputs import ModelInputs, model_inputs
from model.equations.posterior import parameters
from model.records.store import Fit, FitError, load_fit
from outlook.forecast import forecast_record, headline, start_state_of
from outlook.projection import StartState
from outlook.scenarios import Scenario


def draw_index(n_available: int, draws: int | None, seed: int) -> np.ndarray:
    """``draws`` of the ``n_available`` posterior draws, at random without replacement
    (all of them when ``draws`` is None or at least as many)."""
    if draws is None or draws >= n_available:
        return np.arange(n_available)
    return np.sort(np.random.default_rng(seed).choice(n_available, draws, replace=False))


def in_units_of(data: ModelInputs, reference: ModelInputs) -> ModelInputs:
    """``data`` standardized with ``reference``'s driver means and sds: a fit's parameters
    are in the standardized units of its own data, so another vintage's drivers must be
    put in those units before the fit's parameters can read them."""
    if data.drivers != reference.drivers:
        raise ValueError(f"drivers differ: {data.drivers} vs {reference.drivers}")
    raw = data.x * data.driver_sd + data.driver_mean
    return replace(
        data,
        x=(raw - reference.driver_mean) / reference.driver_sd,
        driver_mean=reference.driver_mean,
        driver_sd=reference.driver_sd,
    )


@dataclass(frozen=True)
class FittedModel:
    """A fit's posterior draws on some data: by default the data it was fit to.

    ``own_data`` is False after :meth:`apply`: the regime probabilities are then filtered
    through the new data with the fit's parameters instead of read from the stored fit.
    """

    fit: Fit
    data: ModelInputs
    own_data: bool = True

    @classmethod
    def of(cls, fit: Fit) -> FittedModel:
        return cls(fit, fit.inputs())

    @classmethod
    def load(cls, path: Path, allow_unconverged: bool = False) -> FittedModel:
        """The fit at ``path``; one that failed the gate only when a review copy is asked
        for (``allow_unconverged``)."""
        fit = load_fit(path)
        convergence = fit.manifest["convergence"]
        if not convergence["passed"] and not allow_unconverged:
            raise FitError(
                f"{path}: fit {fit.fit_id} failed the convergence gate ("
                + "; ".join(convergence["failures"])
                + "); refit, or pass --allow-unconverged for a marked review copy"
            )
        return cls.of(fit)

    def apply(self, data: ModelInputs) -> FittedModel:
        """The same parameter draws on ``data`` (another vintage, a longer history), put in
        this fit's standardized units. ``ValueError`` if ``data`` has other drivers."""
        return FittedModel(self.fit, in_units_of(data, self.fit.inputs()), own_data=False)

    def apply_panel(self, panel: Panel) -> FittedModel:
        """The same parameter draws on ``panel`` (the data as known at a backtest origin),
        standardized exactly as the fit's own data were."""
        const = self.fit.idata.constant_data
        scale = (const["driver_mean"].to_numpy(), const["driver_sd"].to_numpy())
        data = model_inputs(panel, self.fit.config, scale=scale)
        return FittedModel(self.fit, data, own_data=False)

    @property
    def n_draws(self) -> int:
        posterior = self.fit.idata.posterior
        return posterior.sizes["chain"] * posterior.sizes["draw"]

    def start(self, take: np.ndarray, seed: int) -> StartState:
        """Where a forecast starts for the posterior draws ``take`` (flat chain x draw
        indices) at the end of this data (:func:`outlook.forecast.start_state_of`)."""
        posterior = self.fit.idata.posterior
        params = {k: v[take] for k, v in parameters(posterior).items()}
        stored = None
        if self.own_data:
            stored = posterior["p_stress_filtered"].isel(week=-1).to_numpy().reshape(-1)[take]
        return start_state_of(params, self.data, self.fit.config, seed, stored)

    def forecast(
        self,
        horizon: int = HORIZON_WEEKS,
        draws: int | None = None,
        seed: int = DEFAULT_SEED,
        scenarios: list[Scenario] = (),
    ) -> dict:
        """The forecast record (``forecast.json``) over ``horizon`` weeks from ``draws``
        posterior draws (all: None), with each scenario beside the baseline."""
        start = self.start(draw_index(self.n_draws, draws, seed), seed)
        return forecast_record(self.fit, self.data, start, horizon, seed, scenarios)

    def news(self, previous: FittedModel, horizon: int, draws: int | None, seed: int) -> dict:
        """How the forecast moved since ``previous``, split as statsmodels' ``news`` splits
        a revision: ``recomputed`` is the previous fit on its own data with today's code
        (what changed with the code), ``previous_parameters_new_data`` the previous fit's
        parameters on this fit's data (new and revised data); the rest, up to this fit's
        own forecast, is re-estimation. ``ValueError`` if the driver sets differ."""
        recomputed = headline(previous.forecast(horizon, draws, seed))
        new_data = headline(previous.apply(self.data).forecast(horizon, draws, seed))
        return {"recomputed": recomputed, "previous_parameters_new_data": new_data}
