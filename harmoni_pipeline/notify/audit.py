"""``audit.notifications``: the published copy of the ledger, one partition per period.

Room: the table's schema and rewriting the partitions of the periods a pass touched
from the ledger (under the warehouse's lock, so two writers never publish an older
state over a newer one on a local warehouse). Recipients are masked; contact values
never reach it.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from harmoni_pipeline.notify.ledger import Ledger

TABLE = "audit.notifications"
UTC_TS = pa.timestamp("us", tz="UTC")
NOTIFICATIONS_SCHEMA = pa.schema([
    ("period", pa.string()),
    ("kind", pa.string()),            # red_report | became_rawan | digest
    ("key", pa.string()),             # the alert's key: what is sent once
    ("kecamatan", pa.string()),       # kode_kecamatan (NULL for a digest)
    ("position", pa.string()),        # the responsible position (NULL: none assigned)
    ("unassigned", pa.bool_()),       # sent to the fallback contact
    ("channel", pa.string()),         # email | telegram | webhook | none
    ("recipient", pa.string()),       # masked (r***@…)
    ("status", pa.string()),          # pending | sending | sent | failed
    ("attempts", pa.int64()),
    ("created_at", UTC_TS),
    ("sent_at", UTC_TS),
    ("expires_at", UTC_TS),
    ("error", pa.string()),
    ("idempotency_key", pa.string()),
])


def _ts(text: str | None):
    return dt.datetime.fromisoformat(text) if text else None


def table_of(rows: list[dict]) -> pa.Table:
    columns = {f.name: [] for f in NOTIFICATIONS_SCHEMA}
    for r in rows:
        for f in NOTIFICATIONS_SCHEMA:
            value = r.get(f.name)
            if f.type == UTC_TS:
                value = _ts(value)
            elif f.name == "unassigned":
                value = bool(value)
            columns[f.name].append(value)
    return pa.table(columns, schema=NOTIFICATIONS_SCHEMA)


def publish(warehouse, ledger: Ledger, periods) -> int:
    """Rewrite ``audit.notifications`` for ``periods`` from the ledger; returns rows written."""
    written = 0
    with warehouse.storage.lock(".notifications.lock"), warehouse.one_catalog_refresh():
        for period in sorted(set(periods)):
            data = table_of(ledger.rows([period]))
            warehouse.write_partition(TABLE, period, data)
            written += data.num_rows
    return written
