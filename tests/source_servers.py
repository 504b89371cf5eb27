"""Local HTTP servers standing in for KoboToolbox (API v2), a Google Sheets CSV export
and the BPS WebAPI, replaying their response shapes — never the real hosts.

Each server runs ``http.server`` in a thread on 127.0.0.1 (a random port) and records
the requests it answered. ``faults`` is a queue of answers given before the normal one:
``(status, headers, body)`` or ``"cut"`` (a body announced longer than it is, then the
connection closed mid-body).
"""

from __future__ import annotations

import collections
import csv
import io
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KOBO_PAGE_CAP = 1000


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):  # noqa: N802
        server: LocalServer = self.server.owner
        parts = urllib.parse.urlsplit(self.path)
        query = {k: v[0] for k, v in urllib.parse.parse_qs(parts.query, keep_blank_values=True).items()}
        server.requests.append({"path": parts.path, "query": query, "headers": dict(self.headers)})
        answer = server.faults.popleft() if server.faults else server.answer(parts.path, query, self.headers)
        if answer == "cut":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "5000")
            self.end_headers()
            self.wfile.write(b'{"count": 1, "results": [{"_id": 1')
            self.wfile.flush()
            self.close_connection = True
            return
        status, headers, body = answer
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class LocalServer:
    """Base: subclasses implement ``answer(path, query, headers)``."""

    def __init__(self):
        self.requests: list[dict] = []
        self.faults: collections.deque = collections.deque()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.owner = self
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def answer(self, path, query, headers):
        raise NotImplementedError


class KoboServer(LocalServer):
    """``/api/v2/assets/{uid}/data/``: ``{count, next, previous, results}`` pages,
    ``limit`` capped at 1,000, ``start``, ``query`` on ``_submission_time`` (``$gte``,
    compared as strings, as MongoDB does), sorted by ``_id``. ``repeat_on_next_page``:
    each page after the first also begins with the previous page's last record."""

    def __init__(self, token: str, assets: dict[str, list[dict]]):
        super().__init__()
        self.token = token
        self.assets = assets
        self.repeat_on_next_page = False

    def answer(self, path, query, headers):
        if headers.get("Authorization") != f"Token {self.token}":
            return 401, {"Content-Type": "application/json"}, {"detail": "Invalid token."}
        segments = [s for s in path.split("/") if s]
        if len(segments) != 5 or segments[:3] != ["api", "v2", "assets"] or segments[4] != "data":
            return 404, {}, {"detail": "Not found."}
        if segments[3] not in self.assets:
            return 404, {}, {"detail": "Not found."}
        records = sorted(self.assets[segments[3]], key=lambda r: r["_id"])
        if "query" in query:
            since = json.loads(query["query"])["_submission_time"]["$gte"]
            records = [r for r in records if isinstance(r.get("_submission_time"), str) and r["_submission_time"] >= since]
        limit = min(int(query.get("limit", 100)), KOBO_PAGE_CAP)
        start = int(query.get("start", 0))
        page = records[start:start + limit]
        if self.repeat_on_next_page and start > 0:
            page = [records[start - 1], *page]
        following = None
        if start + limit < len(records):
            following = f"{self.url}{path}?" + urllib.parse.urlencode({**query, "start": start + limit})
        body = {"count": len(records), "next": following, "previous": None, "results": page}
        return 200, {"Content-Type": "application/json"}, body


class SheetsServer(LocalServer):
    """``/spreadsheets/d/{key}/export?format=csv&gid=N`` answers a redirect to
    ``/export-content/{key}/{gid}``, which serves ``csv[(key, gid)]``."""

    def __init__(self, csv_bodies: dict[tuple[str, str], bytes]):
        super().__init__()
        self.csv = csv_bodies

    def export_url(self, key: str, gid: str = "0") -> str:
        return f"{self.url}/spreadsheets/d/{key}/export?format=csv&gid={gid}"

    def answer(self, path, query, headers):
        segments = [s for s in path.split("/") if s]
        if segments[:2] == ["spreadsheets", "d"] and segments[-1] == "export":
            return 307, {"Location": f"{self.url}/export-content/{segments[2]}/{query.get('gid', '0')}"}, b""
        if segments[:1] == ["export-content"] and (segments[1], segments[2]) in self.csv:
            return 200, {"Content-Type": "text/csv; charset=utf-8"}, self.csv[(segments[1], segments[2])]
        return 404, {"Content-Type": "text/html"}, "<html>not found</html>"


class BpsServer(LocalServer):
    """``/v1/api/list/model/data/lang/ind/domain/{d}/var/{v}/th/{th}/key/{key}/``:
    ``bodies[(domain, var, th)]``; an unknown combination answers
    ``data-availability: list-not-available``; a wrong key ``status: Error``."""

    def __init__(self, key: str, bodies: dict[tuple[str, str, str], bytes]):
        super().__init__()
        self.key = key
        self.bodies = bodies

    @property
    def base(self) -> str:
        return f"{self.url}/v1"

    def answer(self, path, query, headers):
        segments = [s for s in path.split("/") if s]
        fields = dict(zip(segments[5::2], segments[6::2])) if segments[:5] == ["v1", "api", "list", "model", "data"] else {}
        if fields.get("key") != self.key:
            return 200, {"Content-Type": "application/json"}, {"status": "Error", "message": "Invalid API key"}
        body = self.bodies.get((fields.get("domain"), fields.get("var"), fields.get("th")))
        if body is None:
            return 200, {"Content-Type": "application/json"}, {"status": "OK", "data-availability": "list-not-available"}
        return 200, {"Content-Type": "application/json"}, body


def kobo_records_from_csv(data: bytes) -> list[dict]:
    """A Kobo ``;`` CSV export → the records the API serves for it: unanswered fields
    left out, ``_id`` a number, list/object metadata as Kobo's JSON has it; ``_index``
    is an export column only."""
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    records = []
    for row in rows:
        record = {k: v for k, v in row.items() if v not in ("", None) and k != "_index"}
        if "_id" in record:
            record["_id"] = int(record["_id"])
        record.update({"_attachments": [], "_geolocation": [None, None], "_notes": [], "_tags": [],
                       "_validation_status": {}})
        records.append(record)
    return records
