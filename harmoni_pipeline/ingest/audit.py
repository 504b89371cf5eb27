"""Audit tables of ingestion: ``audit.source_files`` and ``audit.rejected_rows``
(data-contracts §4).

Room: the schemas of the two audit tables and the functions that build their rows from
parse outcomes. Publishing is the warehouse's job.
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

AUDIT_TABLES = {
    "audit.source_files": SOURCE_FILES_SCHEMA,
    "audit.rejected_rows": REJECTED_ROWS_SCHEMA,
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
