"""Canonical staging schemas (pyarrow), one per source.

Room: the column names and types that parsers must produce and that the staging
Parquet files hold. Parsers produce the *parsed* columns; the ingestion runner adds the
provenance columns (``PROVENANCE``) when it assembles a partition.
"""

from __future__ import annotations

import pyarrow as pa

from harmoni_pipeline.methodology import all_items
from harmoni_pipeline.registry import STAGING_TABLES

UTC_TS = pa.timestamp("us", tz="UTC")

# Added by the runner to every staging row: where the row came from.
PROVENANCE = [
    ("period", pa.string()),          # arrival month YYYY-MM (statistics: arrival year YYYY)
    ("source_sha256", pa.string()),
    ("source_path", pa.string()),     # path relative to the landing zone
    ("file_order", pa.int32()),       # rank of the file in path order within the partition
    ("line", pa.int64()),             # physical line / sheet row (NULL for JSON)
    ("format", pa.string()),
    ("pii_key_id", pa.string()),
    ("run_id", pa.string()),          # the Dagster run that published the partition
]

SURVEY_PARSED = [
    ("response_id", pa.string()),
    ("submitted_at", UTC_TS),
    ("started_at", UTC_TS),           # Kobo `start` (NULL where the format has none)
    ("ended_at", UTC_TS),             # Kobo `end`
    ("kode_kecamatan", pa.string()),
    ("kode_desa", pa.string()),
    ("jenis_kelamin", pa.string()),   # L | P
    ("umur", pa.int16()),
    ("pendidikan", pa.string()),
    ("pekerjaan", pa.string()),
    ("respondent_key", pa.string()),  # pseudonym of NIK, else email, else phone
] + [(item, pa.int8()) for item in all_items()]

FKDM_PARSED = [
    ("no_laporan", pa.string()),
    ("tgl_lapor", pa.date32()),
    ("tgl_kejadian", pa.date32()),
    ("kode_kecamatan", pa.string()),
    ("kode_desa", pa.string()),
    ("bidang", pa.string()),
    ("jenis_athg", pa.string()),      # A | T | H | G
    ("kualifikasi", pa.string()),     # hijau | kuning | merah1 | merah2
    ("status", pa.string()),
    ("tgl_tindak_lanjut", pa.date32()),
    ("tgl_selesai", pa.date32()),
    ("pelapor_key", pa.string()),     # pseudonym of the reporter's phone, else name
]

STATS_PARSED = [
    ("kode_wilayah", pa.string()),    # Kemendagri code of a kecamatan or a kabupaten
    ("tahun", pa.int16()),
    ("indikator", pa.string()),
    ("jenis_kelamin", pa.string()),   # L | P | NULL (total)
    ("kelompok_umur", pa.string()),   # methodology band or NULL
    ("nilai", pa.float64()),
    ("satuan", pa.string()),
    ("sumber", pa.string()),
]

PARSED = {"survey": SURVEY_PARSED, "fkdm": FKDM_PARSED, "stats": STATS_PARSED}

# Staged columns that hold free text as the file gave it (not codes, ids or values from
# a list): personal-looking text in them is masked before it is stored.
FREE_TEXT = {"survey": ("pendidikan", "pekerjaan"), "fkdm": (), "stats": ("satuan", "sumber")}


def staging_schema(source: str) -> pa.Schema:
    """Full staging schema of a source: provenance columns then parsed columns."""
    return pa.schema(PROVENANCE + PARSED[source])


STAGING_SCHEMAS = {STAGING_TABLES[source]: staging_schema(source) for source in PARSED}
