"""What changed since the previous passing fit: the numbers its report showed, and the
revision split into code, new data and re-estimation (:meth:`outlook.fitted.FittedModel.news`)."""

from __future__ import annotations

import json
from pathlib import Path

from model.records.store import FitError, load_fit, previous_passing
from outlook.fitted import FittedModel
from outlook.forecast import headline


def stored_headline(reports: list[Path], fit_id: str) -> dict | None:
    """The headline numbers of ``fit_id``'s report as it was shown, from the first of
    ``reports`` that holds its ``forecast.json`` (not recomputed with today's code)."""
    for stored in (root / fit_id / "forecast.json" for root in reports):
        try:
            shown = json.loads(stored.read_text())
            return {**headline(shown), "source": "stored", "report": str(stored)}
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return None


def compare_with_previous(
    current: FittedModel, reports: list[Path], horizon: int, draws: int | None, seed: int
) -> dict:
    """What changed since the previous passing fit, for the page.

    ``"previous"``: its headline numbers as its report showed them (:func:`stored_headline`);
    recomputed and marked ``"source": "recomputed"`` only when no report of it was stored.
    ``"revision"``: :meth:`FittedModel.news`, when the previous fit can be loaded. The
    comparison never stops the forecast of the fit that was asked for; why a step is missing
    goes under ``"previous_unavailable"`` or ``"revision_unavailable"``.
    """
    fit = current.fit
    previous_id = previous_passing(fit.path.parent, fit.fit_id)
    if not previous_id:
        return {}
    out: dict = {}
    shown = stored_headline(reports, previous_id)
    if shown is not None:
        out["previous"] = shown
    try:
        previous = FittedModel.of(load_fit(fit.path.parent / previous_id))
    except FitError as exc:
        out["previous_unavailable" if shown is None else "revision_unavailable"] = str(exc)
        return out
    if previous.data.drivers != current.data.drivers:
        # another driver set: the old parameters cannot read this fit's data
        recomputed = headline(previous.forecast(horizon, draws, seed))
        out.setdefault("previous", {**recomputed, "source": "recomputed"})
        out["revision_unavailable"] = (
            f"drivers differ: {current.data.drivers} vs {previous.data.drivers}"
        )
        return out
    news = current.news(previous, horizon, draws, seed)
    out.setdefault("previous", {**news["recomputed"], "source": "recomputed"})
    out["revision"] = news
    return out
