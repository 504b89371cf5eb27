"""Read the trail of one kecamatan's published scores into one document (``harmoni trace``).

Room: the queries over the published snapshot — the marts' rows of the kecamatan and its
``audit.score_*`` rows, read through one listing so they come from the same publication
— and the shape of the result (field names are a contract: docs/data-contracts.md). It
never recomputes a score. Rendering is :mod:`.render`'s; argument handling the command's.
"""

from __future__ import annotations

import math

from harmoni_pipeline import methodology as methodology_mod
from harmoni_pipeline.periods import month_range, shift
from harmoni_pipeline.trace.schemas import TRAIL_TABLES
from harmoni_pipeline.warehouse import Warehouse

INDICES = ("ihai", "ikn", "kuadran")
# the trail rows of an index; kuadran is read from both indices' trails
TRAIL_OF = {"ihai": ("ihai",), "ikn": ("ikn",), "kuadran": ("ihai", "ikn")}
HEAD = {  # mart, value column, category column, long table of its parts (column of the part)
    "ihai": ("marts.ihai_kecamatan", "ihai", "kategori", "marts.ihai_variabel", "variabel"),
    "ikn": ("marts.ikn_kecamatan", "ikn", "kategori", "marts.ikn_dimensi", "dimensi"),
    "kuadran": ("marts.harmoni_kewaspadaan", "kuadran", None, None, None),
}
HIDDEN = {"period", "methodology_version", "run_id", "kode_kecamatan"}

SOURCES_SQL = """
WITH used AS (
    SELECT indeks, source_path, source_sha256, arrival_period, 'r:' || response_id AS row_key FROM {audit.score_respondents}
    WHERE period = $period AND kode_kecamatan = $kode AND list_contains($indices, indeks)
    UNION ALL
    SELECT 'ikn', source_path, source_sha256, arrival_period, 'f:' || no_laporan FROM {audit.score_reports}
    WHERE period = $period AND kode_kecamatan = $kode AND list_contains($indices, 'ikn')
    UNION ALL
    SELECT indeks, source_path, source_sha256, arrival_period,
        's:' || concat_ws('|', kode_wilayah, indikator, tahun, jenis_kelamin, kelompok_umur)
    FROM {audit.score_statistics}
    WHERE period = $period AND kode_kecamatan = $kode AND list_contains($indices, indeks)
), files AS (
    SELECT path, sha256, arrival_period, any_value(kind) AS kind, any_value(format) AS format,
        any_value(rows_read) AS rows_read, any_value(rows_rejected) AS rows_rejected,
        any_value(rejected_rules) AS rejected_rules
    FROM {audit.score_sources}
    WHERE period = $period AND kode_kecamatan = $kode AND list_contains($indices, indeks)
    GROUP BY ALL
)
SELECT f.path, f.sha256, f.kind, f.format, f.arrival_period, count(DISTINCT u.row_key) AS rows_used,
    list(DISTINCT u.indeks ORDER BY u.indeks) AS indices, f.rows_read, f.rows_rejected, f.rejected_rules
FROM files f JOIN used u ON u.source_path = f.path AND u.source_sha256 = f.sha256 AND u.arrival_period = f.arrival_period
GROUP BY ALL
ORDER BY f.kind, f.arrival_period, f.path
"""

RESPONDENTS_SQL = """
SELECT indeks AS "index", response_id, jenis_kelamin, umur, weight, arrival_period, source_path AS path,
    source_sha256 AS sha256, line, pii_key_id
FROM {audit.score_respondents}
WHERE period = $period AND kode_kecamatan = $kode AND list_contains($indices, indeks)
ORDER BY indeks, response_id
"""

REPORTS_SQL = """
SELECT no_laporan, status, kualifikasi, tgl_lapor, tgl_kejadian, tgl_tindak_lanjut, tgl_selesai, in_window, red_alert,
    arrival_period, source_path AS path, source_sha256 AS sha256, line
FROM {audit.score_reports}
WHERE period = $period AND kode_kecamatan = $kode AND list_contains($indices, 'ikn')
ORDER BY no_laporan
"""

STATISTICS_SQL = """
SELECT use, indikator, kode_wilayah, tahun, jenis_kelamin, kelompok_umur, nilai, diwarisi,
    list(DISTINCT indeks ORDER BY indeks) AS indices, arrival_period, source_path AS path, source_sha256 AS sha256, line
FROM {audit.score_statistics}
WHERE period = $period AND kode_kecamatan = $kode AND list_contains($indices, indeks)
GROUP BY ALL
ORDER BY use, indikator, tahun, jenis_kelamin NULLS FIRST, kelompok_umur NULLS FIRST
"""

RUNS_SQL = """
SELECT table_name AS layer, partition, staging_run_id AS run_id, list(DISTINCT indeks ORDER BY indeks) AS indices
FROM {audit.score_runs}
WHERE period = $period AND kode_kecamatan = $kode AND list_contains($indices, indeks)
GROUP BY ALL
ORDER BY layer, partition, run_id
"""


class TraceError(ValueError):
    """What was asked has no published score (unknown kecamatan, unpublished month)."""


class Snapshot:
    """The files one manifest names for a period: every query of a trace reads these, so
    marts and trail come from the same publication even while a new one lands."""

    def __init__(self, warehouse: Warehouse, period: str):
        self.warehouse = warehouse
        self.manifest = warehouse.manifest("marts", period)
        if self.manifest is None:
            raise TraceError(f"no marts are published for {period} (run `harmoni run --period {period}` first)")
        self.con = warehouse.connect()

    def close(self) -> None:
        self.con.close()

    def has(self, table: str) -> bool:
        return table in self.manifest.tables

    def records(self, sql: str, params: dict) -> list[dict]:
        """Rows of ``sql`` as dicts; ``{schema.table}`` reads the table's file of this snapshot."""
        for table, entry in self.manifest.tables.items():
            path = self.warehouse.storage.duckdb_path(self.warehouse.root / entry.file).replace("'", "''")
            sql = sql.replace("{" + table + "}", f"read_parquet('{path}')")
        cursor = self.con.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [{n: _plain(v) for n, v in zip(names, row)} for row in cursor.fetchall()]


def _plain(value):
    """JSON-ready: dates as ISO text, NaN as None."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _mart_row(snap: Snapshot, table: str, period: str, kode: str) -> dict | None:
    rows = snap.records( f"SELECT * FROM {{{table}}} WHERE period = $period AND kode_kecamatan = $kode",
                    {"period": period, "kode": kode})
    return rows[0] if rows else None


def _score(snap: Snapshot, index: str, period: str, kode: str) -> tuple[dict, dict]:
    """The published score of one index and the mart row it comes from."""
    table, value, category, parts_table, part = HEAD[index]
    row = _mart_row(snap, table, period, kode)
    if row is None:
        raise TraceError(f"{table} {period} has no row for kecamatan {kode}")
    score = {
        "index": index,
        "table": table,
        "value": row[value],
        "status": row.get("status") if index != "kuadran" else ("ok" if row["kuadran"] else row["alasan_null"]),
        "category": row[category] if category else row.get("rekomendasi"),
        "columns": {k: v for k, v in row.items() if k not in HIDDEN},
    }
    if parts_table:
        score["parts"] = snap.records(
            f"SELECT {part}, aspek, skor, n FROM {{{parts_table}}} WHERE period = $period AND "
            f"kode_kecamatan = $kode ORDER BY {part}, aspek", {"period": period, "kode": kode})
    return score, row


def _check_published(snap: Snapshot, period: str, kode: str) -> None:
    if _mart_row(snap, "marts.ihai_kecamatan", period, kode) is None:
        known = snap.records("SELECT count(*) AS n, min(kode_kecamatan) AS first FROM {marts.ihai_kecamatan} "
                         "WHERE period = $period", {"period": period})[0]
        raise TraceError(f"kecamatan {kode} has no score in {period}: the month's marts hold {known['n']} kecamatan "
                         f"(codes like {known['first']}); give a Kemendagri code PP.KK.CC in the scope scored")
    missing = [t for t in TRAIL_TABLES if not snap.has(t)]
    if missing:
        raise TraceError(f"the marts of {period} were published without their trail ({', '.join(missing)}): "
                         f"re-score the month (`harmoni run --period {period}`) to record it")


def trace(warehouse: Warehouse, period: str, kode: str, index: str | None = None) -> dict:
    """The trail of kecamatan ``kode``'s published scores of ``period``: one index, or
    (``index=None``) all three. Raises :class:`TraceError` when nothing is published."""
    if index is not None and index not in INDICES:
        raise TraceError(f"--index must be one of {', '.join(INDICES)}, not {index!r}")
    snap = Snapshot(warehouse, period)
    try:
        return _trace(snap, period, kode, index)
    finally:
        snap.close()


def _trace(snap: Snapshot, period: str, kode: str, index: str | None) -> dict:
    _check_published(snap, period, kode)
    asked = [index] if index else list(INDICES)
    scores, rows = [], []
    for name in asked:
        score, row = _score(snap, name, period, kode)
        scores.append(score)
        rows.append(row)
    indices = sorted({i for name in asked for i in TRAIL_OF[name]})
    params = {"period": period, "kode": kode, "indices": indices}
    version = rows[0]["methodology_version"]
    m = methodology_mod.load(version)
    respondent_rows = snap.records(RESPONDENTS_SQL, params)
    reports = snap.records(REPORTS_SQL, params)
    runs = snap.records(RUNS_SQL, params)
    scoring_run = rows[0]["run_id"]
    runs.append({"layer": "marts", "partition": period, "run_id": scoring_run, "indices": indices,
                 "published_at": snap.manifest.published_at if snap.manifest.run_id == scoring_run else None})
    event_months = int(m.ikn["event"]["window_months"])
    return {
        "period": period,
        "kode_kecamatan": kode,
        "nama_kecamatan": rows[0].get("nama_kecamatan") or scores[0]["columns"].get("nama_kecamatan"),
        "indices": asked,
        "scores": scores,
        "methodology": {"version": version, "sha256": m.sha256},
        "window_months": month_range(shift(period, -(m.window_months - 1)), period),
        "event_window_months": month_range(shift(period, -(event_months - 1)), period),
        "sources": snap.records(SOURCES_SQL, params),
        "respondents": len({r["response_id"] for r in respondent_rows}),
        "respondent_rows": respondent_rows,
        "reports_in_window": sum(1 for r in reports if r["in_window"]),
        "reports": reports,
        "statistics": snap.records(STATISTICS_SQL, params),
        "runs": runs,
    }
