"""The model's parameters: one list, read by the gate, the prior draws, the summaries, the
review and the likelihood (a light module: the command lines import it before any heavy
library loads)."""

from __future__ import annotations

PARAMETERS = (
    "trans_intercept",
    "trans_coef",
    "funding_mu_calm",
    "funding_shift",
    "funding_sigma",
    "funding_nu",
    "move_mu_calm",
    "move_shift",
    "move_sigma",
    "stress_type_weights",
    "event_false_rate",
    "event_hit_rate",
    "event_continue",
    "qe_intercept",
    "qe_stress_effect",
    "qe_coef",
    "ar_mu",
    "ar_phi",
    "ar_sigma",
)


#: Parameters only some model variants have (``event_coef``: the onset hazard's drivers).
OPTIONAL_PARAMETERS = ("event_coef",)


def parameter_names(present) -> list[str]:
    """Every parameter of a model variant: the ones all variants have, then the optional ones
    ``present`` holds (a PyMC model's ``named_vars``, a posterior or prior group). The one
    list the gate, the prior draws, the summaries, the review and the likelihood read;
    ``tests/test_parameter_registry.py`` checks it equals the model's free variables under
    every variant flag."""
    return [*PARAMETERS, *(n for n in OPTIONAL_PARAMETERS if n in present)]
