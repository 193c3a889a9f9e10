"""Versioned fit records under ``fits/``: write atomically, load with validation.

Layout: ``fits/<fit-id>/idata.nc`` + ``manifest.json``; ``fits/latest`` is a symlink to the
newest fit that passed the convergence gate. A fit directory is assembled under a hidden
temporary name and renamed into place, so a crash never leaves a half-written fit, and
``latest`` is swapped by an atomic rename of a new symlink, under a lock, and only towards
a fit whose data are not older than those of the fit it points to now: a passing refit of an
old vintage (a backtest, an ``--end`` rerun) never becomes the committee's fit.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import arviz as az
import pandas as pd

from data.atomic import atomic_write_text
from model.equations.config import MODEL_VERSION, ModelConfig
from model.equations.inputs import OBSERVATION_ARRAYS, STRESS_LEVELS, ModelInputs

LATEST = "latest"
MANIFEST = "manifest.json"
IDATA = "idata.nc"


class FitError(RuntimeError):
    """A stored fit is missing, corrupt or was made by a different model version/config."""


@dataclass
class Fit:
    path: Path
    manifest: dict
    config: ModelConfig
    idata: az.InferenceData

    @property
    def fit_id(self) -> str:
        return self.manifest["fit_id"]

    def inputs(self) -> ModelInputs:
        """The model inputs this fit was made from, as stored in its InferenceData (a
        fit's parameters are in the standardized units of exactly these drivers)."""
        const, observed = self.idata.constant_data, self.idata.observed_data
        return ModelInputs(
            pd.DatetimeIndex(const["week"].to_numpy()),
            tuple(str(d) for d in const["driver"].to_numpy()),
            const["x_standardized"].to_numpy(),
            const["driver_mean"].to_numpy(),
            const["driver_sd"].to_numpy(),
            {k: observed[k].to_numpy() for k in OBSERVATION_ARRAYS},
            self.config.move_observable,
            {
                k: observed[f"{k}_level"].to_numpy()
                for k in STRESS_LEVELS
                if f"{k}_level" in observed
            }
            or None,
        )


def write_fit(fits_dir: Path, fit_id: str, idata: az.InferenceData, manifest: dict) -> Path:
    """Write a fit directory atomically; point ``latest`` at it only if the gate passed."""
    fits_dir = Path(fits_dir)
    fits_dir.mkdir(parents=True, exist_ok=True)
    final = fits_dir / fit_id
    if final.exists():
        raise FitError(f"{final} already exists; fit ids are never reused")
    staging = fits_dir / f".staging-{fit_id}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        idata.to_netcdf(str(staging / IDATA), engine="h5netcdf")
        atomic_write_text(staging / MANIFEST, json.dumps(manifest, indent=2, default=str))
        os.replace(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if manifest["convergence"]["passed"]:
        point_latest(fits_dir, fit_id)
    return final


def check_store(fits_dir: Path) -> None:
    """Refuse, before any sampling, a store a fit could not be written to.

    A refit takes minutes; finding afterwards that ``fits_dir`` is a file, read-only, or
    that ``latest`` is a real directory (left by a ``cp -rL``) would lose the whole fit.
    """
    fits_dir = Path(fits_dir)
    if fits_dir.exists() and not fits_dir.is_dir():
        raise FitError(f"{fits_dir}: the fits directory is a file")
    try:
        fits_dir.mkdir(parents=True, exist_ok=True)
        probe = fits_dir / f".probe-{uuid.uuid4().hex}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise FitError(f"{fits_dir}: cannot write fits there ({exc.strerror})") from exc
    latest = fits_dir / LATEST
    if latest.exists() and not latest.is_symlink():
        raise FitError(
            f"{latest}: is a real file or directory, not the link to the committee's fit; "
            "move it away before refitting"
        )


def cutoff_of(fit_dir: Path) -> str | None:
    """The data cut-off (YYYY-MM-DD) a stored fit's manifest names; None if unreadable."""
    try:
        return str(json.loads((fit_dir / MANIFEST).read_text())["data"]["cutoff"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def point_latest(fits_dir: Path, fit_id: str) -> bool:
    """Point ``latest`` at ``fit_id`` unless it points to a fit of newer data; True if moved.

    Concurrent refits take a lock on the store for the compare-and-swap, and each writes
    its new link under a name of its own before renaming it into place.
    """
    fits_dir = Path(fits_dir)
    latest = fits_dir / LATEST
    with open(fits_dir / f".{LATEST}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = cutoff_of(latest) if latest.is_symlink() else None
        new = cutoff_of(fits_dir / fit_id)
        if current is not None and new is not None and new < current:
            return False
        tmp = fits_dir / f".{LATEST}.{uuid.uuid4().hex}.tmp"
        try:
            tmp.symlink_to(fit_id)
            os.replace(tmp, latest)
        finally:
            tmp.unlink(missing_ok=True)
    return True


def latest_is(fits_dir: Path, fit_id: str) -> bool:
    latest = Path(fits_dir) / LATEST
    return latest.is_symlink() and os.readlink(latest) == fit_id


def load_fit(path: Path) -> Fit:
    """Load and validate one fit directory (or ``fits/latest``)."""
    path = Path(path)
    if not path.exists():
        raise FitError(f"no fit at {path}")
    resolved = path.resolve()
    manifest_path = resolved / MANIFEST
    if not manifest_path.is_file():
        raise FitError(f"{path}: {MANIFEST} missing; not a liqshock fit directory")
    try:
        manifest = json.loads(manifest_path.read_text())
        config = ModelConfig.from_dict(manifest["model"]["config"])
        stored_digest = manifest["model"]["config_digest"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise FitError(f"{manifest_path}: unreadable manifest ({exc})") from exc
    fit_id, cutoff = manifest.get("fit_id"), manifest.get("data", {}).get("cutoff")
    if fit_id != resolved.name:
        # the id names output directories and goes into pages: it must be this directory's
        raise FitError(f"{manifest_path}: fit_id {fit_id!r} is not the directory's name")
    if not isinstance(cutoff, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", cutoff):
        raise FitError(f"{manifest_path}: data cut-off {cutoff!r} is not a date YYYY-MM-DD")
    if config.version != MODEL_VERSION:
        raise FitError(
            f"{path}: made by model version {config.version}, this code is "
            f"{MODEL_VERSION}; refit with fit.py"
        )
    if config.digest() != stored_digest:
        raise FitError(
            f"{path}: config hash mismatch (manifest {stored_digest[:12]}, "
            f"recomputed {config.digest()[:12]}); the manifest was altered"
        )
    try:
        idata = az.from_netcdf(str(resolved / IDATA), engine="h5netcdf")
        idata.posterior.load()
    except Exception as exc:  # noqa: BLE001 - any read failure means a corrupt file
        raise FitError(f"{resolved / IDATA}: cannot read InferenceData ({exc})") from exc
    if idata.posterior.attrs.get("config_digest") != stored_digest or idata.posterior.attrs.get(
        "fit_id"
    ) != manifest.get("fit_id"):
        raise FitError(
            f"{path}: idata.nc (fit {idata.posterior.attrs.get('fit_id')}) and manifest.json "
            f"(fit {manifest.get('fit_id')}) belong to different fits"
        )
    return Fit(resolved, manifest, config, idata)


def list_fits(fits_dir: Path) -> list[dict]:
    """Manifests of all fits, oldest first (by creation time)."""
    out = []
    for child in sorted(Path(fits_dir).glob("*/" + MANIFEST)):
        if child.parent.name.startswith(".") or child.parent.is_symlink():
            continue
        try:
            manifest = json.loads(child.read_text())
            manifest["created_at"], manifest["convergence"]["passed"], manifest["fit_id"]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # one damaged sibling must not stop work on the good fits
        out.append(manifest)
    return sorted(out, key=lambda m: str(m["created_at"]))


def previous_passing(fits_dir: Path, fit_id: str) -> str | None:
    """The newest passing fit created before ``fit_id`` (for "what changed")."""
    passing = [m for m in list_fits(fits_dir) if m["convergence"]["passed"]]
    ids = [m["fit_id"] for m in passing]
    if fit_id not in ids:
        return ids[-1] if ids else None
    i = ids.index(fit_id)
    return ids[i - 1] if i > 0 else None
