"""Google Sheets (a Google Form's response sheet, shared by link) → Google Forms CSV
landing files holding only the responses not landed before.

Room: fetching a sheet's CSV export (redirects followed), telling its new rows from the
ones already landed, and writing those as a CSV in the Google Forms layout of
data-contracts §3.1 (same header, same cells).

The export is cumulative: every pull returns every response so far. Rather than replace
a month file (landing files are never modified), each pull lands **only the rows it has
not landed before**, so a response is staged once however many pulls a month sees, and
nothing is written when the export did not change. A row is known by the SHA-256 of its
non-empty cells with their column names — so a question added to the form (a new,
empty column in old rows) or a reordered column does not make old rows new. Identical
rows are counted: an export with a row three times whose cursor holds it twice lands
it once more (the parser then judges the copy, as in a hand-dropped export). The cursor
of a sheet is these counts (16 hex digits per row) and the SHA-256 of the last export,
so an unchanged export is recognised without parsing it. A response edited in Google Forms
changes its row, so its new version is landed as a new response (its id differs too,
``gf-…``); deletions are never propagated (landed files are never modified).
"""

from __future__ import annotations

import collections
import csv
import hashlib
import io
import json

from harmoni_pipeline.connectors.http import HttpClient, PullError, redact
from harmoni_pipeline.connectors.landing import Pulled, PullState, sha256, utc_stamp

TIMESTAMP_HEADERS = {"timestamp", "stempel waktu"}


def sheet_label(url: str) -> str:
    """The sheet's masked name for logs and audit: key prefix and ``gid``."""
    return redact(url)


def sheet_id(url: str) -> str:
    """A file-name-safe id of the sheet that reveals nothing of its key: 8 hex digits of
    the URL's SHA-256 (a link shared with anyone who has it is a credential)."""
    return hashlib.sha256(url.encode()).hexdigest()[:8]


def parse_export(body: bytes, url: str) -> tuple[list[str], list[list[str]]]:
    """The export's header and rows (blank lines dropped); :class:`PullError` when the
    body is not a CSV that starts with a Google Forms timestamp column."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PullError(f"{redact(url)}: the export is not UTF-8 text") from None
    if text.lstrip().lower().startswith(("<!doctype", "<html")):
        raise PullError(f"{redact(url)}: an HTML page instead of a CSV (is the sheet shared with 'anyone with the link'?)")
    rows = [row for row in csv.reader(io.StringIO(text, newline="")) if any(row) and "".join(row).strip()]
    if not rows:
        raise PullError(f"{redact(url)}: empty export (no header)")
    header = rows[0]
    if not header or " ".join(header[0].split()).casefold() not in TIMESTAMP_HEADERS:
        raise PullError(f"{redact(url)}: not a Google Forms response sheet (first column is not Timestamp)")
    return header, rows[1:]


def row_keys(header: list[str], rows: list[list[str]]) -> list[str]:
    """Per row, 16 hex digits of SHA-256 over its non-empty cells with their column
    names (normalised: letter case, runs of spaces), in the names' order."""
    names = [" ".join(h.split()).casefold() for h in header]
    order = sorted(range(len(names)), key=lambda i: (names[i], i))
    keys = []
    for row in rows:
        text = "\x1e".join(f"{names[i]}\x1f{row[i]}" for i in order if i < len(row) and row[i].strip())
        keys.append(hashlib.sha256(text.encode()).hexdigest()[:16])
    return keys


def select_new(header: list[str], rows: list[list[str]], landed: dict[str, int]) -> tuple[list[list[str]], dict]:
    """The rows not landed yet (each key beyond the count already landed) and the
    counts after landing them."""
    counts = collections.Counter(landed)
    seen: collections.Counter = collections.Counter()
    new = []
    for row, key in zip(rows, row_keys(header, rows)):
        seen[key] += 1
        if seen[key] > counts[key]:
            new.append(row)
    after = dict(counts)
    for key, n in seen.items():
        after[key] = max(n, counts[key])
    return new, after


def render_csv(header: list[str], rows: list[list[str]]) -> bytes:
    """Google Sheets' CSV: ``,``, quotes only where needed, CRLF, UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def pull_sheet(client: HttpClient, state: PullState, *, url: str, period: str) -> Pulled:
    """One pull of one sheet into ``survey/{period}/``: the new rows as one file, or
    nothing. An export byte-identical to the last one is not parsed again."""
    label = sheet_label(url)
    cursor = state.cursor("sheets", url) or {"export_sha256": None, "rows": {}}
    landed = cursor["rows"]
    result = Pulled(source="sheets", target=label, url=label, period=period,
                    cursor_before=f"{sum(landed.values())} rows landed")
    body = client.get(url)
    export_sha = sha256(body)
    if export_sha == cursor["export_sha256"]:
        result.cursor_after = result.cursor_before
        return result
    header, rows = parse_export(body, url)
    new, counts = select_new(header, rows, landed)
    after = {"export_sha256": export_sha, "rows": counts}
    result.cursor_after = f"{sum(counts.values())} rows landed"
    if not new:
        state.move_cursor("sheets", url, after)
        return result
    data = render_csv(header, new)
    digest = sha256(data)
    name = f"gsheets_{sheet_id(url)}_{utc_stamp()}_{digest[:8]}.csv"
    result.path = state.land(f"survey/{period}", name, data, source="sheets", target=url, cursor_before=cursor,
                             cursor_after=after)
    result.records, result.bytes, result.sha256 = len(new), len(data), digest
    return result
