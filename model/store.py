"""Versioned fit records under ``fits/``: write atomically, load with validation.

Layout: ``fits/<fit-id>/idata.nc`` + ``manifest.json``; ``fits/latest`` is a symlink to the
newest fit that passed the convergence gate. A fit directory is assembled under a hidden
temporary name and renamed into place, so a crash never leaves a half-written fit, and
``latest`` is swapped by an atomic rename of a new symlink.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import arviz as az

from data.atomic import atomic_write_text
from model.config import MODEL_VERSION, ModelConfig

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


def point_latest(fits_dir: Path, fit_id: str) -> None:
    tmp = fits_dir / f".{LATEST}.tmp"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(fit_id)
    os.replace(tmp, fits_dir / LATEST)


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
    if idata.posterior.attrs.get("config_digest") != stored_digest:
        raise FitError(f"{path}: idata.nc and manifest.json belong to different fits")
    return Fit(resolved, manifest, config, idata)


def list_fits(fits_dir: Path) -> list[dict]:
    """Manifests of all fits, oldest first (by creation time)."""
    out = []
    for child in sorted(Path(fits_dir).glob("*/" + MANIFEST)):
        if child.parent.name.startswith(".") or child.parent.is_symlink():
            continue
        try:
            out.append(json.loads(child.read_text()))
        except json.JSONDecodeError:
            continue
    return sorted(out, key=lambda m: m["created_at"])


def previous_passing(fits_dir: Path, fit_id: str) -> str | None:
    """The newest passing fit created before ``fit_id`` (for "what changed")."""
    passing = [m for m in list_fits(fits_dir) if m["convergence"]["passed"]]
    ids = [m["fit_id"] for m in passing]
    if fit_id not in ids:
        return ids[-1] if ids else None
    i = ids.index(fit_id)
    return ids[i - 1] if i > 0 else None
