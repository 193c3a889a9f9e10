"""Reference forward algorithms the production ones are tested against (and the gradient
bench times beside them): the log-space recursion in JAX, and enumeration of every regime
path. Neither runs in a fit."""

from __future__ import annotations

import itertools

import jax
import numpy as np


def loglik_scan(log_init, log_trans, log_emis):
    """Log-likelihood of one sequence (JAX): the log-space forward recursion as one ``lax.scan``.

    The messages are logs combined by ``logsumexp`` (max-shifted, with a stable gradient),
    so they may drift to -10^4 over a thousand weeks without overflow or NaN.
    """

    def step(log_alpha, week):
        week_trans, week_emis = week
        return jax.nn.logsumexp(log_alpha[:, None] + week_trans, axis=0) + week_emis, None

    log_alpha, _ = jax.lax.scan(step, log_init + log_emis[0], (log_trans, log_emis[1:]))
    return jax.nn.logsumexp(log_alpha)


def brute_force(
    log_init: np.ndarray, log_trans: np.ndarray, log_emis: np.ndarray
) -> tuple[float, np.ndarray]:
    """Enumerate all 2^T regime paths (tests only): log-likelihood and smoothed P(s_t)."""
    n_steps = log_emis.shape[0]
    path_logp = []
    paths = list(itertools.product((0, 1), repeat=n_steps))
    for path in paths:
        lp = log_init[path[0]] + log_emis[0, path[0]]
        for t in range(1, n_steps):
            lp += log_trans[t - 1, path[t - 1], path[t]] + log_emis[t, path[t]]
        path_logp.append(lp)
    path_logp = np.array(path_logp)
    total = np.logaddexp.reduce(path_logp)
    weights = np.exp(path_logp - total)
    smoothed = np.zeros((n_steps, 2))
    for w, path in zip(weights, paths, strict=True):
        smoothed[np.arange(n_steps), list(path)] += w
    return float(total), smoothed
