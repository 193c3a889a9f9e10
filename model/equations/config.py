"""Model configuration and its identity (hash), stamped into every stored fit.

A fit is only loadable by code whose ``MODEL_VERSION`` and config hash match: change the
equations, priors or inputs and old fits are refused with a named error instead of being
read with the wrong meaning.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from data.defaults import DEFAULT_QE_DEFINITION, DEFAULT_START
from data.drivers import DRIVER_ORDER, variant_of

#: Bump when the equations in model/equations/likelihood.py or model/equations/build.py
#: change meaning.
MODEL_VERSION = "4.1"

#: sd of a driver's first week when that week is missing (standardized units, so 1 is the
#: driver's observed sd). Not the AR(1)'s stationary sd sigma / sqrt(1 - phi^2): with the
#: basis driver's phi near 0.999 that sd grows without bound and, with a 470-week gap
#: opening the sample, makes a funnel in (phi, first shock) where every divergent draw of
#: the full refit sat (version 2.1: all 5 at phi in the top 9% of its posterior).
LATENT_START_SD = 1.0


#: Priors: name -> (distribution, parameters). Reasons are in docs/model.md.
DEFAULT_PRIORS: dict[str, tuple[str, tuple[float, ...]]] = {
    "trans_intercept_calm": ("Normal", (-5.0, 0.75)),  # enter stress ~0.7%/week at mean x
    "trans_intercept_stress": ("Normal", (3.0, 1.0)),  # stay in stress ~95%/week
    "trans_coef": ("Normal", (0.0, 0.35)),  # per sd of a driver, on log-odds
    "funding_mu_calm": ("Normal", (0.0, 1.0)),  # units of 10bp
    "funding_shift": ("HalfNormal", (3.0,)),
    "funding_sigma_calm": ("HalfNormal", (2.0,)),
    "funding_sigma_extra": ("HalfNormal", (2.0,)),  # stress sd = calm sd + extra
    "funding_nu": ("Gamma", (2.0, 0.1)),
    "move_mu_calm": ("Normal", (4.4, 0.5)),  # log MOVE; exp(4.4) ~ 80
    "move_shift": ("HalfNormal", (0.5,)),
    "move_sigma_calm": ("HalfNormal", (0.3,)),
    "move_sigma_extra": ("HalfNormal", (0.3,)),
    "stress_type_weights": ("Dirichlet", (2.0, 2.0, 2.0)),
    "event_false_rate": ("Beta", (1.0, 500.0)),  # an event starts in a calm week
    "event_hit_rate": ("Beta", (1.0, 9.0)),  # an event starts in a stressed week
    "event_continue": ("Beta", (3.0, 1.0)),  # an event under way lasts another week
    "qe_intercept": ("Normal", (-7.0, 0.75)),  # ~0.1%/week at mean x, calm
    "qe_stress_effect": ("Normal", (1.5, 1.0)),  # stress raises the hazard
    "qe_coef": ("Normal", (0.0, 0.35)),
    "ar_mu": ("Normal", (0.0, 0.5)),
    "ar_phi": ("Beta", (20.0, 1.5)),  # weekly drivers are persistent
    "ar_sigma": ("HalfNormal", (0.5,)),
}

#: What the MOVE emission reads. ``level``: log MOVE (the weekly mean close), so the stress
#: regime is a high-volatility *level* state (47% of weeks since 2006). ``jump``: log of
#: MOVE over its median of the previous 52 weeks, so stress is a volatility *jump* relative
#: to the trailing year and a long high-volatility period (2022-24) is not one stress spell.
MOVE_OBSERVABLES = ("level", "jump")

#: The MOVE emission's priors when it reads the jump (log ratio to the trailing-year median,
#: about 0 in calm weeks; a week 35% above its year's median is +0.3): calm centred on no
#: jump, a stressed week some tenths of a log point higher and more dispersed.
JUMP_MOVE_PRIORS: dict[str, tuple[str, tuple[float, ...]]] = {
    "move_mu_calm": ("Normal", (0.0, 0.2)),
    "move_shift": ("HalfNormal", (0.5,)),
    "move_sigma_calm": ("HalfNormal", (0.2,)),
    "move_sigma_extra": ("HalfNormal", (0.3,)),
}


def default_priors(move_observable: str = "level") -> dict[str, tuple[str, tuple[float, ...]]]:
    """The priors of a model whose MOVE emission reads ``move_observable``."""
    if move_observable not in MOVE_OBSERVABLES:
        raise ValueError(
            f"unknown MOVE observable {move_observable!r}; expected one of {MOVE_OBSERVABLES}"
        )
    priors = dict(DEFAULT_PRIORS)
    if move_observable == "jump":
        priors.update(JUMP_MOVE_PRIORS)
    return priors


@dataclass(frozen=True)
class ModelConfig:
    qe_definition: str = DEFAULT_QE_DEFINITION
    start: str = DEFAULT_START
    drivers: tuple[str, ...] = DRIVER_ORDER
    initial_stress_probability: float = 0.1
    #: None: :func:`default_priors` for this config's ``move_observable``.
    priors: dict | None = None
    version: str = MODEL_VERSION
    #: What the event emission is trained on: the catalogue's counted events or the
    #: objective episodes of data/episodes.py (see model/equations/inputs.py).
    events: str = "catalogue"
    #: sd of the N(0, sd) prior on each driver's effect on an event onset's log-odds (per
    #: driver sd); 0: onsets depend on the regime alone (model 4.1's default). Nine
    #: catalogued onsets cannot support loose coefficients, hence a tight prior when on.
    event_coef_prior_sd: float = 0.0
    #: What the MOVE emission reads (:data:`MOVE_OBSERVABLES`). ``jump`` since the second
    #: pre-registered round of the dense backtest chose it (``docs/backtest.md``); ``level``
    #: configs keep the identity of the fits made before the choice existed.
    move_observable: str = "jump"

    def __post_init__(self) -> None:
        if self.priors is None:
            object.__setattr__(self, "priors", default_priors(self.move_observable))

    @property
    def variant(self) -> str:
        """``default`` or ``vulnerability``: whether the transitions read stress observables
        (one source of truth: the drivers, :func:`data.drivers.variant_of`)."""
        return variant_of(self.drivers)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["drivers"] = list(self.drivers)
        d["priors"] = {k: [v[0], list(v[1])] for k, v in self.priors.items()}
        # fits of the original design keep the identity they had before these choices existed
        if self.events == "catalogue":
            d.pop("events")
        if self.event_coef_prior_sd == 0.0:
            d.pop("event_coef_prior_sd")
        if self.move_observable == "level":
            d.pop("move_observable")
        return d

    def digest(self) -> str:
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        return cls(
            qe_definition=d["qe_definition"],
            start=d["start"],
            drivers=tuple(d["drivers"]),
            initial_stress_probability=d["initial_stress_probability"],
            priors={k: (v[0], tuple(v[1])) for k, v in d["priors"].items()},
            version=d["version"],
            events=d.get("events", "catalogue"),
            event_coef_prior_sd=d.get("event_coef_prior_sd", 0.0),
            move_observable=d.get("move_observable", "level"),
        )
