"""One dense backtest end to end, as ``python -m diagnostics backtest`` runs it: gated refits
(:mod:`.refits`), every forecaster at every origin (:mod:`.runner`), then the scores
(:mod:`.report`), with each stage's wall time kept in the report's meta."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from data.atomic import atomic_write_text
from diagnostics.evaluation.records import forecast_table
from diagnostics.evaluation.refits import RefitRun, RefitSpec, default_origins, run_refits
from diagnostics.evaluation.report import FILES, write_report
from diagnostics.evaluation.runner import (
    ForecastSpec,
    forecast_origins,
    onset_dates,
    run_forecasts,
    series_summary,
)


@dataclass(frozen=True)
class Schedule:
    """When to refit and when to forecast: from ``start`` (to ``end``, or the last origin
    whose window is in the data), refits every ``refit_every``, origins every ``every``."""

    start: str
    refit_every: str = "year"
    every: str = "month"
    end: str | None = None


@dataclass
class BacktestRun:
    refits: RefitRun
    records: list[dict]
    origins: list[str]
    report: dict[str, Path]
    #: wall seconds of this run's stages (a resumed run counts only what it computed)
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def refused(self) -> int:
        return sum(not r["gate_passed"] for r in self.refits.records)


def run_backtest(
    refit: RefitSpec, forecasts: ForecastSpec, schedule: Schedule, out: Path, **run
) -> BacktestRun:
    """Refits, forecasts and scores into ``out`` (resumable: stored refits and origin
    records are reused). ``run``: ``scheduler``, ``n_workers``, ``serial`` (Dask)."""
    out = Path(out)
    stages: dict[str, float] = {}
    started = time.perf_counter()
    refit_dates = default_origins(refit, schedule.start, schedule.refit_every, schedule.end)
    refits = run_refits(refit, refit_dates, out, **run)
    stages["refits"] = round(time.perf_counter() - started, 1)
    origins = forecast_origins(forecasts, schedule.start, schedule.every, schedule.end)
    records = run_forecasts(forecasts, origins, out / "dense", **run)
    stages["forecasts"] = round(time.perf_counter() - started - stages["refits"], 1)
    result = BacktestRun(refits, records, origins, {}, stages)
    scoring = time.perf_counter()
    meta = backtest_meta(result, forecasts, schedule)
    result.report = write_report(
        forecast_table(records), out / "dense", meta, onset_dates(forecasts, origins[0])
    )
    stages["scores"] = round(time.perf_counter() - scoring, 1)
    write_stage_seconds(out / "dense", stages)
    return result


def backtest_meta(result: BacktestRun, forecasts: ForecastSpec, schedule: Schedule) -> dict:
    """What the backtest's report says of how it was run."""
    origins, refits = result.origins, result.refits
    return {
        "description": f"{len(result.records)} origins every {schedule.every} from "
        f"{origins[0]} to {origins[-1]}; {len(refits.records)} refits every "
        f"{schedule.refit_every}, {result.refused} refused by the gate (the previous passing "
        "refit serves instead; an origin before any passing refit has no model forecast and "
        f"is listed); horizon {forecasts.horizon} weeks.",
        "refit_seconds": refits.seconds,
        "stage_seconds": result.stage_seconds,
        "series": series_summary(forecasts),
    }


def write_stage_seconds(dense: Path, stages: dict) -> None:
    """Put the scoring stage's time into the meta the report wrote (it is known only after)."""
    path = dense / FILES["meta"]
    meta = json.loads(path.read_text())
    meta["stage_seconds"] = stages
    atomic_write_text(path, json.dumps(meta, indent=2))
