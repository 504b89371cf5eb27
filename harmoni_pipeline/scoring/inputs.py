"""The staging rows one period's scores use, read with DuckDB from the current Parquet files.

Room: selection rules over staging — which survey responses form the window of period M
(methodology §1.4), which FKDM report versions count (§3 E), which statistics values are
current (data-contracts §3.3). Formulas live in the other scoring modules.
"""

from __future__ import annotations

from pathlib import PurePath

import pandas as pd
import pyarrow as pa

from harmoni_pipeline.periods import shift
from harmoni_pipeline.registry import STAGING_TABLES
from harmoni_pipeline.warehouse import Warehouse

Listing = dict[str, list[PurePath]]  # table → current files, from one Warehouse.listing


def staging_listing(warehouse: Warehouse) -> Listing:
    """The current staging files of every source at one moment: a period's scores read
    all their inputs from this one listing, so a staging publication that lands while
    they are computed cannot give IHaI and IKN different inputs."""
    return warehouse.listing(STAGING_TABLES.values())


def _every(warehouse: Warehouse, table: str, up_to: str, listing: Listing | None) -> str:
    warehouse.ensure_placeholder(table, warehouse.tables[table])
    return warehouse.select_sql(table, up_to=up_to, files=None if listing is None else listing[table])

SURVEY_COLUMNS = ["response_id", "period", "file_order", "line", "kode_kecamatan", "jenis_kelamin", "umur", "pii_key_id",
                  "pendidikan", "pekerjaan"]  # the last two: the group breakdowns (scoring/groups.py)
FKDM_COLUMNS = [
    "no_laporan", "period", "file_order", "line", "kode_kecamatan", "tgl_lapor", "tgl_kejadian",
    "kualifikasi", "status", "tgl_tindak_lanjut", "tgl_selesai",
]
STATS_COLUMNS = [
    "kode_wilayah", "tahun", "indikator", "jenis_kelamin", "kelompok_umur", "nilai",
    "period", "source_path", "file_order", "line",
]


# Where each row came from, carried along for the auditor's trail (harmoni_pipeline.trace)
PROVENANCE = 'source_sha256, source_path, run_id AS staging_run_id'
# The columns a staged file's rows all share (harmoni_pipeline.ingest.runner): looked up per
# (period, file_order) instead of carried through the window's dedup and sort row by row
FILE_COLUMNS = {"source_sha256": "source_sha256", "source_path": "source_path", "staging_run_id": "run_id",
                "pii_key_id": "pii_key_id"}
# Columns of the survey window with a few distinct values over a million rows (files, runs,
# keys, months): pandas categories, ≈ 220 MB less for a national month's window (issue 19)
WINDOW_CATEGORIES = (*FILE_COLUMNS, "period")


def _quoted(columns: list[str], alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(f'{prefix}"{c}"' for c in columns)


class MixedKeysError(ValueError):
    """The staged responses a window reads were pseudonymised with more than one PII key."""


def survey_window(warehouse: Warehouse, period: str, items: list[str], window_months: int,
                  listing: Listing | None = None) -> pd.DataFrame:
    """Responses whose first arrival is in ``period``−(window−1) … ``period``, one row each,
    with the values of their first copy.

    A response's first copy is its earliest (arrival period, file in path order, line)
    over every staged period ≤ ``period``; a response first seen before the window is
    out even when re-exported inside it. Raises :class:`MixedKeysError` when those staged
    periods hold pseudonyms of two PII keys: Google Forms response ids are keyed, so
    re-exports would no longer match their first copies and be counted again.
    The provenance columns of :data:`WINDOW_CATEGORIES` are pandas categories; the
    frame is ordered by (kode_kecamatan, response_id)."""
    start = shift(period, -(window_months - 1))
    every = _every(warehouse, STAGING_TABLES["survey"], period, listing)
    _refuse_mixed_keys(warehouse, every, f"{STAGING_TABLES['survey']} up to {period}")
    # Two passes. First, the first copy of every response from its key columns alone: the
    # earliest (period, file_order) — staging refuses a response id repeated within a file
    # (rule duplicate_in_file), so the line never decides and (response_id, period,
    # file_order) names one staged row. A hash aggregate over the distinct responses, not a
    # window sorting every staged row with all its columns (≈ 5.2 M rows by December of a
    # year of cumulative Google Forms exports, 2.9 GB; issue 19). Second, those rows' columns,
    # kept when the first arrival lies in the window. The file's own columns (its path, hash,
    # staging run, key) are joined afterwards from one row per file: the sort then carries
    # ≈ 40 % fewer bytes (issue 19).
    rows = [c for c in SURVEY_COLUMNS if c not in FILE_COLUMNS]
    sql = f"""
        WITH firsts AS (
            SELECT response_id, first.period AS period, first.file_order AS file_order
            FROM (SELECT response_id, min({{'period': period, 'file_order': file_order}}) AS first
                  FROM ({every}) GROUP BY response_id)
            WHERE first.period >= $start
        )
        SELECT {_quoted(rows + items, "e")}
        FROM ({every}) AS e
        SEMI JOIN firsts AS f
            ON e.response_id IS NOT DISTINCT FROM f.response_id AND e.period = f.period AND e.file_order = f.file_order
        WHERE e.period >= $start
        ORDER BY e.kode_kecamatan, e.response_id
    """
    files_sql = f"""
        SELECT DISTINCT period, file_order, {", ".join(f'"{c}" AS "{n}"' for n, c in FILE_COLUMNS.items())}
        FROM ({every}) WHERE period >= $start
    """
    con = warehouse.connect()
    try:
        files = con.execute(files_sql, {"start": start}).df()
        frame = _frame(con.sql(sql, params={"start": start}).to_arrow_reader(BATCH_ROWS),  # no extra copy, unlike execute()
                       categories=("period",))  # the file columns become categories in _with_files
    finally:
        con.close()
    if not frame["response_id"].is_unique:  # two staged rows of one response in one file
        raise ValueError(f"survey window of {period}: a response id repeated within one staged file")
    return _with_files(frame, files)[[*SURVEY_COLUMNS, *items, *(n for n in FILE_COLUMNS if n not in SURVEY_COLUMNS)]]


def _with_files(frame: pd.DataFrame, files: pd.DataFrame) -> pd.DataFrame:
    """Each row's :data:`FILE_COLUMNS` (as categories) from ``files``, one row per staged
    file (period, file_order)."""
    key = ["period", "file_order"]
    if files.duplicated(key).any():  # staging gives every row of a file the same columns
        raise ValueError(f"staged survey files disagree on their own columns: {files[files.duplicated(key, keep=False)].head(4)}")
    at = pd.MultiIndex.from_frame(files[key].astype({"period": str})).get_indexer(
        pd.MultiIndex.from_arrays([frame["period"].astype(str), frame["file_order"]]))
    if (at < 0).any():
        raise ValueError("survey window rows without their staged file")
    for name in FILE_COLUMNS:
        codes, uniques = pd.factorize(files[name])
        frame[name] = pd.Categorical.from_codes(codes[at], categories=uniques)
    return frame


BATCH_ROWS = 65_536


def _frame(reader, categories: tuple[str, ...] = ()) -> pd.DataFrame:
    """The frame DuckDB's ``.df()`` gives — integer columns with a NULL as pandas' nullable
    integers, without as NumPy integers, strings as ``str`` — built from the result's Arrow
    batches, each column converted on its own and the batches let go as they are: the
    window's read peaked at ≈ 5 × its frame through ``.df()`` (issue 19). The columns
    named in ``categories`` become pandas categories (same values)."""
    table = pa.Table.from_batches(list(reader), schema=reader.schema)
    del reader
    columns = {}
    for name in table.column_names:
        column = table.column(name)
        table = table.drop_columns([name])
        if name in categories:
            column = column.dictionary_encode()
        elif pa.types.is_string(column.type) and column.num_chunks > 1:
            # pandas keeps Arrow strings as they are, and one column of a batch DuckDB exported
            # keeps the whole batch alive: combined into buffers of its own, the batches go
            column = column.combine_chunks()
        nullable = pa.types.is_integer(column.type) and column.null_count > 0
        columns[name] = column.to_pandas(
            types_mapper=(lambda t: pd.api.types.pandas_dtype(str(t).replace("int", "Int").replace("uInt", "UInt"))) if nullable else None,
            self_destruct=True)
        del column
    return pd.DataFrame(columns, copy=False)


def _refuse_mixed_keys(warehouse: Warehouse, select: str, what: str) -> None:
    con = warehouse.connect()
    try:
        rows = con.execute(f"""
            SELECT pii_key_id, min(period), max(period) FROM ({select})
            WHERE pii_key_id IS NOT NULL GROUP BY pii_key_id ORDER BY 3
        """).fetchall()
    finally:
        con.close()
    if len(rows) > 1:
        keys = "; ".join(f"{key} in {first}" + (f"..{last}" if last != first else "") for key, first, last in rows)
        raise MixedKeysError(
            f"{what} holds pseudonyms of {len(rows)} PII keys ({keys}): re-stage with the current key "
            "(`harmoni run` re-stages every month staged with another key; docs/operations.md, Rotating the PII key)"
        )


def fkdm_latest(warehouse: Warehouse, period: str, listing: Listing | None = None) -> pd.DataFrame:
    """The latest accepted version of every FKDM report that arrived up to the end of
    ``period`` (later arrival month, then later file in path order, then later line).
    ``ditolak`` reports are kept here; the event rules exclude them."""
    sql = f"""
        SELECT {_quoted(FKDM_COLUMNS)}, {PROVENANCE}
        FROM ({_every(warehouse, STAGING_TABLES["fkdm"], period, listing)})
        QUALIFY row_number() OVER (PARTITION BY no_laporan ORDER BY period DESC, file_order DESC, line DESC) = 1
        ORDER BY no_laporan
    """
    con = warehouse.connect()
    try:
        df = con.execute(sql).df()
    finally:
        con.close()
    for col in ("tgl_lapor", "tgl_kejadian", "tgl_tindak_lanjut", "tgl_selesai"):
        df[col] = pd.to_datetime(df[col])
    return df


def statistics_current(warehouse: Warehouse, year: int, listing: Listing | None = None) -> pd.DataFrame:
    """Statistics values with ``tahun`` ≤ ``year`` from arrival years ≤ ``year``; of a key
    delivered more than once, the latest arrival (later year folder, then later file name)."""
    sql = f"""
        SELECT {_quoted(STATS_COLUMNS)}, source_sha256, run_id AS staging_run_id
        FROM ({_every(warehouse, STAGING_TABLES["stats"], f"{year:04d}", listing)})
        WHERE tahun <= $year
        QUALIFY row_number() OVER (
            PARTITION BY kode_wilayah, tahun, indikator, jenis_kelamin, kelompok_umur
            ORDER BY period DESC, file_order DESC, line DESC NULLS LAST) = 1
    """
    con = warehouse.connect()
    try:
        return con.execute(sql, {"year": year}).df()
    finally:
        con.close()
