"""The defaults of a refit: sampler settings and the convergence gate's thresholds.

One place for them, and a light module: every CLI builds its flags from these classes (so
``--help``, the manifest and a fit run from Python cannot disagree) without loading PyMC
or JAX first.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from data.defaults import DEFAULT_SEED

#: NUTS backends: NumPyro on JAX (the default, fast) or PyMC's own sampler (the fallback
#: where JAX cannot run, and the speed benchmark's baseline).
BACKENDS = ("numpyro", "pymc")


@dataclass(frozen=True)
class SamplerSettings:
    """What ``fit.py`` samples with by default.

    ``target_accept`` 0.8 (NumPyro's, PyMC's and Stan's default): on the full history it
    takes as many leapfrog steps per draw as 0.9 with a larger step, so each draw moves
    further and bulk ESS per draw is higher; the gate still refuses any fit with a
    divergence or too small an ESS.

    ``dense_mass``: NUTS adapts a full mass matrix instead of a diagonal one. Off by
    default: on the full history the posterior's correlations are mild and dense
    adaptation costs more time than it gains in ESS. On shorter histories a ridge appears
    that no diagonal scaling follows; :data:`BACKTEST_SAMPLER` turns it
    on.
    """

    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    seed: int = DEFAULT_SEED
    target_accept: float = 0.8
    backend: str = "numpyro"
    map_starts: int = 16
    dense_mass: bool = False
    #: Warm-up iterations of a refit warm-started from an earlier fit's last state, and
    #: whether it keeps that fit's mass matrix (adapting the step size only) or re-adapts
    #: both. Keeping it: the earlier fit estimated it from its whole warm-up, a short
    #: warm-up would re-estimate it from a window of a few dozen draws. Full history, a
    #: refit started from the fit four weeks older, one run each: 300 iterations
    #: re-adapting both gave min bulk ESS 2633; 150 keeping the mass matrix 3579, and 100
    #: 3597 (all passed the gate; the cold refit of the same data 3916).
    warm_tune: int = 150
    warm_keeps_mass: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class GateThresholds:
    max_rhat: float = 1.01
    min_ess_bulk: float = 400.0
    min_ess_tail: float = 400.0
    max_divergences: int = 0


#: Backtest fits (``python -m diagnostics backtest``): fewer chains than the committee's fit, but
#: still gated (2 chains so R-hat means something). 1000 draws each: fewer left tail ESS under the
#: gate's 400 at some origins with no divergence. 32 optimizer starts, twice the committee's fit:
#: the posterior is more rugged on shorter histories, and with fewer starts some vintages passed
#: the gate in a lower mode. A dense mass matrix: short histories have a ridge of correlated
#: parameters (the stress kinds' market share with the emission parameters) that a diagonal metric
#: cannot follow. 600 warm-up iterations: fewer took no less time with dense adaptation and gave no
#: better ESS.
BACKTEST_SAMPLER = {
    "draws": 1000,
    "tune": 600,
    "chains": 2,
    "target_accept": 0.8,
    "backend": "numpyro",
    "map_starts": 32,
    "dense_mass": True,
}
