"""One parameter list: under every variant flag every free variable of the model is behind
one of its entries (some entries are the free variables' transforms, e.g. a stress sigma
from the calm one and a positive extra), the prior draws hold every entry, and the gate
reads every entry of a stored posterior."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from data.defaults import QE_DEFINITION_NAMES
from data.drivers import VARIANTS as DRIVER_SETS
from model.equations.build import build_model
from model.equations.config import MOVE_OBSERVABLES, ModelConfig
from model.equations.parameters import parameter_names
from model.inference.checks import prior_group
from tests.model_fixtures import random_short_inputs

#: Every variant flag of ``fit.py``: the MOVE observable, the onset hazard, the event
#: target, the QE definition and the driver set.
FLAGS = list(
    itertools.product(
        MOVE_OBSERVABLES, (0.0, 0.25), ("catalogue", "objective"), QE_DEFINITION_NAMES, DRIVER_SETS
    )
)


@pytest.mark.parametrize("move_observable, event_coef_sd, events, qe_definition, variant", FLAGS)
def test_every_sampled_variable_is_gated_and_prior_checked(
    move_observable, event_coef_sd, events, qe_definition, variant
):
    config = ModelConfig(
        move_observable=move_observable,
        event_coef_prior_sd=event_coef_sd,
        events=events,
        qe_definition=qe_definition,
        drivers=DRIVER_SETS[variant],
    )
    inputs = random_short_inputs(np.random.default_rng(3), 30, config.drivers)
    model = build_model(inputs, config)
    from pytensor.graph.traversal import ancestors

    names = parameter_names(model.named_vars)
    sampled = {rv.name for rv in model.free_RVs}
    behind = {v.name for v in ancestors([model[n] for n in names]) if v in model.free_RVs}
    assert behind == sampled, sampled - behind
    assert ("event_coef" in names) == (event_coef_sd > 0)
    prior = prior_group(model, 20, seed=1)
    assert set(names) <= set(prior.data_vars)


def test_the_gate_reads_the_optional_parameters_of_a_stored_posterior():
    """The gate's list for a posterior that holds ``event_coef`` includes it: a hazard fit
    whose onset coefficients did not mix is refused, not passed."""
    import arviz as az
    import xarray as xr

    from model.inference.gate import convergence_report

    rng = np.random.default_rng(0)
    good = rng.normal(size=(4, 500))
    stuck = np.repeat(rng.normal(size=(4, 1)) * 5, 500, axis=1)  # chains that never mix
    posterior = xr.Dataset(
        {name: (("chain", "draw"), good) for name in parameter_names({})}
        | {"event_coef": (("chain", "draw"), stuck)}
    )
    stats = xr.Dataset({"diverging": (("chain", "draw"), np.zeros((4, 500), dtype=bool))})
    idata = az.InferenceData(posterior=posterior, sample_stats=stats)
    assert convergence_report(idata, parameter_names({}))["passed"]  # without it: passes
    report = convergence_report(idata, parameter_names(posterior))
    assert not report["passed"] and "event_coef" in " ".join(report["failures"])
