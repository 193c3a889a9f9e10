"""Stress-at-risk: quantile forecasts ("fans") of the stress observables, scored against
climatology and persistence on the backtest's monthly origins (pre-registered rule:
docs/backtest.md).

Targets, per observable (the week's maximum funding spread in bp; log MOVE): the value h
weeks after the origin (h = 1, 4, 13) and the maximum over the 13 weeks after it.
Forecasters, each giving the quantiles :data:`QUANTILES`:

- ``climatology``: the empirical quantiles of the target over every past origin week whose
  outcome was known at the origin (expanding);
- ``persistence``: a linear quantile regression (statsmodels ``QuantReg``) of the target on
  the observable's value at the origin and its means over the last 4 and 13 weeks (the HAR
  structure): what the series' own recent past says;
- ``driver_qr``: the persistence regressors plus the five drivers at the origin,
  standardized on the weeks known at the refit ("liquidity-at-risk", in the style of
  growth-at-risk). Its loss against persistence's is the drivers' added information.

The regressions are refit at each refit date (the first Wednesday of a year, as the model)
on the weeks whose outcome was known then; each origin uses the latest refit on or before
it and its own features. Every feature of week t is the panel's row t, which holds only
what was public that Wednesday (the panel cut at t equals the full panel's prefix:
``tests/test_no_lookahead.py``). Crossing quantiles are sorted.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from statsmodels.regression.quantile_regression import QuantReg

from data.defaults import HORIZON_WEEKS
from data.drivers import DRIVER_ORDER
from data.panel import Panel
from diagnostics.evaluation import scores
from diagnostics.evaluation.baselines import standardized_drivers

QUANTILES = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
HORIZONS = (1, 4, 13)
#: The window of the "maximum over the next weeks" target.
MAX_WINDOW = HORIZON_WEEKS
OBSERVABLES = {
    "funding_spread_max": "funding spread, weekly maximum (bp)",
    "log_move": "log MOVE (weekly mean)",
}
FORECASTERS = ("climatology", "persistence", "driver_qr")
#: The model's fan, when the backtest's records carry it (:func:`with_model`).
MODEL = "model"
#: A second model series scored beside the first (``fans --challenger``), e.g. a variant
#: judged against the default by a pre-registered rule.
CHALLENGER = "challenger"
#: Fewer training weeks than this and a regression is not fit (climatology serves).
MIN_TRAINING_WEEKS = 104
COLUMNS = [f"q{int(round(100 * t)):02d}" for t in QUANTILES]


def target_keys() -> dict[str, int]:
    """Target name -> weeks until its outcome is known."""
    return {**{f"h{h}": h for h in HORIZONS}, f"max{MAX_WINDOW}": MAX_WINDOW}


def outcomes(series: pd.Series) -> pd.DataFrame:
    """Per origin week t: the value at t+h for each h, and the maximum over t+1..t+13
    (NaN when a week of that window is missing or past the data)."""
    out = {f"h{h}": series.shift(-h) for h in HORIZONS}
    out[f"max{MAX_WINDOW}"] = (
        series.rolling(MAX_WINDOW, min_periods=MAX_WINDOW).max().shift(-MAX_WINDOW)
    )
    return pd.DataFrame(out)


def persistence_features(series: pd.Series) -> pd.DataFrame:
    """The value at t and its means over the last 4 and 13 weeks (HAR), with a constant."""
    return pd.DataFrame(
        {
            "const": 1.0,
            "now": series,
            "mean4": series.rolling(4, min_periods=3).mean(),
            "mean13": series.rolling(13, min_periods=10).mean(),
        }
    )


def quantile_fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(len(QUANTILES), k) coefficients of a linear quantile regression per quantile."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # IterationLimitWarning on flat stretches
        return np.stack([QuantReg(y, x).fit(q=tau, max_iter=2000).params for tau in QUANTILES])


def refit_models(
    panel: Panel, observable: str, refit: pd.Timestamp
) -> dict[str, tuple[dict[str, np.ndarray], pd.DataFrame]]:
    """Per regression: per target, the coefficients fitted on the weeks whose outcome was
    known at ``refit``, and its design (features of every week, scaled as at the refit)."""
    series = panel.frame[observable]
    base = persistence_features(series)
    drivers, _ = standardized_drivers(panel, DRIVER_ORDER, refit)
    designs = {"persistence": base, "driver_qr": base.join(drivers)}
    targets = outcomes(series)
    fitted: dict = {}
    for name, design in designs.items():
        coefficients = {}
        for key, lead in target_keys().items():
            known = design.index <= refit - pd.Timedelta(weeks=lead)
            rows = pd.concat([design[known], targets.loc[known, key]], axis=1).dropna()
            if len(rows) >= MIN_TRAINING_WEEKS:
                coefficients[key] = quantile_fit(
                    rows[design.columns].to_numpy(float), rows[key].to_numpy(float)
                )
        fitted[name] = (coefficients, design)
    return fitted


def climatology_quantiles(targets: pd.DataFrame, origin: pd.Timestamp, key: str) -> np.ndarray:
    lead = target_keys()[key]
    known = targets.loc[: origin - pd.Timedelta(weeks=lead), key].dropna()
    if len(known) < MIN_TRAINING_WEEKS:
        return np.full(len(QUANTILES), np.nan)
    return np.quantile(known.to_numpy(), QUANTILES)


def fan_table(
    panel: Panel, origins: list[pd.Timestamp], refits: list[pd.Timestamp]
) -> pd.DataFrame:
    """One row per origin, observable, target and forecaster: the quantiles and the outcome."""
    rows = []
    for observable in OBSERVABLES:
        series = panel.frame[observable]
        targets = outcomes(series)
        fitted = {r: refit_models(panel, observable, r) for r in refits}
        for origin in origins:
            usable = [r for r in refits if r <= origin]
            models = fitted[usable[-1]] if usable else {}
            for key, lead in target_keys().items():
                base = {
                    "origin": origin,
                    "observable": observable,
                    "target": key,
                    "lead_weeks": lead,
                    "outcome": targets.at[origin, key],
                    "refit": usable[-1] if usable else pd.NaT,
                }
                forecasts = {"climatology": climatology_quantiles(targets, origin, key)}
                for name, (coefficients, design) in models.items():
                    x = design.loc[origin].to_numpy(float)
                    if key in coefficients and np.isfinite(x).all():
                        forecasts[name] = np.sort(coefficients[key] @ x)
                for name in FORECASTERS:
                    q = forecasts.get(name, np.full(len(QUANTILES), np.nan))
                    rows.append({**base, "forecaster": name, **dict(zip(COLUMNS, q, strict=True))})
    return pd.DataFrame(rows)


def with_model(
    table: pd.DataFrame, records: list[dict], series: str, name: str = MODEL
) -> pd.DataFrame:
    """The fan table with the model's quantiles from the backtest's per-origin records (the
    series ``series``: its refit passing on or before each origin), as forecaster ``name``."""
    outcomes_at = table.drop_duplicates(["origin", "observable", "target"]).set_index(
        ["origin", "observable", "target"]
    )
    rows = []
    for record in records:
        model = record["models"].get(series)
        origin = pd.Timestamp(record["origin"])
        if not model or "fans" not in model:
            continue
        for observable, targets in model["fans"].items():
            for key, q in targets.items():
                if (origin, observable, key) not in outcomes_at.index:
                    continue
                known = outcomes_at.loc[(origin, observable, key)]
                rows.append(
                    {
                        "origin": origin,
                        "observable": observable,
                        "target": key,
                        "lead_weeks": known["lead_weeks"],
                        "outcome": known["outcome"],
                        "refit": model["fit_id"],
                        "forecaster": name,
                        **dict(zip(COLUMNS, np.sort(q), strict=True)),
                    }
                )
    return pd.concat([table, pd.DataFrame(rows)], ignore_index=True) if rows else table


# --- scores -------------------------------------------------------------------------


def pinball(q: np.ndarray, y: np.ndarray, tau: float) -> np.ndarray:
    """Quantile loss of forecast quantile ``q`` at level ``tau`` for outcomes ``y``."""
    diff = y - q
    return np.maximum(tau * diff, (tau - 1) * diff)


def crps_from_quantiles(quantiles: np.ndarray, y: np.ndarray) -> np.ndarray:
    """CRPS approximated as twice the mean pinball loss over the quantile grid."""
    losses = [pinball(quantiles[:, i], y, tau) for i, tau in enumerate(QUANTILES)]
    return 2 * np.mean(losses, axis=0)


def losses(frame: pd.DataFrame) -> pd.DataFrame:
    """Per row: pinball at 0.5, 0.9, 0.95, CRPS, inside the 50% and 90% bands, PIT bin."""
    q = frame[COLUMNS].to_numpy(float)
    y = frame["outcome"].to_numpy(float)
    return pd.DataFrame(
        {
            "pinball_50": pinball(q[:, 3], y, 0.5),
            "pinball_90": pinball(q[:, 5], y, 0.9),
            "pinball_95": pinball(q[:, 6], y, 0.95),
            "crps": crps_from_quantiles(q, y),
            "in_50": ((y >= q[:, 2]) & (y <= q[:, 4])).astype(float),
            "in_90": ((y >= q[:, 0]) & (y <= q[:, 6])).astype(float),
            "pit": (q < y[:, None]).sum(axis=1),  # how many grid quantiles lie below y
        },
        index=frame.index,
    )


def scored(table: pd.DataFrame, observable: str, key: str) -> pd.DataFrame:
    """Wide per-origin losses of every forecaster on the origins all three forecast."""
    sub = table[(table["observable"] == observable) & (table["target"] == key)]
    sub = sub.dropna(subset=[*COLUMNS, "outcome"])
    parts = {name: losses(g.set_index("origin")) for name, g in sub.groupby("forecaster")}
    common = sorted(set.intersection(*(set(p.index) for p in parts.values()))) if parts else []
    return pd.concat({name: p.loc[common] for name, p in parts.items()}, axis=1)


def paired(a: np.ndarray, b: np.ndarray, idx: np.ndarray) -> tuple[float, float, float, float]:
    """Skill 1 - mean(a)/mean(b) and its 90% interval on the same resamples, and the mean
    difference (negative: a has the lower loss)."""
    skill = 1 - a.mean() / b.mean()
    boots = 1 - a[idx].mean(axis=1) / b[idx].mean(axis=1)
    lo, hi = scores.interval(boots)
    return float(skill), lo, hi, float(a.mean() - b.mean())


def without(frame: pd.DataFrame, years: tuple[int, ...]) -> pd.DataFrame:
    return frame[~pd.DatetimeIndex(frame.index).year.isin(years)]


#: The pairs whose skill is reported: challenger, reference.
PAIRS = (
    ("driver_qr", "persistence"),
    ("persistence", "climatology"),
    ("driver_qr", "climatology"),
    (MODEL, "persistence"),
    (MODEL, "climatology"),
    (CHALLENGER, MODEL),
    (CHALLENGER, "persistence"),
)
PAIRED_LOSSES = ("pinball_90", "pinball_95", "pinball_50", "crps")
#: The pre-registered robustness checks: the skill with these origins' years left out.
LEFT_OUT = (("2008_09", (2008, 2009)), ("2020", (2020,)))


def forecaster_rows(wide: pd.DataFrame, where: dict) -> list[dict]:
    """Mean losses, coverage and PIT counts of every forecaster in ``wide``."""
    rows = []
    for name in [f for f in (*FORECASTERS, MODEL, CHALLENGER) if f in wide.columns.levels[0]]:
        part = wide[name]
        rows.append(
            {
                **where,
                "forecaster": name,
                "origins": len(wide),
                **{c: float(part[c].mean()) for c in part.columns if c != "pit"},
                "pit": np.bincount(part["pit"], minlength=len(QUANTILES) + 1).tolist(),
            }
        )
    return rows


def skill_rows(wide: pd.DataFrame, where: dict, idx: np.ndarray) -> list[dict]:
    """Every pair's skill per loss, its interval and the left-out-years checks."""
    rows = []
    for a, b in (pair for pair in PAIRS if set(pair) <= set(wide.columns.levels[0])):
        for loss in PAIRED_LOSSES:
            skill, lo, hi, diff = paired(wide[a][loss].to_numpy(), wide[b][loss].to_numpy(), idx)
            checks = {
                f"skill_without_{label}": float(
                    1 - without(wide[a], years)[loss].mean() / without(wide[b], years)[loss].mean()
                )
                for label, years in LEFT_OUT
            }
            rows.append(
                {
                    **where,
                    "forecaster": a,
                    "versus": b,
                    "loss": loss,
                    "origins": len(wide),
                    "skill": skill,
                    "skill_q05": lo,
                    "skill_q95": hi,
                    "difference": diff,
                    **checks,
                }
            )
    return rows


def fan_scores(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per observable, target and forecaster: mean losses and coverage; and the paired
    skills of :data:`PAIRS`, with the pre-registered robustness checks."""
    score_rows, pair_rows = [], []
    for observable in OBSERVABLES:
        for key in target_keys():
            wide = scored(table, observable, key)
            if wide.empty:
                continue
            # blocks of two 13-week horizons whatever the target's lead, as for the onset
            # targets: losses of persistent series stay correlated beyond a short lead
            block = scores.block_length(len(wide), MAX_WINDOW, 52 / 12)
            idx = scores.block_indices(len(wide), block, scores.N_BOOT, scores.BOOTSTRAP_SEED)
            where = {"observable": observable, "target": key}
            score_rows += forecaster_rows(wide, where)
            pair_rows += skill_rows(wide, where, idx)
    return pd.DataFrame(score_rows), pd.DataFrame(pair_rows)


def drivers_add_information(pairs: pd.DataFrame) -> pd.DataFrame:
    """The pre-registered verdict per observable and challenger (the driver QR, the model):
    against persistence at tau = 0.9, h = 13, skill interval above zero, and the same sign
    without 2008-09 and without 2020."""
    rule = pairs[
        pairs["forecaster"].isin(["driver_qr", MODEL])
        & (pairs["versus"] == "persistence")
        & (pairs["loss"] == "pinball_90")
        & (pairs["target"] == "h13")
    ].copy()
    rule["passes"] = (
        (rule["skill_q05"] > 0)
        & (rule["skill_without_2008_09"] > 0)
        & (rule["skill_without_2020"] > 0)
    )
    return rule


def markdown(scores_table: pd.DataFrame, pairs: pd.DataFrame) -> str:
    """The fan tables as Markdown (``fans.md``, docs/backtest.md)."""
    parts = []
    verdict = drivers_add_information(pairs)
    for row in verdict.itertuples():
        who = "the model" if row.forecaster == MODEL else "driver QR"
        parts.append(
            f"- **{OBSERVABLES[row.observable]}**, {who} vs persistence, pinball loss at "
            f"0.9, h = 13: skill {row.skill:+.3f} (90% {row.skill_q05:+.3f}..{row.skill_q95:+.3f}"
            f"); without 2008-09 {row.skill_without_2008_09:+.3f}, without 2020 "
            f"{row.skill_without_2020:+.3f}: {'passes' if row.passes else 'fails'} the rule."
        )
    parts.append("")
    for observable, label in OBSERVABLES.items():
        table = scores_table[scores_table["observable"] == observable]
        parts += [
            f"#### {label}",
            "",
            "| target | forecaster | origins | CRPS | pinball 0.9 | pinball 0.95 | in 50% band "
            "| in 90% band |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in table.itertuples():
            parts.append(
                f"| {r.target} | {r.forecaster} | {r.origins} | {r.crps:.4g} | "
                f"{r.pinball_90:.4g} | {r.pinball_95:.4g} | {r.in_50:.2f} | {r.in_90:.2f} |"
            )
        sub = pairs[
            (pairs["observable"] == observable) & pairs["loss"].isin(["pinball_90", "crps"])
        ]
        parts += [
            "",
            "Skill (1 - loss / the other's loss; above 0: lower loss), 90% circular-block "
            "interval, and the skill without 2008-09 and without 2020:",
            "",
            "| target | forecaster | versus | loss | skill | without 2008-09 | without 2020 |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in sub.itertuples():
            parts.append(
                f"| {r.target} | {r.forecaster} | {r.versus} | {r.loss} | {r.skill:+.3f} "
                f"({r.skill_q05:+.3f}..{r.skill_q95:+.3f}) | {r.skill_without_2008_09:+.3f} | "
                f"{r.skill_without_2020:+.3f} |"
            )
        parts.append("")
    return "\n".join(parts)


#: The forecasters in plain words, for figures.
FORECASTER_WORDS = {
    "climatology": "climatology",
    "persistence": "persistence (quantile HAR)",
    "driver_qr": "drivers' quantile regression",
    MODEL: "the model",
    CHALLENGER: "the challenger model",
}


def pit_figure(scores_table: pd.DataFrame, target: str = "h13"):
    """PIT histograms at ``target``: for each observable and forecaster, the share of
    outcomes falling between consecutive quantiles of its fan, against the share a
    calibrated fan gives (the gap between the quantile levels). Too many outcomes in the
    outer bins: the fan is too narrow; in the middle: too wide."""
    import matplotlib.pyplot as plt

    levels = np.diff([0.0, *QUANTILES, 1.0])
    labels = (
        [f"<{QUANTILES[0]:g}"]
        + [f"{a:g}-{b:g}" for a, b in zip(QUANTILES[:-1], QUANTILES[1:], strict=True)]
        + [f">{QUANTILES[-1]:g}"]
    )
    rows = scores_table[scores_table["target"] == target]
    names = list(dict.fromkeys(rows["forecaster"]))
    fig, axes = plt.subplots(
        len(OBSERVABLES), 1, figsize=(11, 3.2 * len(OBSERVABLES)), sharex=True, squeeze=False
    )
    width = 0.8 / max(len(names), 1)
    x = np.arange(len(levels))
    for ax, (observable, label) in zip(axes[:, 0], OBSERVABLES.items(), strict=True):
        for i, name in enumerate(names):
            row = rows[(rows["observable"] == observable) & (rows["forecaster"] == name)]
            if row.empty:
                continue
            counts = np.asarray(row.iloc[0]["pit"], dtype=float)
            offset = (i - (len(names) - 1) / 2) * width
            ax.bar(x + offset, counts / counts.sum(), width, label=FORECASTER_WORDS.get(name, name))
        ax.step(
            np.r_[x - 0.5, x[-1] + 0.5],
            np.r_[levels, levels[-1]],
            where="post",
            color="black",
            label="calibrated",
        )
        ax.set_title(f"{label}, {target.replace('h', '')} weeks ahead")
        ax.set_ylabel("share of outcomes")
    axes[-1, 0].set_xticks(x, labels)
    axes[-1, 0].set_xlabel("where the outcome fell between the fan's quantiles")
    axes[0, 0].legend(ncol=3, fontsize=8)
    fig.suptitle("Stress-at-risk calibration (PIT): backtest origins, monthly")
    fig.tight_layout()
    return fig
