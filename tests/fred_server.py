"""A local FRED API look-alike on 127.0.0.1, serving observations from snapshot files.

fredapi talks to it unchanged (its ``root_url`` is pointed here), so the real client code
path -- URL building, XML parsing, '.' for missing -- is exercised without a network.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import quoteattr

import pandas as pd

from data.registry import SERIES


def fred_files(snapshot: Path) -> dict[str, pd.Series]:
    """FRED id -> observations, split the way FRED splits the target series."""
    out: dict[str, pd.Series] = {}
    for spec in SERIES.values():
        if spec.fred_id is None:
            continue
        frame = pd.read_csv(snapshot / spec.file, dtype=str, keep_default_na=False)
        series = pd.Series(frame["value"].to_numpy(), index=frame["date"].to_numpy())
        if spec.id == "DFEDTARU":
            out["DFEDTAR"] = series[series.index <= "2008-12-15"]
            out["DFEDTARU"] = series[series.index >= "2008-12-16"]
        elif spec.fred_per_unit != 1.0:  # FRED's own unit (WRESBAL: millions)
            values = pd.to_numeric(series.replace("", None)) * spec.fred_per_unit
            out[spec.fred_id] = values.map(lambda v: "" if pd.isna(v) else f"{v:.6f}")
        else:
            out[spec.fred_id] = series
    return out


class FredServer:
    def __init__(self, snapshot: Path, api_key: str = "test-key") -> None:
        self.series = fred_files(snapshot)
        self.api_key = api_key
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                url = urlparse(self.path)
                query = parse_qs(url.query)
                server.requests.append(self.path)
                if query.get("api_key") != [server.api_key]:
                    return self._send(
                        400,
                        '<error code="400" message="Bad Request. '
                        'The value for variable api_key is not registered."/>',
                    )
                sid = query.get("series_id", [""])[0]
                if not url.path.endswith("/series/observations") or sid not in server.series:
                    return self._send(
                        400, '<error code="400" message="Bad Request. The series does not exist."/>'
                    )
                rows = "".join(
                    f'<observation realtime_start="2026-11-01" realtime_end="2026-11-01" '
                    f"date={quoteattr(d)} value={quoteattr(v or '.')}/>"
                    for d, v in server.series[sid].items()
                )
                self._send(
                    200,
                    f'<?xml version="1.0" encoding="utf-8"?><observations>{rows}</observations>',
                )

            def _send(self, code: int, body: str) -> None:
                data = body.encode()
                self.send_response(code)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/fred"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FredServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
