"""A file parsed once is served from memory only while it is unchanged, and a bad file
fails every time it is read."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from data import readers
from data.errors import DataError
from data.registry import SERIES
from data.sources import SnapshotSource


def write_move(folder, rows: list[str]) -> None:
    (folder / SERIES["MOVE"].file).write_text("date,value\n" + "\n".join(rows) + "\n")


def test_an_edited_file_is_read_again_and_a_copy_is_returned(tmp_path):
    write_move(tmp_path, ["2020-01-01,60.5", "2020-01-02,61.0"])
    source = SnapshotSource(tmp_path)
    first = source.series("MOVE")
    first.iloc[0] = -1.0  # a caller's change never reaches the next caller
    assert source.series("MOVE").iloc[0] == 60.5
    write_move(tmp_path, ["2020-01-01,60.5", "2020-01-02,61.0", "2020-01-03,70.25"])
    again = SnapshotSource(tmp_path).series("MOVE")
    assert len(again) == 3 and again.iloc[-1] == 70.25


def test_same_size_same_time_but_another_file_is_not_confused(tmp_path):
    """The stamp holds the inode: a file replaced by a rename (as the refresh writes) is
    new even when its size and modification time are the old one's."""
    write_move(tmp_path, ["2020-01-01,60.5"])
    path = tmp_path / SERIES["MOVE"].file
    stat = path.stat()
    assert SnapshotSource(tmp_path).series("MOVE").iloc[0] == 60.5
    replacement = tmp_path / "new.csv"
    replacement.write_text(path.read_text().replace("60.5", "61.5"))
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(replacement, path)
    assert SnapshotSource(tmp_path).series("MOVE").iloc[0] == 61.5


def test_a_bad_file_fails_on_every_read(tmp_path):
    write_move(tmp_path, ["2020-01-01,60.5", "2020-01-02,not a number"])
    for _ in range(2):
        with pytest.raises(DataError, match="not a number|2020-01-02"):
            SnapshotSource(tmp_path).series("MOVE")


def test_the_cache_keeps_a_bounded_number_of_files(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "PARSED_FILES_KEPT", 2)
    monkeypatch.setattr(readers, "_PARSED", type(readers._PARSED)())
    for k in range(4):
        (tmp_path / f"{k}.csv").write_text("x\n1\n")
        readers.read_once(("t", k), (tmp_path / f"{k}.csv",), lambda k=k: pd.Series([k]))
    assert len(readers._PARSED) == 2
