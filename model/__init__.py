"""liqshock model: two-regime Markov-switching model with logistic time-varying transitions.

XLA options, set here because they must be in place before JAX is first imported (a user's
own ``XLA_FLAGS`` wins):

- JAX (NumPyro's NUTS backend) sees one CPU device by default, and then draws chains one
  after another. We expose at least four host devices (the default chain count; more if
  the machine has more cores) so chains run as parallel threads.
- ``--xla_cpu_experimental_ynn_fusion_type=`` (empty: no YNNPACK fusions). Those fusions
  are made for large arrays; this model's gradient is hundreds of operations on arrays of
  ~1,000 weeks. Measured on the full history (2 cores, 2026-11-25): a gradient inside a
  compiled loop 0.83-0.89 ms without them against 0.95-1.03 ms with them, and the NumPyro
  part of a 4 x 1000 refit 72-73 s against 80-82 s (alternating runs). The option is
  experimental and an unknown flag stops XLA, so ``pyproject.toml`` pins jax to 0.10.x,
  where it is known.

One warning is silenced here, before PyTensor loads: "PyTensor could not link to a BLAS
installation. Operations that might benefit from BLAS will be severely degraded" (pip's
PyTensor finds no BLAS on this machine). It does not apply to this model: NumPyro samples
the JAX density and never runs PyTensor's C code, and on PyMC's fallback backend Debian's
OpenBLAS linked in changed the value and gradient by ~5%, within the hour's noise
(README, "Known limitations"). Printed at the start of every refit, it read like a fault.
"""

import os
import warnings

warnings.filterwarnings(
    "ignore", message="PyTensor could not link to a BLAS installation", category=UserWarning
)

os.environ.setdefault(
    "XLA_FLAGS",
    " ".join(
        [
            f"--xla_force_host_platform_device_count={max(os.cpu_count() or 1, 4)}",
            "--xla_cpu_experimental_ynn_fusion_type=",
        ]
    ),
)
