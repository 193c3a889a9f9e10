"""Where a committee report is written: a folder of its own, never inside the fit store,
never beside other files, and never over an earlier report unless asked to.

Reports are kept one folder per fit (``reports/<fit-id>/``), so a review copy of a refused
fit or a fit of the other QE definition never replaces a page the committee read.
"""

from __future__ import annotations

from pathlib import Path


class OutputError(ValueError):
    """The output directory cannot take this report."""


#: What a report folder holds: the only files ``--out`` writes or replaces.
REPORT_FILES = ("report.html", "forecast.json")


def in_fit_store(out: Path, fit: Path) -> Path | None:
    """The fit or fit store ``out`` would write into: the fit itself (``latest`` resolves to
    one), any fit folder above it, or a store (a folder with a ``latest`` link); else None."""
    target = out.resolve()
    if target == fit.resolve():
        return fit
    for folder in (target, *target.parents):
        if (folder / "manifest.json").is_file() or (folder / "latest").is_symlink():
            return folder
    return None


def check_out(out: Path, force: bool, fit: Path) -> None:
    """Refuse an output that is a file, one in a fit or the fit store, one that holds
    anything but a report (the report replaces its folder as a whole, so other files would
    be lost), or one that holds a report, unless ``force``."""
    if out.exists() and not out.is_dir():
        raise OutputError("is a file, not a directory")
    inside = in_fit_store(out, fit)
    if inside is not None:
        raise OutputError(f"is in the fit store ({inside}); reports go elsewhere")
    others = (
        sorted(p.name for p in out.iterdir() if p.name not in REPORT_FILES)
        if (out.is_dir())
        else []
    )
    if others:
        listed = ", ".join(others[:4]) + (", ..." if len(others) > 4 else "")
        raise OutputError(
            f"holds other files ({listed}); a report goes into a new or empty folder, or "
            "over an earlier report, never beside other files"
        )
    existing = [n for n in REPORT_FILES if (out / n).exists()]
    if existing and not force:
        raise OutputError(
            f"already holds {', '.join(existing)}; choose another --out or pass --force"
        )
