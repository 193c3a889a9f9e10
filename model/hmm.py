"""Two-regime hidden Markov algebra in log space, for PyTensor (sampling) and NumPy (draws).

Notation, shared with ``model/README.md``: ``log_init`` (..., 2) is log P(s_0); ``log_trans``
(..., T-1, 2, 2) is log P(s_t = k | s_{t-1} = j) at ``[t-1, j, k]``; ``log_emis`` (..., T, 2)
is log p(y_t | s_t = k).

Likelihood for sampling (:func:`loglik_tree`). The forward recursion is a product of
matrices in the (logsumexp, +) semiring, ``alpha_T = alpha_0 (x) M_1 (x) ... (x) M_{T-1}`` with
``M_t[j, k] = log_trans[t-1, j, k] + log_emis[t, k]``. The product is associative, so we
reduce it as a balanced tree: ~log2(T) vectorized levels instead of a T-step scan. Every
quantity stays a log, so nothing overflows at T = 1000+ (the NaN-gradient failure of
un-normalized forward messages) and the gradient graph has no Scan at all, which is what
makes NUTS fast on every backend.

Filtering and smoothing for posterior draws (:func:`forward_backward`) run sequentially in
NumPy, vectorized over draws, and normalize every step.
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import zero_grad


def stable_logaddexp(a, b):
    """log(exp(a) + exp(b)) whose value *and gradient* never overflow (PyTensor).

    ``pt.logaddexp`` is literally ``log(exp(a) + exp(b))``; graph rewrites stabilize its
    value but not its gradient, which turns NaN once |a| passes ~700 (a sum of a few hundred
    weeks of log densities). Shifting by the maximum with its gradient cut gives the exact
    softmax-weighted gradient, with ties split evenly.
    """
    shift = zero_grad(pt.maximum(a, b))
    return shift + pt.log(pt.exp(a - shift) + pt.exp(b - shift))


def stable_logsumexp(x, axis=-1):
    """Max-shifted logsumexp with the shift's gradient cut (see :func:`stable_logaddexp`)."""
    shift = zero_grad(pt.max(x, axis=axis, keepdims=True))
    return (shift + pt.log(pt.sum(pt.exp(x - shift), axis=axis, keepdims=True))).squeeze(axis)


def _semiring_matmul_pt(a, b):
    """(logsumexp, +) product of stacks of 2x2 log-matrices: C[j,k] = lse_l a[j,l] + b[l,k]."""
    return stable_logaddexp(a[..., :, 0, None] + b[..., None, 0, :],
                            a[..., :, 1, None] + b[..., None, 1, :])


def loglik_tree(log_init, log_trans, log_emis, n_steps: int):
    """Log-likelihood of one sequence (PyTensor), by balanced-tree reduction.

    ``n_steps`` is T, static: the tree is laid out when the graph is built.
    """
    alpha0 = log_init + log_emis[0]                                  # (2,)
    if n_steps == 1:
        return stable_logsumexp(alpha0)
    mats = log_trans + log_emis[1:, None, :]                         # (T-1, 2, 2)
    n = n_steps - 1
    while n > 1:
        even = n - n % 2
        paired = _semiring_matmul_pt(mats[0:even:2], mats[1:even:2])
        mats = pt.concatenate([paired, mats[even:]], axis=0) if n % 2 else paired
        n = n // 2 + n % 2
    total = mats[0]
    final = stable_logaddexp(alpha0[0] + total[0], alpha0[1] + total[1])  # (2,)
    return stable_logsumexp(final)


def _lse2(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.logaddexp(a, b)


def forward_backward(log_init: np.ndarray, log_trans: np.ndarray, log_emis: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log-likelihood, filtered and smoothed P(s_t = k), vectorized over leading axes.

    Shapes: ``log_init`` (..., 2), ``log_trans`` (..., T-1, 2, 2), ``log_emis`` (..., T, 2).
    Returns ``loglik`` (...), ``filtered`` (..., T, 2), ``smoothed`` (..., T, 2).
    """
    n_steps = log_emis.shape[-2]
    log_filt = np.empty(log_emis.shape)
    loglik = np.zeros(log_emis.shape[:-2])
    alpha = log_init + log_emis[..., 0, :]
    for t in range(n_steps):
        if t > 0:
            prev = log_filt[..., t - 1, :, None] + log_trans[..., t - 1, :, :]
            alpha = _lse2(prev[..., 0, :], prev[..., 1, :]) + log_emis[..., t, :]
        norm = _lse2(alpha[..., 0], alpha[..., 1])
        loglik = loglik + norm
        log_filt[..., t, :] = alpha - norm[..., None]
    # Backward pass on normalized messages (Rauch-Tung-Striebel form for discrete states).
    log_smooth = np.empty_like(log_filt)
    log_smooth[..., -1, :] = log_filt[..., -1, :]
    for t in range(n_steps - 2, -1, -1):
        joint_pred = log_filt[..., t, :, None] + log_trans[..., t, :, :]      # (...,2,2)
        pred = _lse2(joint_pred[..., 0, :], joint_pred[..., 1, :])            # (...,2)
        ratio = log_smooth[..., t + 1, :] - pred                              # (...,2)
        back = joint_pred + ratio[..., None, :]
        log_smooth[..., t, :] = _lse2(back[..., :, 0], back[..., :, 1])
    # exp of a normalized log can exceed 1 by an ulp; probabilities are read as such
    return loglik, np.minimum(np.exp(log_filt), 1.0), np.minimum(np.exp(log_smooth), 1.0)


def brute_force(log_init: np.ndarray, log_trans: np.ndarray, log_emis: np.ndarray
                ) -> tuple[float, np.ndarray]:
    """Enumerate all 2^T regime paths (tests only): log-likelihood and smoothed P(s_t)."""
    import itertools

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
