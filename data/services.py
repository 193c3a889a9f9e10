"""Clients for the public services behind the non-FRED drivers.

Each client downloads what it needs and returns files **in the snapshot's own format**
(``PROVENANCE.md`` of the snapshot), so the snapshot's readers validate a refreshed
download exactly as they validate the snapshot (dates, duplicates, units, ranges):

- CFTC Traders in Financial Futures, futures only (Socrata dataset ``gpe5-46if`` on
  CFTC's public reporting service), the six Treasury contracts by contract code, full
  history -> ``CFTC_TFF_UST.csv``;
- the Daily Treasury Statement's operating cash balance (Treasury's Fiscal Data API)
  -> ``TGA_DTS_daily.csv``;
- TIC "Major Foreign Holders of Treasury Securities" (Treasury's Table 5, the latest 13
  months, merged over the older history) -> ``TIC_MFH_foreign_holdings.csv``;
- MOVE: no free official source exists; a user-supplied ``date,value`` file of daily
  closes (ICE BofA MOVE, index points) -> ``MOVE.csv``.

Both services answer plain HTTP GET with JSON, so the standard library serves them
(``sodapy``, the Socrata client, has been unmaintained since 2022; ``cot-reports`` reads
CFTC's annual zip files, not the service). A change of a service's schema is an error
naming the missing field; an HTTP error or a timeout is an error naming the service. A
CFTC app token (``CFTC_APP_TOKEN``, optional, raises Socrata's rate limit) is sent as a
header and never written anywhere.
"""

from __future__ import annotations

import io
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pandas as pd

from data import cftc, treasury_files
from data.errors import DataError

CFTC_URL = "https://publicreporting.cftc.gov/resource/gpe5-46if.json"
DTS_URL = (
    "https://api.fiscaldata.treasury.gov/services/api/fiscal_service/v1/accounting/dts/"
    "operating_cash_balance"
)
TIC_URL = (
    "https://ticdata.treasury.gov/resource-center/data-chart-center/tic/Documents/slt_table5.txt"
)
TIMEOUT_S = 60.0
#: Rows per Socrata request (its documented maximum page is far larger).
CFTC_PAGE = 5000
#: The DTS continues the weekly TGA (WTREGEN) where that ends; from here on is enough.
DTS_START = "2021-06-24"
#: The DTS row whose "opening balance today" is the TGA's opening balance; the label
#: changed over time (PROVENANCE.md of the snapshot).
DTS_OPENING_LABELS = (
    "Federal Reserve Account",
    "Treasury General Account (TGA)",
    "Treasury General Account (TGA) Opening Balance",
)
DTS_CLOSING_LABEL = "Treasury General Account (TGA) Closing Balance"


def without_credentials(url: str) -> str:
    """``url`` with any user and password removed (``https://user:***@host`` -> host):
    error lines end up in logs."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def get(url: str, params: dict | None = None, headers: dict | None = None, timeout=TIMEOUT_S):
    """The body of a GET, or a DataError naming the service (never the headers, never a
    password in its address)."""
    full = url if not params else f"{url}?{urllib.parse.urlencode(params)}"
    url = without_credentials(url)
    request = urllib.request.Request(full, headers={"Accept": "*/*", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        raise DataError(url, f"HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DataError(url, f"no answer ({reason})", expected="network access") from None


def get_json(url: str, params: dict, headers: dict | None = None, timeout=TIMEOUT_S):
    text = get(url, params, headers, timeout)
    try:
        return json.loads(text)
    except ValueError:
        raise DataError(url, "the answer is not JSON", where=text[:80]) from None


def field(row: dict, names: tuple[str, ...], url: str):
    """The first of ``names`` present in a record: services rename fields over time."""
    for name in names:
        if name in row:
            return row[name]
    raise DataError(url, f"schema change: field {names[0]!r} is missing", where=str(list(row)))


def fetch_cftc(url: str = CFTC_URL, timeout: float = TIMEOUT_S) -> dict[str, str]:
    """Every TFF futures-only report of the six Treasury contracts -> snapshot CSV."""
    codes = ",".join(f"'{c.code}'" for c in cftc.CONTRACTS)
    token = os.environ.get("CFTC_APP_TOKEN")
    headers = {"X-App-Token": token} if token else None
    rows, offset = [], 0
    while True:
        page = get_json(
            url,
            {
                "$where": f"cftc_contract_market_code in({codes})",
                "$order": "report_date_as_yyyy_mm_dd,cftc_contract_market_code",
                "$limit": CFTC_PAGE,
                "$offset": offset,
            },
            headers,
            timeout,
        )
        if not isinstance(page, list):
            raise DataError(url, "schema change: expected a list of records", where=str(page)[:80])
        rows += page
        if len(page) < CFTC_PAGE:
            break
        offset += CFTC_PAGE
    if not rows:
        raise DataError(url, "no reports of the six Treasury contracts returned")
    frame = pd.DataFrame(
        {
            cftc.DATE_COLUMN: [
                str(field(r, ("report_date_as_yyyy_mm_dd",), url))[:10] for r in rows
            ],
            cftc.CODE_COLUMN: [field(r, ("cftc_contract_market_code",), url) for r in rows],
            "Market_and_Exchange_Names": [r.get("market_and_exchange_names", "") for r in rows],
            cftc.LONG_COLUMN: [
                field(r, ("lev_money_positions_long", "lev_money_positions_long_all"), url)
                for r in rows
            ],
            cftc.SHORT_COLUMN: [
                field(r, ("lev_money_positions_short", "lev_money_positions_short_all"), url)
                for r in rows
            ],
        }
    )
    return {cftc.CFTC_FILES[0]: frame.to_csv(index=False)}


def fetch_dts(
    url: str = DTS_URL, start: str = DTS_START, timeout: float = TIMEOUT_S
) -> dict[str, str]:
    """TGA opening (and, where reported, closing) balances per day -> snapshot CSV."""
    opening: dict[str, tuple[str, str]] = {}
    closing: dict[str, str] = {}
    for label in (*DTS_OPENING_LABELS, DTS_CLOSING_LABEL):
        page_number, pages = 1, 1
        while page_number <= pages:
            body = get_json(
                url,
                {
                    "filter": f"record_date:gte:{start},account_type:eq:{label}",
                    "fields": "record_date,account_type,open_today_bal,close_today_bal",
                    "sort": "record_date",
                    "page[size]": 10000,
                    "page[number]": page_number,
                },
                timeout=timeout,
            )
            if not isinstance(body, dict) or "data" not in body:
                raise DataError(url, "schema change: field 'data' is missing")
            pages = int(body.get("meta", {}).get("total-pages", 1) or 1)
            for r in body["data"]:
                day = field(r, ("record_date",), url)
                today = field(r, ("open_today_bal",), url)
                if label == DTS_CLOSING_LABEL:
                    # the closing row carries its amount in the "today" column (close_today_bal
                    # is null there)
                    close = r.get("close_today_bal")
                    value = today if close in (None, "null", "") else close
                    closing[day] = one_value(closing.get(day), value, url, day, label)
                else:
                    known = opening.get(day, (None, label))[0]
                    opening[day] = (one_value(known, today, url, day, label), label)
            page_number += 1
    if not opening:
        raise DataError(url, f"no TGA balances from {start}")
    days = sorted(opening)
    frame = pd.DataFrame(
        {
            "date": days,
            "tga_opening_balance_mn": [clean(opening[d][0]) for d in days],
            "tga_closing_balance_mn": [clean(closing.get(d)) for d in days],
            "dts_account_label": [opening[d][1] for d in days],
        }
    )
    return {treasury_files.DTS_FILE: frame.to_csv(index=False)}


def one_value(known, new, url: str, day: str, label: str):
    """A day's balance, refused when the service sends it twice with different amounts: which
    one is right cannot be told, and keeping either would be a silent choice."""
    if known is not None and clean(known) != clean(new):
        raise DataError(
            url,
            f"conflicting duplicate rows for {label!r}: {clean(known)} and {clean(new)} "
            "($ millions)",
            where=day,
            expected="one balance per day",
        )
    return new


def clean(value) -> str:
    return "" if value in (None, "null") else str(value)


def parse_tic_table5(text: str, url: str = TIC_URL) -> pd.DataFrame:
    """Treasury's Table 5 (tab-separated, months as ``YYYY-MM`` columns, newest first) ->
    the aggregate rows per month, in the snapshot's columns."""
    lines = [line.rstrip("\r").split("\t") for line in text.splitlines()]
    header = next((cells for cells in lines if cells and cells[0].strip() == "Country"), None)
    if header is None:
        raise DataError(url, "schema change: no 'Country' header row")
    months = [m.strip() for m in header[1:] if m.strip()]
    wanted = {
        "Grand Total": "grand_total_bn",
        "Of Which: Foreign Official": "foreign_official_bn",
        "Of Which: Foreign Official Treasury Bills": "foreign_official_bills_bn",
        "Of Which: Foreign Official T-Bonds & Notes": "foreign_official_notes_bonds_bn",
    }
    found = {
        wanted[c[0].strip()]: c[1 : 1 + len(months)] for c in lines if c and c[0].strip() in wanted
    }
    for label, column in wanted.items():
        if column not in found:
            raise DataError(url, f"schema change: row {label!r} is missing")
    try:
        dates = [pd.Timestamp(f"{m}-01") for m in months]
    except ValueError:
        raise DataError(
            url, "schema change: month columns are not YYYY-MM", where=str(months)
        ) from None
    frame = pd.DataFrame({"date": [d.strftime("%Y-%m-%d") for d in dates]})
    for column in wanted.values():
        frame[column] = [v.strip().replace(",", "") for v in found[column]]
    frame["series_note"] = ""
    return frame.sort_values("date").reset_index(drop=True)


def fetch_tic(
    url: str = TIC_URL, history: Path | None = None, timeout: float = TIMEOUT_S
) -> dict[str, str]:
    """The latest 13 months from Table 5 over the older history (``history``: a directory
    holding the snapshot's TIC file). Months Table 5 holds replace the history's values
    for them (revisions); the history's benchmark-break rows (``series_note``) are kept
    as the source marked them."""
    recent = parse_tic_table5(get(url, timeout=timeout), url)
    parts = [recent]
    if history is not None and (history / treasury_files.TIC_FILE).is_file():
        old = pd.read_csv(history / treasury_files.TIC_FILE, dtype=str, keep_default_na=False)
        parts.insert(0, old[~old["date"].isin(recent["date"])])
    merged = pd.concat(parts, ignore_index=True)
    merged = merged.sort_values(["date", "series_note"], kind="stable")
    return {treasury_files.TIC_FILE: merged.to_csv(index=False)}


def import_move(path: Path) -> dict[str, str]:
    """A user-supplied file of daily MOVE closes: columns ``date`` (YYYY-MM-DD) and
    ``value`` (index points), one row per business day. MOVE is ICE's index; its
    licence governs what you may do with the file."""
    return {"MOVE.csv": date_value_file(Path(path), "MOVE")}


def import_swap_rates(path: Path) -> dict[str, str]:
    """A user-supplied file of daily 10-year swap rates: columns ``date`` (YYYY-MM-DD) and
    ``value`` (percent). No free public series of the SOFR swap rate exists; the file's
    licence is the user's to respect."""
    return {"SWAP10Y.csv": date_value_file(Path(path), "swap-rate")}


def date_value_file(path: Path, what: str) -> str:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(str(path), f"cannot read the {what} file ({exc})") from None
    if not text.strip():
        raise DataError(str(path), f"the {what} file is empty", expected="date,value rows")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(str(path), f"not a CSV file ({exc})", expected="date,value") from None
    missing = {"date", "value"} - set(frame.columns)
    if missing:
        raise DataError(str(path), f"missing column(s) {sorted(missing)}", expected="date,value")
    return frame[["date", "value"]].to_csv(index=False)


#: source name -> the snapshot file(s) it provides.
FILES: dict[str, tuple[str, ...]] = {
    "cftc": (cftc.CFTC_FILES[0],),
    "dts": (treasury_files.DTS_FILE,),
    "tic": (treasury_files.TIC_FILE,),
    "move": ("MOVE.csv",),
    "swap": ("SWAP10Y.csv",),
}
