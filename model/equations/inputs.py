"""Panel -> the arrays the model reads (one place that decides scaling and masks).

- drivers are standardized over their observed weeks (mean, sd stored with the fit so that
  forecasts and scenarios use the same scale); missing stays NaN (integrated out under
  the AR(1), model/equations/missing.py);
- ``funding`` is the weekly maximum funding spread in units of 10bp, ``move`` log MOVE or,
  with ``ModelConfig.move_observable == "jump"``, log MOVE over its median of the previous
  52 weeks (:func:`move_observable`); missing weeks have mask 0 and contribute nothing;
- events come from the catalogue or, with ``ModelConfig.events == "objective"``, from the
  objective episode rules (:mod:`data.episodes`: funding episodes label the funding kind,
  volatility episodes the market kind); QE arrays from the catalogue; week 0 is never at
  risk (no lagged x).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from data.catalogue import liquidity_event_weeks, qe_weeks
from data.drivers import OPTIONAL
from data.episodes import episode_weeks, trailing_median
from data.errors import DataError
from data.panel import Panel
from model.equations.config import ModelConfig

FUNDING_UNIT_BP = 10.0

#: The jump observable's reference: the median weekly mean MOVE of the previous year, known
#: once half of those weeks are observed (earlier weeks are missing, never filled).
MOVE_JUMP_WINDOW_WEEKS = 52
MOVE_JUMP_MIN_WEEKS = 26

#: The funding spread is a difference of rates published in percent to two decimals (SOFR,
#: EFFR, DFF, IORB, IOER, DFEDTARU), so every weekly maximum is a whole number of basis
#: points: on the full history 1,069 observed weeks take 122 distinct values (63 weeks at
#: exactly -16bp). See :data:`FUNDING_ROUNDING_VAR`.
FUNDING_RESOLUTION_BP = 1.0

#: Variance of the rounding error, U(-h/2, h/2) with h the resolution, in the model's
#: units (10bp)^2: h^2 / 12 (Sheppard). The funding emission adds it to its scale
#: (``model.equations.likelihood.log_emissions``); without it the density of tied values is
#: unbounded as the calm sd goes to 0, and the posterior is improper.
FUNDING_ROUNDING_VAR = (FUNDING_RESOLUTION_BP / FUNDING_UNIT_BP) ** 2 / 12.0


@dataclass
class ModelInputs:
    weeks: pd.DatetimeIndex
    drivers: tuple[str, ...]
    x: np.ndarray  # (T, K) standardized, NaN where missing
    driver_mean: np.ndarray  # (K,) original units
    driver_sd: np.ndarray  # (K,)
    obs: dict[str, np.ndarray]
    #: What ``obs["move"]`` holds (:data:`model.equations.config.MOVE_OBSERVABLES`).
    move_observable: str = "level"
    #: (T,) weekly statistics of the stress observables in their own units, NaN where
    #: unknown: ``move`` (weekly mean, index points; the level the jump observable is
    #: relative to, which the forecast's simulated MOVE continues), ``move_max`` (the
    #: week's highest close: the volatility-episode rule reads it) and ``funding_spread``
    #: (weekly mean, bp; what a scenario's funding path starts from). Kept whether or not
    #: they are also drivers; a fit made before they were stored has fewer or None.
    stress_levels: dict[str, np.ndarray] | None = None

    @property
    def n_weeks(self) -> int:
        return len(self.weeks)

    def missing_index(self) -> dict[str, np.ndarray]:
        return {d: np.flatnonzero(np.isnan(self.x[:, k])) for k, d in enumerate(self.drivers)}


def event_kinds(
    panel: Panel, weeks: pd.DatetimeIndex, source: str
) -> tuple[np.ndarray, np.ndarray]:
    """(funding kind, market kind) 0/1 per week from the chosen event definition."""
    if source == "catalogue":
        events = liquidity_event_weeks(weeks)
        return (
            events["funding"].to_numpy(dtype=float),
            events["market_functioning"].to_numpy(dtype=float),
        )
    if source == "objective":
        episodes = episode_weeks(panel).loc[weeks]
        return (
            episodes["funding"].to_numpy(dtype=float),
            episodes["volatility"].to_numpy(dtype=float),
        )
    raise DataError(
        "--events", f"unknown event definition {source!r}", expected="catalogue or objective"
    )


def model_inputs(
    panel: Panel, config: ModelConfig, scale: tuple[np.ndarray, np.ndarray] | None = None
) -> ModelInputs:
    """The model's arrays; ``scale`` (mean, sd) reuses a fit's standardization.

    A forecast made with a stored fit's parameters on newer data must standardize the new
    weeks exactly as the fit did, or every coefficient would mean something else.
    """
    frame = panel.frame.loc[config.start :]
    weeks = pd.DatetimeIndex(frame.index)
    raw = frame[list(config.drivers)].to_numpy(dtype=float)
    check_drivers_observed(frame, config.drivers)
    if scale is None:
        mean, sd = np.nanmean(raw, axis=0), np.nanstd(raw, axis=0)
    else:
        mean, sd = (np.asarray(a, dtype=float) for a in scale)
    x = (raw - mean) / sd
    funding = frame["funding_spread_max"].to_numpy() / FUNDING_UNIT_BP
    move = move_observable(panel.frame["move"], config.move_observable).loc[weeks].to_numpy()
    event_funding, event_market = event_kinds(panel, weeks, config.events)
    qe = qe_weeks(weeks, config.qe_definition)
    at_risk = qe["at_risk"].to_numpy(dtype=float)
    at_risk[0] = 0.0
    obs = {
        "funding": np.nan_to_num(funding),
        "funding_mask": (~np.isnan(funding)).astype(float),
        "move": np.nan_to_num(move),
        "move_mask": (~np.isnan(move)).astype(float),
        "event_funding": event_funding,
        "event_market": event_market,
        "at_risk": at_risk,
        "restart": qe["restart"].to_numpy(dtype=float),
    }
    levels = {k: frame[k].to_numpy(dtype=float) for k in STRESS_LEVELS}
    return ModelInputs(
        weeks, tuple(config.drivers), x, mean, sd, obs, config.move_observable, levels
    )


def move_observable(move: pd.Series, kind: str) -> pd.Series:
    """The MOVE emission's observable from the weekly mean MOVE (NaN where unknown).

    ``jump`` divides by the median of the *previous* weeks only, so week t's value uses
    nothing published after week t and is the same in every later vintage of the panel.
    """
    if kind == "level":
        return np.log(move)
    if kind == "jump":
        reference = trailing_median(move, MOVE_JUMP_WINDOW_WEEKS, MOVE_JUMP_MIN_WEEKS)
        return np.log(move / reference)
    raise DataError(
        "--move-observable", f"unknown MOVE observable {kind!r}", expected="level or jump"
    )


#: The observation arrays of :attr:`ModelInputs.obs` (stored with every fit under these names).
OBSERVATION_ARRAYS = (
    "funding",
    "funding_mask",
    "move",
    "move_mask",
    "event_funding",
    "event_market",
    "at_risk",
    "restart",
)

#: The stress observables' weekly means kept with every fit (:attr:`ModelInputs.stress_levels`).
STRESS_LEVELS = ("move", "move_max", "funding_spread")


#: A driver needs at least this many observed weeks to be standardized and modelled.
MIN_OBSERVED_WEEKS = 26


def check_drivers_observed(frame: pd.DataFrame, drivers: tuple[str, ...]) -> None:
    """Refuse a driver with (almost) no observations up to the cut-off.

    Its scale would be undefined and its whole path a prior draw; an as-known panel before
    the CFTC history starts is the usual case, and the backtest then leaves that driver out
    (a config with fewer drivers) rather than fitting pure noise.
    """
    for driver in drivers:
        n = int(frame[driver].notna().sum())
        if n < MIN_OBSERVED_WEEKS:
            raise DataError(
                f"series {driver}",
                f"only {n} observed weeks",
                where=f"{frame.index[0].date()}..{frame.index[-1].date()}",
                expected=f"at least {MIN_OBSERVED_WEEKS} to use it as a driver; "
                + (
                    "supply its input first (python -m data refresh --swap-file FILE) or "
                    "drop --with-driver"
                    if driver in OPTIONAL_NAMES
                    else f"leave it out for this cut-off: fit.py --without-driver {driver}"
                ),
            )


#: Drivers a fit adds on request; a missing input is supplied, not left out.
OPTIONAL_NAMES = frozenset(d.name for d in OPTIONAL)


def lag_once(x: np.ndarray) -> np.ndarray:
    """x_{t-1} aligned to week t (row 0 repeats row 0; it is never used)."""
    return np.concatenate([x[..., :1, :], x[..., :-1, :]], axis=-2)
