"""The pre-registered variant rule in force (docs/backtest.md), applied to stored tables.

A challenger replaces the incumbent only if (1) on the catalogue onset target or on broad QE
restarts its paired log-score difference over all origins has a 90% interval above zero and
keeps its sign in every leave-one-event-out resample, and (2) on no other target does the
paired interval lie wholly on the incumbent's side. The tables are the scored backtests'
own (``paired_differences.csv``, ``leave_one_event_out.csv``, ``fan_skill.csv``), so the
verdict is re-derived from what is shipped, never retyped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from diagnostics.evaluation.records import QE_TARGET
from diagnostics.evaluation.report import FILES

#: (QE definition of the backtest, target) on which the challenger must warn better.
PRIMARY = (("strict", "catalogue"), ("broad", QE_TARGET))
#: Every onset-type target the rule reads: (backtest, target).
ONSET_TARGETS = (
    ("strict", "catalogue"),
    ("strict", "objective"),
    ("strict", QE_TARGET),
    ("broad", QE_TARGET),
)
#: The stress-at-risk losses the rule reads: pinball at 0.9, 13 weeks ahead.
FAN_TARGET, FAN_LOSS = "h13", "pinball_90"


@dataclass(frozen=True)
class Comparison:
    backtest: str
    target: str
    n_origins: int
    n_events: int
    difference: float  # challenger minus incumbent: log score, or fan skill
    q05: float
    q95: float
    loeo_all_positive: bool | None  # None where leave-one-event-out does not apply

    @property
    def better(self) -> bool:
        return self.q05 > 0

    @property
    def harm(self) -> bool:
        return self.q95 < 0


def log_score_comparison(
    dense: Path, backtest: str, target: str, challenger: str, incumbent: str
) -> Comparison | None:
    pairs = pd.read_csv(dense / FILES["differences"])
    row = pairs[
        (pairs["target"] == target)
        & (pairs["period"] == "all")
        & (pairs["model"] == challenger)
        & (pairs["versus"] == incumbent)
        & (pairs["score"] == "log_score")
    ]
    if row.empty:
        return None
    r = row.iloc[0]
    loeo = pd.read_csv(dense / FILES["leave_one_out"])
    loeo = loeo[loeo["target"] == target]
    signs = None
    if len(loeo) and f"{challenger}_log" in loeo:
        signs = bool(((loeo[f"{challenger}_log"] - loeo[f"{incumbent}_log"]) > 0).all())
    return Comparison(
        backtest,
        target,
        int(r["n_origins"]),
        int(r["n_positive"]),
        float(r["difference"]),
        float(r["q05"]),
        float(r["q95"]),
        signs,
    )


def fan_comparisons(fans: Path) -> list[Comparison]:
    """The challenger's pinball skill against the incumbent's fan (``fans --challenger``)."""
    skill = pd.read_csv(fans / "fan_skill.csv")
    rows = skill[
        (skill["forecaster"] == "challenger")
        & (skill["versus"] == "model")
        & (skill["loss"] == FAN_LOSS)
        & (skill["target"] == FAN_TARGET)
    ]
    return [
        Comparison(
            "strict",
            f"fan: {r.observable}",
            int(r.origins),
            0,
            float(r.skill),
            float(r.skill_q05),
            float(r.skill_q95),
            None,
        )
        for r in rows.itertuples()
    ]


def apply_rule(
    strict: Path, broad: Path | None, fans: Path | None, challenger: str, incumbent: str
) -> tuple[list[Comparison], str]:
    """Every comparison the rule reads, and its verdict in words."""
    dirs = {"strict": strict, "broad": broad}
    comparisons = [
        c
        for backtest, target in ONSET_TARGETS
        if dirs[backtest] is not None
        and (c := log_score_comparison(dirs[backtest], backtest, target, challenger, incumbent))
    ]
    if fans is not None:
        comparisons += fan_comparisons(fans)
    missing = [
        f"{b} {t}"
        for b, t in ONSET_TARGETS
        if not any(c.backtest == b and c.target == t for c in comparisons)
    ]
    warns_better = [
        c
        for c in comparisons
        if (c.backtest, c.target) in PRIMARY and c.better and c.loeo_all_positive
    ]
    harmed = [c for c in comparisons if c.harm]
    if missing:
        verdict = f"not decided: no scores for {', '.join(missing)}"
    elif warns_better and not harmed:
        verdict = f"{challenger} becomes the default"
    else:
        why = [] if warns_better else ["it warns no better on catalogue onsets or broad QE"]
        why += [f"worse on {c.backtest} {c.target}" for c in harmed]
        verdict = f"{incumbent} stays the default ({'; '.join(why)})"
    return comparisons, verdict


def markdown(comparisons: list[Comparison], verdict: str, challenger: str, incumbent: str) -> str:
    lines = [
        f"| backtest | target | origins | events | {challenger} minus {incumbent} (90%) "
        "| sign in every leave-one-event-out |",
        "|---|---|---|---|---|---|",
    ]
    for c in comparisons:
        loeo = "n/a" if c.loeo_all_positive is None else ("yes" if c.loeo_all_positive else "no")
        lines.append(
            f"| {c.backtest} | {c.target} | {c.n_origins} | {c.n_events or ''} | "
            f"{c.difference:+.3f} ({c.q05:+.3f}..{c.q95:+.3f}) | {loeo} |"
        )
    return "\n".join([*lines, "", f"**Verdict by the rule: {verdict}.**", ""])
