"""Two-regime hidden Markov algebra: the forward algorithm of each backend, and NumPy
filtering and smoothing for posterior draws.

Notation, shared with ``docs/model.md``: ``log_init`` (..., 2) is log P(s_0); ``log_trans``
(..., T-1, 2, 2) is log P(s_t = k | s_{t-1} = j) at ``[t-1, j, k]``; ``log_emis`` (..., T, 2)
is log p(y_t | s_t = k).

The likelihood has one forward algorithm per backend, each tested against enumeration and
the log-space oracle in ``tests/forward_oracles.py``:

- PyTensor's C backend (the PyMC model of :mod:`model.equations.build`, PyMC's own sampler) gets
  :func:`loglik_tree`. The forward recursion is a product of matrices in the (logsumexp, +)
  semiring, ``alpha_T = alpha_0 (x) M_1 (x) ... (x) M_{T-1}`` with ``M_t[j, k] =
  log_trans[t-1, j, k] + log_emis[t, k]``; the product is associative, so it is reduced as a
  balanced tree, ~log2(T) vectorized levels and no PyTensor ``Scan`` (whose gradient is slow
  there). Every quantity stays a log, so nothing overflows at T = 1000+ (the NaN-gradient
  failure of un-normalized forward messages).
- JAX (NumPyro and the start search, through :mod:`model.inference.jax_density`) gets
  :func:`loglik_scaled`, the recursion as one ``jax.lax.scan`` over the *normalized*
  filtered probabilities: every emission is exponentiated outside the loop (shifted by its
  week's maximum, so the larger one is 1 and nothing under- or overflows), and the loop
  carries two probabilities and sums the logs of the normalizers. A loop step is then a few
  multiplications instead of four ``logsumexp``, which is where a sequential scan spends its
  time on a CPU.

Nothing here registers a graph rewrite or changes a library setting: importing the module
only defines functions.

Filtering and smoothing for posterior draws (:func:`forward_backward`) run sequentially in
NumPy, vectorized over draws, and normalize every step.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
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
    return stable_logaddexp(
        a[..., :, 0, None] + b[..., None, 0, :], a[..., :, 1, None] + b[..., None, 1, :]
    )


def loglik_tree(log_init, log_trans, log_emis, n_steps: int):
    """Log-likelihood of one sequence (PyTensor graph), by balanced-tree reduction: the
    forward algorithm of the PyMC model.

    ``n_steps`` is T, static: the tree is laid out when the graph is built.
    """
    alpha0 = log_init + log_emis[0]  # (2,)
    if n_steps == 1:
        return stable_logsumexp(alpha0)
    mats = log_trans + log_emis[1:, None, :]  # (T-1, 2, 2)
    n = n_steps - 1
    while n > 1:
        even = n - n % 2
        paired = _semiring_matmul_pt(mats[0:even:2], mats[1:even:2])
        mats = pt.concatenate([paired, mats[even:]], axis=0) if n % 2 else paired
        n = n // 2 + n % 2
    total = mats[0]
    final = stable_logaddexp(alpha0[0] + total[0], alpha0[1] + total[1])  # (2,)
    return stable_logsumexp(final)


def loglik_scaled(log_init, log_trans, log_emis):
    """Log-likelihood of one sequence (JAX): the scaled forward recursion in probabilities.

    ``alpha_t`` = P(s_t | y_0..t) (normalized); ``c_t`` = p(y_t | y_0..t-1) / exp(m_t) with
    ``m_t`` the week's largest log emission; the log-likelihood is sum_t (log c_t + m_t).
    Both columns of the transition matrix are used as given (never 1 - p), so a stay
    probability of 0.9999 keeps its precision in the calm column as well.
    """
    shift = jnp.max(log_emis, axis=-1)
    emis = jnp.exp(log_emis - shift[:, None])
    trans = jnp.exp(log_trans)
    first = jnp.exp(log_init) * emis[0]
    c0 = first.sum()

    def step(alpha, week):
        week_trans, week_emis = week
        unnormalized = (alpha @ week_trans) * week_emis
        c = unnormalized.sum()
        return unnormalized / c, jnp.log(c)

    _, log_c = jax.lax.scan(step, first / c0, (trans, emis[1:]))
    return jnp.log(c0) + log_c.sum() + shift.sum()


def _lse2(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.logaddexp(a, b)


def forward_filter(
    log_init: np.ndarray, log_trans: np.ndarray, log_emis: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-week log predictive densities log p(y_t | y_<t) (..., T) and log filtered
    P(s_t = k) (..., T, 2): the normalized forward recursion, vectorized over leading axes.
    Their sum over weeks is the log-likelihood."""
    n_steps = log_emis.shape[-2]
    log_filt = np.empty(log_emis.shape)
    increments = np.empty(log_emis.shape[:-1])
    alpha = log_init + log_emis[..., 0, :]
    for t in range(n_steps):
        if t > 0:
            prev = log_filt[..., t - 1, :, None] + log_trans[..., t - 1, :, :]
            alpha = _lse2(prev[..., 0, :], prev[..., 1, :]) + log_emis[..., t, :]
        norm = _lse2(alpha[..., 0], alpha[..., 1])
        increments[..., t] = norm
        log_filt[..., t, :] = alpha - norm[..., None]
    return increments, log_filt


def forward_backward(
    log_init: np.ndarray, log_trans: np.ndarray, log_emis: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log-likelihood, filtered and smoothed P(s_t = k), vectorized over leading axes.

    Shapes: ``log_init`` (..., 2), ``log_trans`` (..., T-1, 2, 2), ``log_emis`` (..., T, 2).
    Returns ``loglik`` (...), ``filtered`` (..., T, 2), ``smoothed`` (..., T, 2).
    """
    n_steps = log_emis.shape[-2]
    increments, log_filt = forward_filter(log_init, log_trans, log_emis)
    loglik = increments.sum(-1)
    # Backward pass on normalized messages (Rauch-Tung-Striebel form for discrete states).
    log_smooth = np.empty_like(log_filt)
    log_smooth[..., -1, :] = log_filt[..., -1, :]
    for t in range(n_steps - 2, -1, -1):
        joint_pred = log_filt[..., t, :, None] + log_trans[..., t, :, :]  # (...,2,2)
        pred = _lse2(joint_pred[..., 0, :], joint_pred[..., 1, :])  # (...,2)
        ratio = log_smooth[..., t + 1, :] - pred  # (...,2)
        back = joint_pred + ratio[..., None, :]
        log_smooth[..., t, :] = _lse2(back[..., :, 0], back[..., :, 1])
    # exp of a normalized log can exceed 1 by an ulp; probabilities are read as such
    return loglik, np.minimum(np.exp(log_filt), 1.0), np.minimum(np.exp(log_smooth), 1.0)
