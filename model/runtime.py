"""Process settings every command applies once, before JAX, PyTensor or ArviZ load.

Nothing here runs at import: each CLI calls :func:`configure` after parsing its arguments
(so ``--help`` stays fast), and the test suite calls it in ``tests/conftest.py``.

- **XLA options** (they must be set before JAX is first imported; a user's own
  ``XLA_FLAGS`` wins): JAX sees one CPU device by default and NumPyro then runs chains one
  after another, so we expose at least four host devices (the default chain count) and
  chains run as parallel threads. ``--xla_cpu_experimental_ynn_fusion_type=`` (empty) turns
  off YNNPACK fusions, which are made for large arrays: this model's gradient is hundreds
  of operations on arrays of ~1,000 weeks, and the fusions made it slower. The option is
  experimental and an unknown flag stops XLA, so ``pyproject.toml`` pins jax to 0.10.x.
- **Matplotlib draws to files** (``Agg``): the commands run headless, in cron and CI.
- **Warnings a user cannot act on** are silenced where they arise:
  PyTensor's "could not link to a BLAS installation" (NumPyro samples the JAX density and
  never runs PyTensor's C code; on PyMC's fallback a linked BLAS changed nothing
  measurable) and ArviZ's notice that it "is undergoing a major refactor" (the project
  pins arviz below 0.24).
"""

from __future__ import annotations

import os
import warnings

XLA_OPTIONS = (
    f"--xla_force_host_platform_device_count={max(os.cpu_count() or 1, 4)}",
    "--xla_cpu_experimental_ynn_fusion_type=",
)


def configure() -> None:
    """Apply the settings above; idempotent."""
    os.environ.setdefault("XLA_FLAGS", " ".join(XLA_OPTIONS))
    os.environ.setdefault("MPLBACKEND", "Agg")
    warnings.filterwarnings(
        "ignore", message="PyTensor could not link to a BLAS installation", category=UserWarning
    )
    warnings.filterwarnings(
        "ignore", message=r"\s*ArviZ is undergoing a major refactor", category=FutureWarning
    )
    # ArviZ's matplotlib backend calls normalize_kwargs the way matplotlib 3.11 deprecated,
    # hundreds of times per review page; ArviZ's to fix, nothing a user can act on
    warnings.filterwarnings(
        "ignore",
        message="Passing a dict or None as alias_mapping to normalize_kwargs",
        module="arviz",
    )
