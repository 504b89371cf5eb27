"""Audit tables of ingestion: ``audit.source_files``, ``audit.rejected_rows`` and
``audit.landing_issues`` (data-contracts §4).

Room: the schemas of the audit tables and the functions that build their rows from
parse outcomes and landing-zone listings. Publishing is the warehouse's job.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa

UTC_TS = pa.timestamp("us", tz="UTC")

SOURCE_FILES_SCHEMA = pa.schema(
    [
        ("sha256", pa.string()),
        ("path", pa.string()),
        ("source", pa.string()),
        ("period", pa.string()),
        ("format", pa.string()),
        ("bytes", pa.int64()),
        ("rows_read", pa.int64()),
        ("rows_accepted", pa.int64()),
        ("rows_rejected", pa.int64()),
        ("duplicate_of", pa.string()),
        ("error", pa.string()),          # why a file could not be read at all (NULL when read)
        ("warnings", pa.string()),       # non-blocking notes, '; '-joined
        ("ingested_at", UTC_TS),
        ("run_id", pa.string()),
    ]
)

REJECTED_ROWS_SCHEMA = pa.schema(
    [
        ("sha256", pa.string()),
        ("path", pa.string()),
        ("line", pa.int64()),
        ("source", pa.string()),
        ("period", pa.string()),
        ("rule", pa.string()),
        ("column", pa.string()),
        ("value", pa.string()),
        ("message", pa.string()),
        ("pii_key_id", pa.string()),
        ("run_id", pa.string()),
    ]
)

# Entries of the landing zone that are not read (harmoni_pipeline.ingest.landing_shape):
# a folder that is not a partition, a hidden file, a link out of the zone, ...
LANDING_ISSUES_SCHEMA = pa.schema(
    [
        ("path", pa.string()),       # relative to the landing root, with '/'
        ("source", pa.string()),
        ("problem", pa.string()),    # a fixed text: (source, path, problem) is one issue
        ("first_seen", UTC_TS),
        ("last_seen", UTC_TS),
    ]
)
ISSUE_KEY = ("source", "path", "problem")

AUDIT_TABLES = {
    "audit.source_files": SOURCE_FILES_SCHEMA,
    "audit.rejected_rows": REJECTED_ROWS_SCHEMA,
    "audit.landing_issues": LANDING_ISSUES_SCHEMA,
}


def source_files_table(records: list[dict], run_id: str, ingested_at: dt.datetime) -> pa.Table:
    rows = [{**r, "run_id": run_id, "ingested_at": ingested_at} for r in records]
    columns = {f.name: [r.get(f.name) for r in rows] for f in SOURCE_FILES_SCHEMA}
    return pa.table(columns, schema=SOURCE_FILES_SCHEMA)


def rejected_rows_table(frames: list[pd.DataFrame], run_id: str, pii_key_id: str) -> pa.Table:
    """``frames`` are parser ``rejected`` frames already carrying sha256/path/source/period."""
    if not frames:
        return REJECTED_ROWS_SCHEMA.empty_table()
    df = pd.concat(frames, ignore_index=True)
    df["pii_key_id"] = pii_key_id
    df["run_id"] = run_id
    df["line"] = df["line"].astype("Int64")
    return pa.Table.from_pandas(df[REJECTED_ROWS_SCHEMA.names], schema=REJECTED_ROWS_SCHEMA, preserve_index=False)


def merge_landing_issues(existing: pa.Table | None, seen: pd.DataFrame, now: dt.datetime) -> tuple[pa.Table, pd.DataFrame]:
    """``audit.landing_issues`` after recording the issues ``seen`` (columns
    :data:`ISSUE_KEY`) at ``now`` — first_seen kept, last_seen moved to ``now``; rows not
    seen now kept as they were — and the issues seen now that were never recorded."""
    keys = list(ISSUE_KEY)
    seen = seen[keys].drop_duplicates()
    old = (existing if existing is not None else LANDING_ISSUES_SCHEMA.empty_table()).to_pandas()
    merged = old.merge(seen, on=keys, how="outer", indicator=True)
    now_ts = pd.Timestamp(now)
    seen_now = merged["_merge"] != "left_only"
    merged["first_seen"] = merged["first_seen"].fillna(now_ts)
    merged["last_seen"] = merged["last_seen"].where(~seen_now, now_ts)
    new = merged.loc[merged["_merge"] == "right_only", keys].reset_index(drop=True)
    table = pa.Table.from_pandas(
        merged.sort_values(keys)[LANDING_ISSUES_SCHEMA.names], schema=LANDING_ISSUES_SCHEMA, preserve_index=False
    )
    return table, new
