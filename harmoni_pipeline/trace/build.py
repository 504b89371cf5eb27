"""Build one period's provenance tables (``audit.score_*``) from what its scores used.

Room: turning the inputs a period's scores read (the survey window, the latest FKDM
report versions, the current statistics, the population table, the context values) and
the per-respondent weights of each index into the five trail tables — in DuckDB SQL
over those frames and the ingestion audit tables. Which rows count is decided by the
scoring modules (:mod:`harmoni_pipeline.scoring.inputs`, ``survey``, ``events``,
``population``, ``context``); nothing here recomputes a score. Published by the marts'
gate in the period's snapshot, with the marts (so trail and scores never disagree).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from harmoni_pipeline.scoring import events, population
from harmoni_pipeline.warehouse.pending import Written
from harmoni_pipeline.trace.schemas import REPORTS, RESPONDENTS, RUNS, SOURCES, STATISTICS, TRAIL_SCHEMAS

if TYPE_CHECKING:
    from harmoni_pipeline.scoring.marts import PeriodContext, PeriodInputs
    from harmoni_pipeline.scoring.survey import IndexScores

#: audit.score_respondents' columns taken from the survey window: (trail column, window column)
WINDOW_COLUMNS = [("kode_kecamatan", "kode_kecamatan"), ("response_id", "response_id"), ("jenis_kelamin", "jenis_kelamin"),
                  ("umur", "umur"), ("pii_key_id", "pii_key_id"), ("arrival_period", "period"),
                  ("source_path", "source_path"), ("source_sha256", "source_sha256"), ("line", "line"),
                  ("staging_run_id", "staging_run_id")]
REPORT_COLUMNS = ["no_laporan", "kode_kecamatan", "status", "kualifikasi", "tgl_lapor", "tgl_kejadian",
                  "tgl_tindak_lanjut", "tgl_selesai", "in_window", "red_alert", "period", "source_path", "source_sha256",
                  "line", "staging_run_id"]
FILE_SQL = """CAST(period AS VARCHAR) AS arrival_period, CAST(source_path AS VARCHAR) AS source_path,
    CAST(source_sha256 AS VARCHAR) AS source_sha256, CAST(line AS BIGINT) AS line,
    CAST(staging_run_id AS VARCHAR) AS staging_run_id"""

REPORTS_SQL = f"""
SELECT CAST(kode_kecamatan AS VARCHAR) AS kode_kecamatan, CAST(no_laporan AS VARCHAR) AS no_laporan,
    CAST(status AS VARCHAR) AS status, CAST(kualifikasi AS VARCHAR) AS kualifikasi,
    CAST(tgl_lapor AS DATE) AS tgl_lapor, CAST(tgl_kejadian AS DATE) AS tgl_kejadian,
    CAST(tgl_tindak_lanjut AS DATE) AS tgl_tindak_lanjut, CAST(tgl_selesai AS DATE) AS tgl_selesai,
    CAST(in_window AS BOOLEAN) AS in_window, CAST(red_alert AS BOOLEAN) AS red_alert, {FILE_SQL}
FROM used_reports
WHERE (in_window OR red_alert) AND list_contains($codes, kode_kecamatan)
ORDER BY kode_kecamatan, no_laporan
"""

# Context values: the row of the current statistics each value came from (the
# kecamatan's own, or its kabupaten's when inherited). Population: the adult cells of
# the margins' year (raking margins and P_adult, both indices) and the rows of the total's
# year that gave P_total (a stated total when that year has one, else the complete
# breakdown; IKN only) — the rules of harmoni_pipeline.scoring.population.
STATISTICS_SQL = f"""
WITH pop AS (
    SELECT * FROM stats WHERE indikator = $population AND nilai IS NOT NULL
), stated AS (
    SELECT DISTINCT kode_wilayah, tahun FROM pop WHERE jenis_kelamin IS NULL AND kelompok_umur IS NULL
), used AS (
    SELECT k.kode_kecamatan, 'ikn' AS indeks, 'konteks' AS use, s.*, k.diwarisi
    FROM konteks k JOIN stats s ON s.kode_wilayah = k.kode_wilayah_sumber AND s.indikator = k.indikator
        AND s.tahun = k.tahun AND s.jenis_kelamin IS NULL AND s.kelompok_umur IS NULL
    UNION ALL
    SELECT p.kode_kecamatan, i.indeks, 'margins', s.*, false
    FROM margins p JOIN pop s ON s.kode_wilayah = p.kode_kecamatan AND s.tahun = p.tahun_margins
        CROSS JOIN (VALUES ('ihai'), ('ikn')) i(indeks)
    WHERE list_contains($sexes, s.jenis_kelamin) AND list_contains($adult_bands, s.kelompok_umur)
    UNION ALL
    SELECT p.kode_kecamatan, 'ikn', 'total', s.*, false
    FROM margins p JOIN pop s ON s.kode_wilayah = p.kode_kecamatan AND s.tahun = p.tahun_total
        LEFT JOIN stated t ON t.kode_wilayah = s.kode_wilayah AND t.tahun = s.tahun
    WHERE CASE WHEN t.tahun IS NOT NULL THEN s.jenis_kelamin IS NULL AND s.kelompok_umur IS NULL
               ELSE list_contains($sexes, s.jenis_kelamin) AND list_contains($all_bands, s.kelompok_umur) END
)
SELECT CAST(kode_kecamatan AS VARCHAR) AS kode_kecamatan, indeks, use, CAST(kode_wilayah AS VARCHAR) AS kode_wilayah,
    CAST(indikator AS VARCHAR) AS indikator, CAST(tahun AS BIGINT) AS tahun,
    CAST(jenis_kelamin AS VARCHAR) AS jenis_kelamin, CAST(kelompok_umur AS VARCHAR) AS kelompok_umur,
    CAST(nilai AS DOUBLE) AS nilai, CAST(diwarisi AS BOOLEAN) AS diwarisi, {FILE_SQL}
FROM used
ORDER BY kode_kecamatan, indeks, use, indikator, tahun, jenis_kelamin NULLS FIRST, kelompok_umur NULLS FIRST,
    kode_wilayah
"""

# Rows used per landing file, from the three tables above, with what ingestion recorded
# of the file (audit.source_files) and of its rejected rows (audit.rejected_rows).
USED_SQL = """
    SELECT kode_kecamatan, indeks, 'survey' AS kind, 'staging.survey_responses' AS table_name, arrival_period,
        source_path, source_sha256, staging_run_id FROM t_respondents
    UNION ALL
    SELECT kode_kecamatan, 'ikn', 'fkdm', 'staging.fkdm_reports', arrival_period, source_path, source_sha256,
        staging_run_id FROM t_reports
    UNION ALL
    SELECT kode_kecamatan, indeks, 'stats', 'staging.statistics', arrival_period, source_path, source_sha256,
        staging_run_id FROM t_statistics
"""

SOURCES_SQL = """
WITH used AS ({used}),
per_file AS (
    SELECT kode_kecamatan, indeks, kind, source_path AS path, source_sha256 AS sha256, arrival_period,
        count(*) AS rows_used
    FROM used GROUP BY ALL
), files AS (
    SELECT sha256, path, period, any_value(format) AS format, max(rows_read) AS rows_read,
        max(rows_rejected) AS rows_rejected
    FROM ({source_files}) WHERE sha256 IN (SELECT sha256 FROM per_file) GROUP BY ALL
), rules AS (
    SELECT sha256, path, period, string_agg(rule || ' ' || CAST(n AS VARCHAR), ', ' ORDER BY n DESC, rule) AS rejected_rules
    FROM (SELECT sha256, path, period, rule, count(*) AS n FROM ({rejected_rows})
          WHERE sha256 IN (SELECT sha256 FROM per_file) GROUP BY ALL)
    GROUP BY ALL
)
SELECT u.kode_kecamatan, u.indeks, u.kind, u.path, u.sha256, CAST(f.format AS VARCHAR) AS format, u.arrival_period,
    u.rows_used, CAST(f.rows_read AS BIGINT) AS rows_read, CAST(coalesce(f.rows_rejected, 0) AS BIGINT) AS rows_rejected,
    r.rejected_rules
FROM per_file u
LEFT JOIN files f ON f.sha256 = u.sha256 AND f.path = u.path AND f.period = u.arrival_period
LEFT JOIN rules r ON r.sha256 = u.sha256 AND r.path = u.path AND r.period = u.arrival_period
ORDER BY u.kode_kecamatan, u.indeks, u.kind, u.arrival_period, u.path
"""

RUNS_SQL = """
SELECT kode_kecamatan, indeks, table_name, arrival_period AS partition, staging_run_id, count(*) AS rows_used
FROM ({used}) GROUP BY ALL
ORDER BY kode_kecamatan, indeks, table_name, partition, staging_run_id
"""


def respondents(window: pd.DataFrame, scores: dict[str, IndexScores]) -> pa.Table:
    """``audit.score_respondents`` without its run columns: each index's respondents (their
    rows of the survey window, their raking weight) with the window's columns of them, in
    the table's order — kecamatan, index, response id.

    Built in Arrow by taking rows, not by a SQL join and sort over the window (which held
    ≈ 1.6 GB at a national month's 2 M rows, issue 19). The window is ordered by
    (kode_kecamatan, response_id) (:func:`harmoni_pipeline.scoring.inputs.survey_window`)
    and each index's rows ascend, so ordering the rows by kecamatan, then index name, then
    window position gives that order; :func:`_check_window_order` refuses a window not
    so ordered."""
    _check_window_order(window)
    names = sorted(scores)
    rows = np.concatenate([np.asarray(scores[n].rows, dtype=np.int64) for n in names])
    weight = np.concatenate([np.asarray(scores[n].weights, dtype=np.float64) for n in names])
    index = np.repeat(np.arange(len(names)), [len(scores[n].rows) for n in names])
    kecamatan = pd.factorize(window["kode_kecamatan"], sort=True)[0]
    order = np.lexsort((rows, index, kecamatan[rows]))  # the last key sorts first
    take = pa.array(rows[order])
    schema = TRAIL_SCHEMAS[RESPONDENTS]
    columns = {}
    for name, source in WINDOW_COLUMNS:  # one column at a time: each taken, then cast to its type
        columns[name] = pa.array(window[source], from_pandas=True).take(take).cast(schema.field(name).type)
    columns["indeks"] = pa.DictionaryArray.from_arrays(pa.array(index[order].astype(np.int32)),
                                                       pa.array(names, pa.string())).cast(pa.string())
    columns["weight"] = pa.array(weight[order], pa.float64())
    keep = [f.name for f in schema if f.name in columns]
    return pa.table({name: columns[name] for name in keep})


def _check_window_order(window: pd.DataFrame) -> None:
    """The survey window must be ordered by (kode_kecamatan, response_id), each response once."""
    if len(window) < 2:
        return
    kecamatan = pa.array(window["kode_kecamatan"], from_pandas=True)
    response = pa.array(window["response_id"], from_pandas=True)
    head, tail = slice(0, len(window) - 1), slice(1, len(window))
    same = pc.equal(kecamatan[tail], kecamatan[head])
    ordered = pc.or_(pc.greater(kecamatan[tail], kecamatan[head]),
                     pc.and_(same, pc.greater(response[tail], response[head])))
    if not pc.all(ordered).as_py():
        raise ValueError("survey window is not ordered by (kode_kecamatan, response_id) with one row per response")


def _query(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> pa.Table:
    return con.sql(sql, params=params or None).to_arrow_table()


def _run(warehouse, sql: str, frames: dict, params: dict | None = None) -> pa.Table:
    """``sql`` over ``frames`` (registered by name) on a connection of its own, closed
    once the result is out: DuckDB's working memory of one trail query goes back before
    the next one runs, instead of the five adding up (≈ 0.5 GB by the last; issue 19)."""
    con = warehouse.connect()
    try:
        for name, frame in frames.items():
            con.register(name, frame)
        return _query(con, sql, params)
    finally:
        con.close()


def _finish(data: pa.Table, name: str, ctx: PeriodContext) -> pa.Table:
    """Shape ``data`` as the trail table ``name``: ``period`` first, ``methodology_version``
    and ``run_id`` last, the schema's types, one chunk per column (the content hash then
    reads the columns as they are instead of combining a copy)."""
    n = data.num_rows
    data = data.add_column(0, "period", pa.repeat(pa.scalar(ctx.period, pa.string()), n))
    data = data.append_column("methodology_version", pa.repeat(pa.scalar(ctx.methodology.version, pa.string()), n))
    data = data.append_column("run_id", pa.repeat(pa.scalar(ctx.run_id, pa.string()), n))
    schema = TRAIL_SCHEMAS[name]
    return data.select(schema.names).cast(schema).combine_chunks()


def respondents_table(used: pa.Table, ctx: PeriodContext) -> pa.Table:
    """``audit.score_respondents`` as published, from :func:`respondents`' rows."""
    return _finish(used, RESPONDENTS, ctx)


def build_trail(ctx: PeriodContext, read: PeriodInputs, respondents_trail: pa.Table | Written,
                konteks: pd.DataFrame) -> dict[str, pa.Table | Written]:
    """The period's five trail tables. ``respondents_trail``: :func:`respondents_table`
    (the rest of the trail does not read the survey window, so the caller can let it go
    first), or that table already written as the run's candidate — then the queries that
    count its rows per file and per staging run read the file, and the table (≈ 0.75 GB at
    a twelve-month window's 2.3 M rows) is not held beside them (issue 19); it is returned
    as given. ``konteks``: the context values of the IKN C pillar (``marts.ikn_konteks``'s
    frame)."""
    m = ctx.methodology
    codes = ctx.codes()
    warehouse = ctx.warehouse
    for table in ("audit.source_files", "audit.rejected_rows"):
        warehouse.ensure_placeholder(table, warehouse.tables[table])
    reports = events.reports_used(read.reports, codes, ctx.period, m).reindex(columns=REPORT_COLUMNS)
    margins = read.population[["tahun_margins", "tahun_total"]].astype("float64").rename_axis("kode_kecamatan").reset_index()
    frames = {"used_reports": reports, "stats": read.stats, "margins": margins, "konteks": konteks}
    out = {
        RESPONDENTS: respondents_trail,
        REPORTS: _finish(_run(warehouse, REPORTS_SQL, frames, {"codes": list(codes)}), REPORTS, ctx),
        STATISTICS: _finish(_run(warehouse, STATISTICS_SQL, frames, {
            "population": population.POPULATION, "sexes": population.sex_labels(m),
            "adult_bands": population.band_labels(m), "all_bands": population.total_band_labels(m)}), STATISTICS, ctx),
    }
    for name, short in ((REPORTS, "t_reports"), (STATISTICS, "t_statistics")):
        frames[short] = out[name]
    if isinstance(respondents_trail, Written):
        used_sql = USED_SQL.replace("FROM t_respondents", f"FROM ({warehouse.file_sql(respondents_trail.path)})")
    else:
        used_sql, frames["t_respondents"] = USED_SQL, respondents_trail
    sources = SOURCES_SQL.replace("{used}", used_sql).replace(
        "{source_files}", warehouse.select_sql("audit.source_files")).replace(
        "{rejected_rows}", warehouse.select_sql("audit.rejected_rows"))
    out[SOURCES] = _finish(_run(warehouse, sources, frames), SOURCES, ctx)
    out[RUNS] = _finish(_run(warehouse, RUNS_SQL.replace("{used}", used_sql), frames), RUNS, ctx)
    return {name: out[name] for name in TRAIL_SCHEMAS}
