"""Every kind of bad input gives a DataError naming the file/series, the date/row and the fix."""

from __future__ import annotations

import pytest

from data.errors import DataError
from data.panel import build_panel
from data.sources import SnapshotSource

GOOD_SOFR = "date,value\n2019-09-16,2.43\n2019-09-17,5.25\n2019-09-18,2.55\n"


def _sofr(snapshot_copy, text: str) -> SnapshotSource:
    return SnapshotSource(snapshot_copy({"SOFR.csv": text}))


def test_missing_file(snapshot_copy):
    directory = snapshot_copy()
    (directory / "VIXCLS.csv").unlink()
    with pytest.raises(DataError, match=r"VIXCLS\.csv: file not found"):
        SnapshotSource(directory).series("VIXCLS")


def test_missing_column(snapshot_copy):
    with pytest.raises(DataError, match=r"SOFR\.csv: missing column\(s\) \['value'\]"):
        _sofr(snapshot_copy, "date,rate\n2019-09-16,2.43\n").series("SOFR")


def test_unparsable_date(snapshot_copy):
    with pytest.raises(DataError, match=r"unparsable date '09/17/2019'.*line 3"):
        _sofr(snapshot_copy, "date,value\n2019-09-16,2.43\n09/17/2019,5.25\n").series("SOFR")


def test_duplicate_date(snapshot_copy):
    text = GOOD_SOFR + "2019-09-18,2.60\n"
    with pytest.raises(DataError, match=r"\[SOFR\]: duplicate date at 2019-09-18"):
        _sofr(snapshot_copy, text).series("SOFR")


def test_unsorted_dates(snapshot_copy):
    text = "date,value\n2019-09-17,5.25\n2019-09-16,2.43\n"
    with pytest.raises(DataError, match=r"dates not sorted at 2019-09-16 after 2019-09-17"):
        _sofr(snapshot_copy, text).series("SOFR")


def test_non_numeric_value(snapshot_copy):
    text = "date,value\n2019-09-16,2.43\n2019-09-17,n/a\n"
    with pytest.raises(DataError, match=r"\[SOFR\]: non-numeric value 'n/a' at 2019-09-17"):
        _sofr(snapshot_copy, text).series("SOFR")


def test_unit_jump_millions_to_billions(snapshot_copy, snapshot_dir):
    text = (snapshot_dir / "WTREGEN.csv").read_text().splitlines()
    # Rewrite the 2020 rows in billions (the raw sources mix units): a 1000x step.
    fixed = [text[0]] + [
        f"{d},{float(v) / 1000:.3f}" if d.startswith("2020") else f"{d},{v}"
        for d, v in (line.split(",") for line in text[1:])
    ]
    directory = snapshot_copy({"WTREGEN.csv": "\n".join(fixed) + "\n"})
    with pytest.raises(DataError, match=r"WTREGEN\]: unit jump.*at 2020-01-01.*millions"):
        SnapshotSource(directory).series("WTREGEN")


def test_value_outside_plausible_range(snapshot_copy):
    # SOFR in basis points instead of percent.
    with pytest.raises(DataError, match=r"value 525 outside the plausible range.*2019-09-17"):
        _sofr(snapshot_copy, "date,value\n2019-09-16,2.43\n2019-09-17,525\n").series("SOFR")


def test_cutoff_in_the_future(snapshot):
    with pytest.raises(DataError, match=r"--end: cut-off 2030-01-01 is in the future"):
        build_panel(snapshot, end="2030-01-01")


def test_cutoff_unparsable(snapshot):
    with pytest.raises(DataError, match=r"--end: cannot parse 'last week'"):
        build_panel(snapshot, end="last week")


def test_cftc_duplicate_contract_week(snapshot_copy, snapshot_dir):
    lines = (snapshot_dir / "CFTC_TFF_UST_extra.csv").read_text().splitlines()
    directory = snapshot_copy({"CFTC_TFF_UST_extra.csv": "\n".join(lines + [lines[1]]) + "\n"})
    with pytest.raises(DataError, match=r"contract 020601 reported twice at 2015-01-06"):
        SnapshotSource(directory).cftc_positions()


def test_snapshot_directory_missing(tmp_path):
    with pytest.raises(DataError, match="snapshot directory not found"):
        SnapshotSource(tmp_path / "nowhere")


def test_cli_reports_bad_input_and_exits_2(snapshot_copy, capsys):
    from data.__main__ import main

    directory = snapshot_copy({"SOFR.csv": "date,value\n2019-09-16,2.43\n2019-09-17,x\n"})
    assert main(["summary", "--data", str(directory)]) == 2
    err = capsys.readouterr().err
    assert "SOFR.csv [SOFR]: non-numeric value 'x' at 2019-09-17" in err


def test_cli_summary_and_plot_on_real_data(snapshot_dir, tmp_path, capsys):
    from data.__main__ import main

    assert main(["summary", "--data", str(snapshot_dir), "--end", "2026-06-30"]) == 0
    out = capsys.readouterr().out
    for column in (
        "basis_short",
        "log_move",
        "funding_spread",
        "tga_change_13w",
        "foreign_demand_12m",
    ):
        assert column in out
    assert "2026-06-24 (1069 weeks)" in out
    png = tmp_path / "drivers.png"
    assert main(["plot", "--data", str(snapshot_dir), "--out", str(png)]) == 0
    assert png.stat().st_size > 50_000


@pytest.mark.parametrize(
    ("file", "text", "message"),
    [
        ("IORB.csv", "date,value\n", r"IORB\.csv: no data rows"),
        ("SOFR.csv", "", r"SOFR\.csv: empty file"),
        ("MOVE.csv", "date,value\n2020-03-11,120\n2030-01-02,80\n", r"2030-01-02 is in the future"),
        (
            "TGA_DTS_daily.csv",
            "date,tga_opening_balance_mn,tga_closing_balance_mn\n2025-12-01,800000,\n"
            "2025-13-02,800000,\n",
            r"TGA_DTS_daily\.csv.*unparsable date .2025-13-02.*line 3",
        ),
    ],
    ids=["header-only IORB", "empty SOFR", "future MOVE row", "bad DTS date"],
)
def test_bad_files_stop_the_panel_instead_of_being_skipped_or_substituted(
    snapshot_copy, file, text, message
):
    """Before, each of these exited 0: a header-only IORB silently turned SOFR-IORB into
    SOFR-top of range, a bad Daily Treasury Statement dropped the TGA's last months, and a
    future-dated MOVE row moved the default cut-off to today."""
    with pytest.raises(DataError, match=message):
        build_panel(SnapshotSource(snapshot_copy({file: text})))


def test_a_missing_daily_treasury_statement_file_is_an_error(snapshot_copy):
    directory = snapshot_copy()
    (directory / "TGA_DTS_daily.csv").unlink()
    with pytest.raises(DataError, match=r"TGA_DTS_daily\.csv: file not found"):
        build_panel(SnapshotSource(directory))
