"""Atomic file writes: a reader never sees a half-written file, a crash never corrupts one.

Used by the FRED cache here and by the fit store and reports downstream.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp_path)`` then rename over ``path`` (same directory, so rename is atomic)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        # mkstemp creates 0600; a report or manifest is for colleagues on a shared drive,
        # so give it the mode a plain open() would (0666 less the umask, usually 0644)
        os.chmod(tmp_path, 0o666 & ~current_umask())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def atomic_write_files(directory: Path, files: dict[str, str]) -> None:
    """Write files that belong together (a report's JSON and page) so that ``directory``
    holds all of the new ones or all of the old ones, never a mix.

    The files go into a hidden sibling directory, which is renamed into place; an existing
    directory is first renamed aside and removed once the new one is in place. Other files
    in an existing ``directory`` are carried over."""
    import shutil

    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.incoming-", dir=directory.parent))
    old = None
    try:
        if directory.is_dir():
            for item in directory.iterdir():
                if item.name not in files and item.is_file():
                    shutil.copy2(item, staging / item.name)
        for name, text in files.items():
            atomic_write_text(staging / name, text)
        os.chmod(staging, 0o777 & ~current_umask())
        if directory.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old-", dir=directory.parent))
            os.rmdir(old)
            os.rename(directory, old)
        os.rename(staging, directory)
    except BaseException:
        if old is not None and not directory.exists():
            os.rename(old, directory)  # put the previous report back
            old = None
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
