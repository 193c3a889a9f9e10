"""Forecast benchmark: 4000 draws x 13 weeks x 6 scenarios (baseline + 5), vectorized over draws.

    python bench/bench_forecast.py [--fit fits/latest] [--draws 4000]

With a fit, times ``outlook.fitted.FittedModel.forecast`` (projection, exact regime recursion,
summaries; no HTML). Without one, times the projection core on parameter draws drawn around
a fixed test point (machinery only). The baseline in the same run is the same recursion
done draw by draw in a Python loop (on 200 draws, scaled to the full count). Target: <= 2 s.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from typing import TYPE_CHECKING

from data.defaults import HORIZON_WEEKS  # noqa: E402 (after the path is set)

if TYPE_CHECKING:
    from outlook.projection import StartState

N_SCENARIOS = 6
HORIZON = HORIZON_WEEKS


def synthetic_start(n_draws: int) -> StartState:
    from outlook.projection import StartState

    rng = np.random.default_rng(0)
    k = 5
    params = {
        "trans_intercept": rng.normal([-4.5, 3.0], 0.3, (n_draws, 2)),
        "trans_coef": rng.normal(0.2, 0.2, (n_draws, 2, k)),
        "event_false_rate": rng.uniform(0.001, 0.003, (n_draws, 2)),
        "event_hit_rate": rng.uniform(0.05, 0.3, (n_draws, 2)),
        "event_continue": rng.uniform(0.6, 0.9, (n_draws, 2)),
        "stress_type_weights": rng.dirichlet([2, 2, 2], n_draws),
        "qe_intercept": rng.normal(-7, 0.5, n_draws),
        "qe_stress_effect": rng.normal(1.5, 0.5, n_draws),
        "qe_coef": rng.normal(0, 0.3, (n_draws, k)),
        "ar_mu": np.zeros((n_draws, k)),
        "ar_phi": rng.uniform(0.9, 0.99, (n_draws, k)),
        "ar_sigma": rng.uniform(0.1, 0.3, (n_draws, k)),
    }
    return StartState(params, rng.normal(size=(n_draws, k)), rng.uniform(0, 1, n_draws), True)


def vectorized(start: StartState) -> None:
    from outlook.projection import driver_shocks, outlook, project_drivers

    n, k = start.x_last.shape
    shocks = driver_shocks(np.random.default_rng(1), n, HORIZON, k)
    for s in range(N_SCENARIOS):
        pinned = np.full((1, HORIZON, k), np.nan)
        if s:
            pinned[:, :, s - 1] = 2.0
        outlook(start, project_drivers(start.params, start.x_last, shocks, pinned))


def draw_by_draw(start: StartState, n_draws: int) -> None:
    from outlook.projection import StartState

    for d in range(n_draws):
        one = StartState(
            {key: v[d : d + 1] for key, v in start.params.items()},
            start.x_last[d : d + 1],
            start.p_stress_last[d : d + 1],
            start.at_risk,
            start.event_ongoing,
        )
        vectorized(one)


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--fit", default=None)
    p.add_argument("--draws", type=int, default=4000)
    args = p.parse_args()
    full_forecast = None
    if args.fit:
        from outlook.fitted import FittedModel, draw_index
        from outlook.scenarios import load_scenarios

        fitted = FittedModel.load(Path(args.fit))
        fit = fitted.fit
        start = fitted.start(draw_index(fitted.n_draws, args.draws, 0), 0)
        scenarios = load_scenarios(
            Path(__file__).parents[1] / "scenarios" / "seed.toml", fit.config.drivers, HORIZON
        )
        t = time.perf_counter()
        fitted.forecast(HORIZON, args.draws, 0, scenarios)
        full_forecast = time.perf_counter() - t
    else:
        start = synthetic_start(args.draws)
    n = len(start.x_last)
    t = time.perf_counter()
    vectorized(start)
    fast = time.perf_counter() - t
    sample = min(200, n)
    t = time.perf_counter()
    draw_by_draw(start, sample)
    slow = (time.perf_counter() - t) * n / sample
    print(f"{n} draws x {HORIZON} weeks x {N_SCENARIOS} scenarios")
    print(f"{'route':<44}{'seconds':>9}{'vs loop':>9}")
    print(f"{'draw-by-draw loop (baseline, scaled)':<44}{slow:>9.2f}{1.0:>8.1f}x")
    print(f"{'vectorized projection + recursion':<44}{fast:>9.3f}{slow / fast:>8.1f}x")
    if full_forecast is not None:
        print(
            f"{'FittedModel.forecast (seed.toml, summaries)':<44}{full_forecast:>9.3f}"
            f"{slow / full_forecast:>8.1f}x"
        )
    print("target: <= 2 s")


if __name__ == "__main__":
    main()
