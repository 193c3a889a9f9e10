"""statsmodels' ``MarkovRegression`` with its two-regime time-varying transitions computed
without SciPy's ``logsumexp``.

The MS-TVTP baseline is refit by maximum likelihood at every backtest origin. statsmodels
builds the transition matrix of every week at every likelihood evaluation (BFGS with
complex-step gradients evaluates it ~1,900 times per fit) through ``scipy.special.logsumexp``,
whose array-API dispatch costs more on these small arrays than the Hamilton filter itself:
about half of each fit's time. With two regimes the sum is over two terms, ``0`` and one
linear predictor ``z``, so the same shifted form is written out directly, in the same
floating-point steps: every matrix, and so every fit, is bit-for-bit statsmodels' own
(``tests/test_markov_tvtp.py`` checks this on real and complex parameters and on whole fits).
Other regime counts use statsmodels' method unchanged.
"""

from __future__ import annotations

import numpy as np
from statsmodels.tsa.regime_switching.markov_regression import MarkovRegression


class TwoRegimeTvtpRegression(MarkovRegression):
    """``MarkovRegression`` whose two-regime TVTP matrix skips ``logsumexp``'s overhead."""

    def _regime_transition_matrix_tvtp(self, params, exog_tvtp=None):
        if self.k_regimes != 2:
            return super()._regime_transition_matrix_tvtp(params, exog_tvtp)
        if exog_tvtp is None:
            exog_tvtp = self.exog_tvtp
        matrix = np.zeros((2, 2, len(exog_tvtp)), dtype=np.promote_types(np.float64, params.dtype))
        for previous in range(2):
            coeffs = params[self.parameters[previous, "regime_transition"]]
            # statsmodels' own product (a matrix, not a vector, product: BLAS sums the same way)
            z = np.dot(exog_tvtp, np.reshape(coeffs, (1, self.k_tvtp)).T).T[0]
            matrix[0, previous] = np.exp(z - log_one_plus_exp(z))
        matrix[1] = 1 - matrix[0]
        return matrix


def log_one_plus_exp(z: np.ndarray) -> np.ndarray:
    """``logsumexp([0, z])`` elementwise, shifted by the term of larger real part as SciPy
    does (so complex-step derivatives stay exact)."""
    larger = z.real > 0
    shift = np.where(larger, z, 0)
    smaller = np.where(larger, 0, z)
    return np.log1p(np.exp(smaller - shift)) + shift
