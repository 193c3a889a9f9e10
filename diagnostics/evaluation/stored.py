"""What a resumed backtest reads back: its spec file and its per-origin records, verified.

A record left by an earlier run is reused only if it parses and has the shape its stage
writes (probabilities in [0, 1], flags as booleans, the fields the scores read). A truncated
or edited record is redone, and the run says which and why; a corrupt spec file or an
``--out`` that is a file is a clear error, never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from numbers import Real
from pathlib import Path


class BacktestError(RuntimeError):
    """The output directory belongs to a different backtest, is unusable, or the origins
    are empty."""


def output_dir(out: Path) -> Path:
    """``out`` as a directory the backtest may write into (refused when it is a file)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BacktestError(f"--out {out} is a file; give a directory")
    return out


def read_spec(path: Path) -> dict | None:
    """The spec a directory's earlier run stored, None when there is none."""
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise BacktestError(
            f"{path}: unreadable backtest spec ({exc}); remove the directory or use another --out"
        ) from None


def _probability(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and 0.0 <= value <= 1.0


def refit_problem(record: dict) -> str | None:
    """Why a refit record cannot be reused (None: it can)."""
    for key, kind in (("origin", str), ("fit_id", str), ("gate_passed", bool)):
        if not isinstance(record.get(key), kind):
            return f"{key} missing or not a {kind.__name__}"
    return None


def forecast_problem(record: dict) -> str | None:
    """Why a forecast record cannot be reused (None: it can)."""
    if not isinstance(record.get("origin"), str) or not isinstance(record.get("horizon"), int):
        return "origin or horizon missing"
    for name, model in (record.get("models") or {}).items():
        if model is not None and not all(
            _probability(model.get(k, {}).get(q))
            for k in ("p_event", "p_restart")
            for q in ("mean", "q05", "q95")
        ):
            return f"model {name}: a probability outside [0, 1] or missing"
    targets = record.get("targets")
    if not isinstance(targets, dict) or not targets:
        return "no baseline forecasts"
    for target, base in targets.items():
        if not _probability(base.get("climatology")):
            return f"{target} climatology outside [0, 1]"
        logit = base.get("bayes_logit")
        if logit is not None and not _probability(logit):
            return f"{target} Bayesian logit outside [0, 1]"
    ms_tvtp = record.get("ms_tvtp")
    if ms_tvtp is not None and not _probability(ms_tvtp):
        return "MS-TVTP outside [0, 1]"
    if "realized" not in record:
        return "no outcomes"
    return None


def reusable(
    folder: Path, origins: list[str], problem: Callable[[dict], str | None], log=print
) -> dict[str, dict]:
    """The stored records of ``origins`` that can be reused; the others are to be redone
    (a line each says why)."""
    out = {}
    for origin in origins:
        path = Path(folder) / f"{origin}.json"
        if not path.is_file():
            continue
        try:
            record = json.loads(path.read_text())
            reason = problem(record) if isinstance(record, dict) else "not a JSON object"
        except (OSError, ValueError) as exc:
            reason = f"unreadable ({exc.__class__.__name__})"
        if reason is None:
            out[origin] = record
        else:
            log(f"  {path}: {reason}; redone")
    return out
