"""What changed since the previous passing fit: the numbers its report showed, and the
revision split into code, new data and re-estimation (as statsmodels' ``news`` splits a
forecast revision)."""

from __future__ import annotations

import json
from pathlib import Path

from model.records.store import Fit, FitError, load_fit, previous_passing
from outlook.forecast import headline, inputs_from_fit, make_forecast


def compare_with_previous(
    fit: Fit, reports: list[Path], horizon: int, draws: int | None, seed: int
) -> dict:
    """What changed since the previous passing fit, for the page.

    ``"previous"``: its headline numbers as its report showed them, read from its stored
    ``forecast.json`` in the first of ``reports`` that holds one (not recomputed with
    today's code); recomputed and
    marked ``"source": "recomputed"`` only when no report of it was stored.

    ``"revision"``: the change split as statsmodels' ``news`` splits a forecast revision,
    when the previous fit can be loaded: its parameters on its own data with today's code
    (``recomputed``), its parameters on this fit's data (``previous_parameters_new_data``:
    new and revised data), then this fit (re-estimation). The comparison never stops the
    forecast of the fit that was asked for; why a step is missing goes under
    ``"previous_unavailable"`` or ``"revision_unavailable"``.
    """
    previous_id = previous_passing(fit.path.parent, fit.fit_id)
    if not previous_id:
        return {}
    out: dict = {}
    for stored in (root / previous_id / "forecast.json" for root in reports):
        try:
            shown = json.loads(stored.read_text())
            out["previous"] = {**headline(shown), "source": "stored", "report": str(stored)}
            break
        except (OSError, ValueError, KeyError, TypeError):
            continue
    try:
        previous = load_fit(fit.path.parent / previous_id)
    except FitError as exc:
        out["previous_unavailable" if "previous" not in out else "revision_unavailable"] = str(exc)
        return out
    forecast_args = (horizon, draws, seed)
    recomputed = headline(make_forecast(previous, *forecast_args))
    out.setdefault("previous", {**recomputed, "source": "recomputed"})
    try:
        new_data = make_forecast(previous, *forecast_args, data=inputs_from_fit(fit))
    except ValueError as exc:  # another driver set: the old parameters cannot read the data
        out["revision_unavailable"] = str(exc)
        return out
    out["revision"] = {
        "recomputed": recomputed,
        "previous_parameters_new_data": headline(new_data),
    }
    return out
