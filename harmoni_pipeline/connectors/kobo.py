"""KoboToolbox API v2 → Kobo CSV (``;``) landing files, incrementally.

Room: paging through ``/api/v2/assets/{uid}/data/`` (``limit`` at most 1,000, following
``next``), choosing the records not landed before, and rendering them as the Kobo CSV
layout of data-contracts §3.1 (survey) or with the FKDM columns of §3.2 (a KoboToolbox
form for FKDM reports).

Incremental rule. The cursor of an asset is the latest ``_submission_time`` landed and
the ``_id`` of every record landed at that instant. A pull asks only for
``_submission_time >= cursor`` (Kobo's ``query``), then keeps a record when it is later
than the cursor, or at the cursor's instant with an ``_id`` not landed yet — so records
sharing a timestamp are never lost, and the cursor's own records never come back. A
record the server repeats (on two pages) is kept once (first ``_id`` wins). A record
without a readable ``_submission_time`` (never from a real server, but cheap to guard)
is landed once and its ``_id`` kept in the cursor's ``undated`` list. The token
is sent as ``Authorization: Token …`` to the configured host only (not to a ``next``
URL on another host, nor along a redirect).

Rendering. Kobo's field names are kept (``identitas/kecamatan``, ``ihai/X01_PER``,
``_uuid``, ``_submission_time``…); columns are the union of the records' keys in first
seen order; keys whose value is a list or an object (``_attachments``, ``_geolocation``,
``_validation_status``…) are left out, as they are not fields. Every cell is quoted and
``;`` separates them, as Kobo's own CSV export. For FKDM, a field's group prefix is
dropped (``laporan/no_laporan`` → ``no_laporan``) unless two fields would share a name.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import urllib.parse

from harmoni_pipeline.connectors.http import HttpClient, PullError, redact
from harmoni_pipeline.connectors.landing import Pulled, PullState, sha256, utc_stamp

PAGE_LIMIT = 1000  # KoboToolbox's cap on `limit`


def data_url(base_url: str, uid: str, since: str | None, limit: int = PAGE_LIMIT) -> str:
    """The first page's URL: all records, or those submitted at or after ``since``."""
    params = {"format": "json", "limit": str(min(limit, PAGE_LIMIT)), "start": "0",
              "sort": json.dumps({"_id": 1}, separators=(",", ":"))}
    if since:
        params["query"] = json.dumps({"_submission_time": {"$gte": since}}, separators=(",", ":"))
    uid_part = urllib.parse.quote(uid, safe="")
    return f"{base_url.rstrip('/')}/api/v2/assets/{uid_part}/data/?{urllib.parse.urlencode(params)}"


def fetch_records(client: HttpClient, first_url: str, token: str) -> list[dict]:
    """Every record of every page from ``first_url`` on, in the order served."""
    host = urllib.parse.urlsplit(first_url).netloc
    records: list[dict] = []
    seen_urls: set[str] = set()
    url = first_url
    while url and url not in seen_urls:
        seen_urls.add(url)
        auth = {"Authorization": f"Token {token}"} if urllib.parse.urlsplit(url).netloc == host else None
        body = client.get(url, auth=auth, secrets=(token,))
        try:
            page = json.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            raise PullError(f"{redact(url, (token,))}: not JSON (is HARMONI_KOBO_URL the KoboToolbox server?)") from None
        if not isinstance(page, dict) or not isinstance(page.get("results"), list):
            raise PullError(f"{redact(url, (token,))}: not a KoboToolbox v2 data page (no 'results' list)")
        records.extend(r for r in page["results"] if isinstance(r, dict))
        if not page["results"]:
            break
        url = page.get("next")
        if url:
            url = urllib.parse.urljoin(first_url, url)
    return records


def _instant(value) -> dt.datetime | None:
    """``_submission_time`` as a naive UTC instant (Kobo writes UTC), ``None`` if absent."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return parsed


def _record_id(record: dict) -> str | None:
    value = record.get("_id", record.get("_uuid"))
    return None if value is None else str(value)


def select_new(records: list[dict], cursor: dict | None) -> tuple[list[dict], dict | None]:
    """The records to land (each ``_id`` once; none the cursor says was landed) and the
    cursor after them. A record whose ``_submission_time`` is missing or unreadable
    cannot be placed in time: its ``_id`` is remembered instead (``undated``)."""
    cursor = cursor or {}
    since = _instant(cursor.get("submission_time"))
    landed, undated = set(cursor.get("ids", [])), set(cursor.get("undated", []))
    seen: set[str] = set()
    new: list[tuple[dt.datetime | None, dict]] = []
    for record in records:
        rid = _record_id(record)
        if rid is not None and (rid in seen or rid in undated):
            continue
        when = _instant(record.get("_submission_time"))
        if since is not None and when is not None and (when < since or (when == since and rid in landed)):
            continue
        if rid is not None:
            seen.add(rid)
        new.append((when, record))
    after = {"submission_time": cursor.get("submission_time"), "ids": sorted(landed),
             "undated": sorted(undated | {_record_id(r) for t, r in new if t is None and _record_id(r) is not None})}
    timed = [(t, r) for t, r in new if t is not None]
    if timed:
        latest = max(t for t, _ in timed)
        at_latest = {_record_id(r) for t, r in timed if t == latest} - {None}
        if since is None or latest > since:
            after["submission_time"] = next(r["_submission_time"] for t, r in timed if t == latest)
            after["ids"] = sorted(at_latest)
        elif latest == since:
            after["ids"] = sorted(landed | at_latest)
    records_new = [r for _, r in new]
    if not records_new and not cursor:
        return [], None
    return records_new, after


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def survey_columns() -> list[str]:
    """The columns of the Kobo survey layout (§3.1) a file always carries, answered or
    not: Kobo's JSON leaves out unanswered questions, so a pull of a few records could
    otherwise lack a column the parser needs (items: ``ihai/X…``, ``ikn/KN…``)."""
    from harmoni_pipeline.methodology import all_items

    items = [("ihai/" if code.upper().startswith("X") else "ikn/") + code for code in all_items()]
    return ["start", "end", "identitas/kecamatan", "identitas/desa", "identitas/jk", "identitas/umur", *items]


def render_csv(records: list[dict], fkdm: bool = False) -> bytes:
    """Records → Kobo CSV bytes (``;``, every cell quoted, UTF-8, CRLF). A survey file
    also carries every column of :func:`survey_columns` that no record names (an item
    counts as named under any group: ``grp/X01_PER``)."""
    columns: dict[str, None] = {}
    if not fkdm:
        named = {key.rsplit("/", 1)[-1].upper() for record in records for key in record}
        for column in survey_columns():
            if column.rsplit("/", 1)[-1].upper() not in named:
                columns[column] = None
    nested: set[str] = set()
    for record in records:
        for key, value in record.items():
            columns.setdefault(key, None)
            if isinstance(value, (list, dict)):
                nested.add(key)
    keys = [k for k in columns if k not in nested]
    header = keys
    if fkdm:
        short = [k.rsplit("/", 1)[-1] for k in keys]
        header = [s if short.count(s) == 1 else k for k, s in zip(keys, short)]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(r.get(k)) for k in keys] for r in records)
    return out.getvalue().encode("utf-8")


def pull_asset(client: HttpClient, state: PullState, *, base_url: str, token: str, uid: str, period: str,
               fkdm: bool = False) -> Pulled:
    """One pull of one Kobo asset into ``survey/{period}/`` (``fkdm/{period}/`` for an
    FKDM form): a new file with only the new records, or nothing."""
    source = "kobo_fkdm" if fkdm else "kobo"
    before = state.cursor(source, uid)
    url = data_url(base_url, uid, (before or {}).get("submission_time"))
    result = Pulled(source=source, target=uid, url=redact(url, (token,)), period=period,
                    cursor_before=json.dumps(before) if before else None)
    new, after = select_new(fetch_records(client, url, token), before)
    result.cursor_after = json.dumps(after) if after else None
    if not new:
        if after != before:
            state.move_cursor(source, uid, after)
        return result
    data = render_csv(new, fkdm)
    digest = sha256(data)
    name = f"kobo_{_safe(uid)}_{utc_stamp()}_{digest[:8]}.csv"
    result.path = state.land(f"{'fkdm' if fkdm else 'survey'}/{period}", name, data, source=source, target=uid,
                             cursor_before=before, cursor_after=after)
    result.records, result.bytes, result.sha256 = len(new), len(data), digest
    return result


def _safe(text: str) -> str:
    """A file-name-safe form of an id (letters, digits, ``-``)."""
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch == "-") else "-" for ch in text)[:40]
