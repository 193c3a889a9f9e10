"""Which drivers make this quarter's event probability what it is: an exact Shapley split.

The reference is every driver at its historical mean (0 in standardized units), with the
same AR(1) shocks as the baseline. ``v(S)`` is the posterior P(liquidity event within the
horizon) when the drivers in S start from their current values and the others from their
mean. Driver k's share is its Shapley value: the average, over all orders in which the
drivers could be switched from reference to current, of the change in ``v`` when k is
switched. The shares sum exactly to ``v(all) - v(none)``, the baseline probability minus
the reference probability, per posterior draw, so their intervals come from the same draws
and the table on the page adds up. The regime probability at the cut-off is held as it is:
the split is of where the drivers take the chain from here.

Why Shapley and not one-at-a-time changes: the event probability is non-linear in the
drivers (a logistic transition chained over 13 weeks), so one-at-a-time effects do not sum
to the total; Shapley's is the only split that does, treats the drivers symmetrically and
gives 0 to a driver that changes nothing. Five drivers need 2^5 = 32 projections, a fraction
of a second at 4000 draws.
"""

from __future__ import annotations

from itertools import combinations
from math import factorial

import numpy as np

from outlook.projection import StartState, outlook, project_drivers


def coalition_values(start: StartState, shocks: np.ndarray) -> dict[frozenset, np.ndarray]:
    """(D,) P(event within the horizon) for every set of drivers at their current values."""
    n_drivers = start.x_last.shape[1]
    values = {}
    for size in range(n_drivers + 1):
        for members in combinations(range(n_drivers), size):
            x_start = np.zeros_like(start.x_last)
            x_start[:, list(members)] = start.x_last[:, list(members)]
            paths = project_drivers(start.params, x_start, shocks)
            values[frozenset(members)] = outlook(
                StartState(
                    start.params, x_start, start.p_stress_last, start.at_risk, start.event_ongoing
                ),
                paths,
            ).p_event
    return values


def shapley_shares(values: dict[frozenset, np.ndarray], n_drivers: int) -> np.ndarray:
    """(D, K): each driver's Shapley value, from the coalition values."""
    everyone = frozenset(range(n_drivers))
    shares = []
    for k in range(n_drivers):
        others = everyone - {k}
        share = 0.0
        for size in range(n_drivers):
            weight = factorial(size) * factorial(n_drivers - size - 1) / factorial(n_drivers)
            for members in combinations(sorted(others), size):
                s = frozenset(members)
                share = share + weight * (values[s | {k}] - values[s])
        shares.append(share)
    return np.stack(shares, axis=-1)
