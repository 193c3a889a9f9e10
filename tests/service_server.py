"""Local look-alikes of CFTC's Socrata service, Treasury's Fiscal Data API and Treasury's
TIC Table 5 on 127.0.0.1, answering in each service's own format from the snapshot files.

The project's clients talk to them unchanged (only the address differs), so URL building,
paging, field names and parsing are exercised without a network. Switches let a test make
a service fail: an HTTP error, a slow answer, a missing field, a revised value.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd

from data import cftc, treasury_files

CLOSING = "Treasury General Account (TGA) Closing Balance"


def socrata_records(snapshot: Path) -> list[dict]:
    """The snapshot's TFF rows of the six contracts as Socrata returns them."""
    rows = []
    for name in cftc.CFTC_FILES:
        frame = pd.read_csv(snapshot / name, dtype=str, keep_default_na=False)
        for r in frame.to_dict("records"):
            code = r[cftc.CODE_COLUMN].strip().zfill(6)
            if code not in {c.code for c in cftc.CONTRACTS}:
                continue
            rows.append(
                {
                    "market_and_exchange_names": r["Market_and_Exchange_Names"],
                    "report_date_as_yyyy_mm_dd": f"{r[cftc.DATE_COLUMN]}T00:00:00.000",
                    "cftc_contract_market_code": code,
                    "open_interest_all": r["Open_Interest_All"],
                    "lev_money_positions_long": r[cftc.LONG_COLUMN],
                    "lev_money_positions_short": r[cftc.SHORT_COLUMN],
                }
            )
    rows.sort(key=lambda r: (r["report_date_as_yyyy_mm_dd"], r["cftc_contract_market_code"]))
    return rows


def fiscal_records(snapshot: Path) -> list[dict]:
    """The snapshot's DTS rows as the operating-cash-balance table returns them: the
    opening row under its label, the closing balance in its own row with the amount in
    the "today" column (the service's quirk)."""
    frame = pd.read_csv(snapshot / treasury_files.DTS_FILE, dtype=str, keep_default_na=False)
    out = []
    for r in frame.itertuples(index=False):
        out.append(
            {
                "record_date": r.date,
                "account_type": r.dts_account_label,
                "open_today_bal": r.tga_opening_balance_mn or "null",
                "close_today_bal": "null",
            }
        )
        if r.tga_closing_balance_mn:
            out.append(
                {
                    "record_date": r.date,
                    "account_type": CLOSING,
                    "open_today_bal": r.tga_closing_balance_mn,
                    "close_today_bal": "null",
                }
            )
    return out


def table5(snapshot: Path, months: int = 13) -> str:
    """TIC Table 5 for the snapshot's newest ``months`` months, newest first."""
    frame = pd.read_csv(snapshot / treasury_files.TIC_FILE, dtype=str, keep_default_na=False)
    frame = frame[frame["series_note"] == ""].tail(months).iloc[::-1]
    head = ["Country", *(d[:7] for d in frame["date"])]
    rows = [
        ("Japan", ["1000.0"] * len(frame)),
        ("Grand Total", list(frame["grand_total_bn"])),
        ("Of Which: Foreign Official", list(frame["foreign_official_bn"])),
        ("Of Which: Foreign Official Treasury Bills", list(frame["foreign_official_bills_bn"])),
        (
            "Of Which: Foreign Official T-Bonds & Notes",
            list(frame["foreign_official_notes_bonds_bn"]),
        ),
    ]
    lines = ["Table 5: Major Foreign Holders of Treasury Securities\t", "\t", "\t".join(head)]
    lines += ["\t".join([label, *values]) for label, values in rows]
    return "\r\n".join(lines) + "\r\n"


class ServiceServer:
    def __init__(self, snapshot: Path) -> None:
        self.socrata = socrata_records(snapshot)
        self.fiscal = fiscal_records(snapshot)
        self.tic = table5(snapshot)
        self.fail: dict[str, int] = {}  # path -> HTTP status to answer with
        self.delay: dict[str, float] = {}  # path -> seconds to wait before answering
        self.drop_field: dict[str, str] = {}  # path -> field left out of every record
        self.headers: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                server.headers.append(dict(self.headers))
                time.sleep(server.delay.get(url.path, 0.0))
                if url.path in server.fail:
                    return self._send(server.fail[url.path], '{"error": true}', "application/json")
                if url.path == "/resource/gpe5-46if.json":
                    return self._socrata(query)
                if url.path == "/dts/operating_cash_balance":
                    return self._fiscal(query)
                if url.path == "/tic/slt_table5.txt":
                    return self._send(200, server.tic, "text/plain")
                self._send(404, "not found", "text/plain")

            def _drop(self, rows: list[dict]) -> list[dict]:
                gone = server.drop_field.get(urlparse(self.path).path)
                return [{k: v for k, v in r.items() if k != gone} for r in rows]

            def _socrata(self, query: dict) -> None:
                offset, limit = int(query.get("$offset", 0)), int(query.get("$limit", 1000))
                page = self._drop(server.socrata[offset : offset + limit])
                self._send(200, json.dumps(page), "application/json")

            def _fiscal(self, query: dict) -> None:
                terms = dict(t.split(":", 1) for t in query.get("filter", "").split(",") if t)
                start = terms.get("record_date", "gte:0000").split(":", 1)[1]
                label = terms.get("account_type", "eq:").split(":", 1)[1]
                rows = [
                    r
                    for r in server.fiscal
                    if r["record_date"] >= start and (not label or r["account_type"] == label)
                ]
                size = int(query.get("page[size]", 100))
                number = int(query.get("page[number]", 1))
                pages = max(1, -(-len(rows) // size))
                body = {
                    "data": self._drop(rows[(number - 1) * size : number * size]),
                    "meta": {"count": len(rows), "total-count": len(rows), "total-pages": pages},
                }
                self._send(200, json.dumps(body), "application/json")

            def _send(self, code: int, body: str, kind: str) -> None:
                data = body.encode()
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, name: str) -> str:
        host, port = self.httpd.server_address
        path = {
            "cftc": "/resource/gpe5-46if.json",
            "dts": "/dts/operating_cash_balance",
            "tic": "/tic/slt_table5.txt",
        }[name]
        return f"http://{host}:{port}{path}"

    def __enter__(self) -> ServiceServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
