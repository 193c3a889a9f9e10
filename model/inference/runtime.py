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
- **XLA's programs are kept on disk** (JAX's persistent compilation cache, in
  ``.cache/jax`` beside the code, at most 2 GiB, least recently used out first; a user's
  own ``JAX_COMPILATION_CACHE_DIR`` wins): a program that took over a second to compile is
  not compiled again by a later run that builds the same one (the same model and sampler
  settings, and data of the same padded shapes: the monthly refit on a few more weeks, a
  rerun of a fit or a backtest origin, the test suite's repeated fits). The data are an
  argument of the programs, not constants inside them (:mod:`model.inference.jax_density`).
- **Double precision in JAX**: the start search and the potential NUTS samples run in
  float64 (the regime likelihood sums ~1,000 weekly terms); set here, not at the import of
  a module, so importing one changes no setting.
- **Matplotlib draws to files** (``Agg``): the commands run headless, in cron and CI.
- **Warnings a user cannot act on** are silenced where they arise:
  PyTensor's "could not link to a BLAS installation" (NumPyro samples the JAX density and
  never runs PyTensor's C code; on PyMC's fallback a linked BLAS changed nothing
  measurable) and ArviZ's notice that it "is undergoing a major refactor" (the project
  pins arviz below 0.24).
"""

from __future__ import annotations

import os
import sys
import warnings

from data.defaults import REPO_ROOT

#: The device count comes last: importing ``pymc.sampling.jax`` rewrites ``XLA_FLAGS`` to
#: put its own count of 100 first, and its pattern deletes everything from a device count
#: followed by a space to the last space (the options after it too); a count at the end
#: is left alone, and XLA takes the last of two.
XLA_OPTIONS = (
    "--xla_cpu_experimental_ynn_fusion_type=",
    f"--xla_force_host_platform_device_count={max(os.cpu_count() or 1, 4)}",
)

#: JAX's persistent compilation cache: where, the least compile time worth keeping, and
#: the size beyond which the least recently used programs are removed.
COMPILATION_CACHE = {
    "JAX_COMPILATION_CACHE_DIR": str(REPO_ROOT / ".cache" / "jax"),
    "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "1",
    "JAX_COMPILATION_CACHE_MAX_SIZE": str(2 * 2**30),
}


def configure() -> None:
    """Apply the settings above; idempotent."""
    os.environ.setdefault("XLA_FLAGS", " ".join(XLA_OPTIONS))
    for name, value in COMPILATION_CACHE.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("JAX_ENABLE_X64", "1")
    if "jax" in sys.modules:  # imported before configure(): its settings are already read
        sys.modules["jax"].config.update("jax_enable_x64", True)
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
