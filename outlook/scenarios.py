"""Conditional scenarios from a TOML file: pin, shift or scale driver paths.

Format (see ``scenarios/seed.toml``)::

    [scenarios.rate_vol_shock]
    description = "MOVE jumps to 160 and stays there"
    [scenarios.rate_vol_shock.drivers.log_move]
    mode = "pin"              # pin: the value; shift: added to the baseline path;
                              # scale: multiplies the driver's last value (relative paths)
    unit = "index points"     # must be one of the driver's accepted units below
    path = [160, 160, 160]    # one value per week from the first forecast week; the last
                              # value holds for the rest of the horizon when hold = true
    hold = true

Every value is converted to the model's standardized scale with the fit's stored driver
mean and sd. Errors name the file, the scenario, the driver and what was expected.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from data.drivers import BY_NAME

MODES = ("pin", "shift", "scale")

#: driver -> accepted unit -> function turning a path in that unit into the driver's own
#: panel unit (``pin``) or into a change in it (``shift``).
UNITS: dict[str, dict[str, Callable[[np.ndarray], np.ndarray]]] = {
    "basis_short": {"million 10Y-equivalent contracts": lambda v: v},
    "log_move": {"index points": np.log, "log index points": lambda v: v},
    "funding_spread": {"bp": lambda v: v},
    "tga_change_13w": {"$bn": lambda v: v},
    "foreign_demand_12m": {"percent": lambda v: v},
    "reserve_buffer": {"percent": lambda v: v},
}


#: Plausible values per accepted unit (pin) or for a change (shift, scale): a path outside
#: is a typo or a unit mix-up (MOVE pinned at "160" read as a log gave P(QE) 55%).
PIN_RANGES: dict[str, tuple[float, float]] = {
    "million 10Y-equivalent contracts": (-10.0, 40.0),
    "index points": (20.0, 500.0),
    "log index points": (float(np.log(20.0)), float(np.log(500.0))),
    "bp": (-200.0, 1000.0),
    "$bn": (-2000.0, 2000.0),
    "percent": (-60.0, 60.0),
}
SHIFT_RANGES: dict[str, tuple[float, float]] = {
    "million 10Y-equivalent contracts": (-40.0, 40.0),
    "log index points": (-2.5, 2.5),
    "bp": (-500.0, 1000.0),
    "$bn": (-3000.0, 3000.0),
    "percent": (-100.0, 100.0),
}
#: ``scale``: percent change of the last value, above -100% (a level cannot turn negative).
SCALE_RANGE = (-99.0, 300.0)
SCENARIO_KEYS = {"description", "drivers"}
CHANGE_KEYS = {"mode", "unit", "path", "hold"}


def plausible_range(mode: str, unit: str) -> tuple[float, float]:
    if mode == "scale":
        return SCALE_RANGE
    return (SHIFT_RANGES if mode == "shift" else PIN_RANGES)[unit]


def accepted_units(driver: str, mode: str) -> list[str]:
    """Units a path may be given in: a shift must be linear in the driver's own unit, and a
    scale applies to levels (not to log MOVE, whose log it would multiply)."""
    if mode == "scale":
        return [] if BY_NAME[driver].in_logs else ["percent"]
    if mode == "shift":
        return [u for u in UNITS[driver] if u != "index points"]
    return list(UNITS[driver])


class ScenarioError(ValueError):
    """A scenario file that cannot be applied; the message says where and why."""


@dataclass(frozen=True)
class DriverChange:
    driver: str
    mode: str
    unit: str
    path: tuple[float, ...]
    hold: bool


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    changes: tuple[DriverChange, ...]


def load_scenarios(path: Path, drivers: tuple[str, ...], horizon: int) -> list[Scenario]:
    """The scenarios of a TOML file, checked. A scenario may set the model's ``drivers`` and
    any series the project builds (:data:`UNITS`): a model that does not read one as a
    driver may still observe it (MOVE, the funding spread) or say it does not read it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read scenario file ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: malformed TOML ({exc})") from exc
    table = data.get("scenarios")
    if not isinstance(table, dict) or not table:
        raise ScenarioError(
            f"{path}: expected a [scenarios.<name>] table with at least one scenario"
        )
    return [_scenario(path, name, body, drivers, horizon) for name, body in table.items()]


def _scenario(
    path: Path, name: str, body: dict, drivers: tuple[str, ...], horizon: int
) -> Scenario:
    where = f"{path}: scenario '{name}'"
    if not isinstance(body, dict):
        raise ScenarioError(f"{where}: expected a table [scenarios.{name}]")
    unknown = set(body) - SCENARIO_KEYS
    if unknown:
        raise ScenarioError(
            f"{where}: unknown key(s) {sorted(unknown)}; expected {sorted(SCENARIO_KEYS)}"
        )
    if name == "baseline":
        raise ScenarioError(f"{where}: 'baseline' is reserved for the unconditional forecast")
    changes = body.get("drivers")
    if not isinstance(changes, dict) or not changes:
        raise ScenarioError(f"{where}: expected [scenarios.{name}.drivers.<driver>] tables")
    return Scenario(
        name,
        str(body.get("description", "")),
        tuple(_change(where, driver, spec, drivers, horizon) for driver, spec in changes.items()),
    )


def _change(where: str, driver: str, spec, drivers: tuple[str, ...], horizon: int) -> DriverChange:
    """One driver's change, checked: a known series, known keys, a mode, a unit the mode
    accepts, a numeric path no longer than the horizon and inside the plausible range, and
    ``hold`` said when the path is shorter than the horizon."""
    here = f"{where}, driver '{driver}'"
    known = list(dict.fromkeys([*drivers, *UNITS]))
    if driver not in known:
        raise ScenarioError(f"{here}: unknown driver; expected one of {known}")
    if not isinstance(spec, dict):
        raise ScenarioError(f"{here}: expected a table of {sorted(CHANGE_KEYS)}")
    unknown = set(spec) - CHANGE_KEYS
    if unknown:
        raise ScenarioError(
            f"{here}: unknown key(s) {sorted(unknown)}; expected {sorted(CHANGE_KEYS)}"
        )
    mode = spec.get("mode")
    if mode not in MODES:
        raise ScenarioError(f"{here}: mode {mode!r}; expected one of {list(MODES)}")
    unit = spec.get("unit")
    accepted = accepted_units(driver, mode)
    if unit not in accepted:
        raise ScenarioError(
            f"{here}: unit {unit!r} not accepted for mode '{mode}'; expected one of {accepted}"
        )
    values = spec.get("path")
    if (
        not isinstance(values, list)
        or not values
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    ):
        raise ScenarioError(f"{here}: 'path' must be a non-empty list of numbers")
    if len(values) > horizon:
        raise ScenarioError(
            f"{here}: path has {len(values)} weeks, longer than the {horizon}-week horizon"
        )
    low, high = plausible_range(mode, unit)
    outside = [v for v in values if not low <= v <= high]  # NaN and inf fail too
    if outside:
        raise ScenarioError(
            f"{here}: value {outside[0]} outside the plausible range {low:g}..{high:g} "
            f"{unit} for mode '{mode}'"
        )
    hold = spec.get("hold")
    if hold is None and len(values) < horizon:
        raise ScenarioError(
            f"{here}: the path is shorter than the {horizon}-week horizon; say with "
            "hold = true or false whether its last value holds for the rest"
        )
    if hold is not None and not isinstance(hold, bool):
        raise ScenarioError(f"{here}: hold must be true or false, got {hold!r}")
    return DriverChange(driver, mode, unit, tuple(float(v) for v in values), bool(hold))


def scenario_arrays(
    scenario: Scenario,
    drivers: tuple[str, ...],
    horizon: int,
    driver_mean: np.ndarray,
    driver_sd: np.ndarray,
    x_last: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Standardized ``pinned`` and ``shifted`` arrays (D, H, K) for projection.

    ``scale`` paths are percentages of each draw's last value of the driver in its own
    unit (-30 means 30% lower), pinned from the first week.
    """
    n_draws = len(x_last)
    pinned = np.full((n_draws, horizon, len(drivers)), np.nan)
    shifted = np.zeros((n_draws, horizon, len(drivers)))
    for change in scenario.changes:
        if change.driver not in drivers:
            continue  # not a driver of this model: observed or not read (scenario_kind)
        k = drivers.index(change.driver)
        values = np.asarray(change.path)
        weeks = horizon if change.hold else len(values)
        values = np.concatenate([values, np.full(weeks - len(values), values[-1])])
        if change.mode == "scale":
            last = x_last[:, k] * driver_sd[k] + driver_mean[k]  # own unit
            level = last[:, None] * (1 + values[None, :] / 100)
            pinned[:, :weeks, k] = (level - driver_mean[k]) / driver_sd[k]
        elif change.mode == "pin":
            level = UNITS[change.driver][change.unit](values)
            pinned[:, :weeks, k] = (level - driver_mean[k]) / driver_sd[k]
        else:
            shifted[:, :weeks, k] = UNITS[change.driver][change.unit](values) / driver_sd[k]
    return pinned, shifted


def assumed_path(scenario: Scenario, name: str, horizon: int, last: float) -> np.ndarray:
    """(H,) the path a scenario writes for series ``name``, in its panel unit, taken from
    ``last`` (its last observed value): a pin is the value, a shift is added to ``last``, a
    scale multiplies it; NaN in the weeks the scenario does not set."""
    pinned, shifted = scenario_arrays(
        scenario, (name,), horizon, np.zeros(1), np.ones(1), np.array([[last]])
    )
    pin, shift = pinned[0, :, 0], shifted[0, :, 0]
    path = np.where(np.isnan(pin), last + shift, pin)
    return np.where(~np.isnan(pin) | (shift != 0), path, np.nan)
