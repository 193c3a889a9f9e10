"""Two-regime hidden Markov algebra in log space, for PyTensor (sampling) and NumPy (draws).

Notation, shared with ``docs/model.md``: ``log_init`` (..., 2) is log P(s_0); ``log_trans``
(..., T-1, 2, 2) is log P(s_t = k | s_{t-1} = j) at ``[t-1, j, k]``; ``log_emis`` (..., T, 2)
is log p(y_t | s_t = k).

Likelihood for sampling (:func:`forward_loglik`). The forward recursion is a product of
matrices in the (logsumexp, +) semiring, ``alpha_T = alpha_0 (x) M_1 (x) ... (x) M_{T-1}`` with
``M_t[j, k] = log_trans[t-1, j, k] + log_emis[t, k]``. Every quantity stays a log, so nothing
overflows at T = 1000+ (the NaN-gradient failure of un-normalized forward messages). The
node has two implementations, one per backend, both tested against enumeration:

- PyTensor's C backend (PyMC's own sampler) gets :func:`loglik_tree`: the product is
  associative, so it is reduced as a balanced tree, ~log2(T) vectorized levels and no
  PyTensor ``Scan`` (whose gradient is slow there);
- JAX (NumPyro, the optimizer in :mod:`model.initial`) gets :func:`loglik_scaled`, the
  recursion as one ``jax.lax.scan`` over the *normalized* filtered probabilities: every
  emission is exponentiated outside the loop (shifted by its week's maximum, so the larger
  one is 1 and nothing under- or overflows), and the loop carries two probabilities and
  sums the logs of the normalizers. A loop step is then a few multiplications instead of
  four ``logsumexp``, which is where a sequential scan spends its time on a CPU. The log-space
  recursion :func:`loglik_scan` stays as the test oracle (a sequential scan beat the tree
  translated to JAX end to end).

Filtering and smoothing for posterior draws (:func:`forward_backward`) run sequentially in
NumPy, vectorized over draws, and normalize every step.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.compile import optdb
from pytensor.compile.builders import OpFromGraph
from pytensor.gradient import zero_grad
from pytensor.graph.replace import graph_replace
from pytensor.graph.rewriting.basic import dfs_rewriter, node_rewriter
from pytensor.link.jax.dispatch import jax_funcify
from pytensor.tensor.rewriting.ofg import inline_ofg_node


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
    """Log-likelihood of one sequence (PyTensor), by balanced-tree reduction.

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


def loglik_scan(log_init, log_trans, log_emis):
    """Log-likelihood of one sequence (JAX): the forward recursion as one ``lax.scan``.

    The messages are logs combined by ``logsumexp`` (max-shifted, with a stable gradient),
    so they may drift to -10^4 over a thousand weeks without overflow or NaN.
    """

    def step(log_alpha, week):
        week_trans, week_emis = week
        return jax.nn.logsumexp(log_alpha[:, None] + week_trans, axis=0) + week_emis, None

    log_alpha, _ = jax.lax.scan(step, log_init + log_emis[0], (log_trans, log_emis[1:]))
    return jax.nn.logsumexp(log_alpha)


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


class ForwardLogLikelihood(OpFromGraph):
    """One graph node for the forward algorithm; its inner graph is :func:`loglik_tree`.

    On JAX it runs as :func:`loglik_scan` (registered below) and JAX differentiates that.
    Everywhere else the rewrite :func:`inline_forward_tree` replaces it by the tree before
    compilation, and :meth:`L_op` gives PyTensor the tree's own gradient, so PyMC's C
    backend compiles exactly the graph it compiled before this node existed.
    """

    def L_op(self, inputs, outputs, output_grads):
        # Differentiate the inner tree, then wire the result to this node's inputs.
        # (``clone_replace`` would copy the inputs' own graphs too and disconnect them.)
        (output_grad,) = output_grads
        seed = output_grad.type()
        inner = pytensor.grad(
            None,
            wrt=self.inner_inputs,
            known_grads={self.inner_outputs[0]: seed},
            disconnected_inputs="ignore",
            return_disconnected="zero",
        )
        wiring = dict(zip(self.inner_inputs, inputs, strict=True)) | {seed: output_grad}
        return graph_replace(inner, wiring, strict=False)


def forward_loglik(log_init, log_trans, log_emis, n_steps: int):
    """Log-likelihood of one sequence (PyTensor graph): the node the model uses."""
    inner = [pt.as_tensor_variable(v).type() for v in (log_init, log_trans, log_emis)]
    node = ForwardLogLikelihood(inner, [loglik_tree(*inner, n_steps)], inline=False)
    return node(log_init, log_trans, log_emis)


@jax_funcify.register(ForwardLogLikelihood)
def _forward_as_jax_scan(op, **kwargs):
    return loglik_scaled


@node_rewriter([ForwardLogLikelihood])
def inline_forward_tree(fgraph, node):
    """Expand the node into its tree for non-JAX linkers (``cxx_only``: JAX excludes it)."""
    return inline_ofg_node(node)


optdb.register(
    "inline_forward_tree",
    dfs_rewriter(inline_forward_tree),
    "fast_run",
    "fast_compile",
    "cxx_only",
    position=-0.02,
)


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


def brute_force(
    log_init: np.ndarray, log_trans: np.ndarray, log_emis: np.ndarray
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
