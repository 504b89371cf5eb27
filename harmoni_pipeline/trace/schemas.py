"""Arrow schemas of the provenance tables ``audit.score_*``: per period, kecamatan and
index, what the published score used (docs/data-contracts.md, "The auditor's trail").

Room: names and types only; no imports beyond pyarrow, so the table registry can use it.
Like the marts, every table carries ``period`` first and ``methodology_version``,
``run_id`` (the scoring run) last; ``staging_run_id`` is the run that published the
staging row used. Nothing personal: respondents appear by the response id as staged (an
export's own id, or a keyed pseudonym for Google Forms), never by name, NIK or phone.
"""

from __future__ import annotations

import pyarrow as pa

S, F, I, B, D = pa.string(), pa.float64(), pa.int64(), pa.bool_(), pa.date32()
HEAD = [("period", S), ("kode_kecamatan", S)]
TAIL = [("methodology_version", S), ("run_id", S)]
FILE = [("arrival_period", S), ("source_path", S), ("source_sha256", S), ("line", I), ("staging_run_id", S)]


def _schema(columns: list[tuple[str, pa.DataType]]) -> pa.Schema:
    return pa.schema(HEAD + columns + TAIL)


SOURCES, RESPONDENTS, REPORTS, STATISTICS, RUNS = (
    "audit.score_sources", "audit.score_respondents", "audit.score_reports", "audit.score_statistics", "audit.score_runs",
)

TRAIL_SCHEMAS: dict[str, pa.Schema] = {
    # one row per landing file whose rows a kecamatan's index used
    SOURCES: _schema([
        ("indeks", S), ("kind", S), ("path", S), ("sha256", S), ("format", S), ("arrival_period", S),
        ("rows_used", I), ("rows_read", I), ("rows_rejected", I), ("rejected_rules", S),
    ]),
    # one row per respondent counted by an index (the copy that counts: its first arrival)
    RESPONDENTS: _schema([("indeks", S), ("response_id", S), ("jenis_kelamin", S), ("umur", I), ("weight", F),
                          ("pii_key_id", S), *FILE]),
    # one row per FKDM report version the IKN event pillar or red alert used (latest versions)
    REPORTS: _schema([
        ("no_laporan", S), ("status", S), ("kualifikasi", S), ("tgl_lapor", D), ("tgl_kejadian", D),
        ("tgl_tindak_lanjut", D), ("tgl_selesai", D), ("in_window", B), ("red_alert", B), *FILE,
    ]),
    # one row per statistics value used: raking margins, total population, context indicators
    STATISTICS: _schema([
        ("indeks", S), ("use", S), ("kode_wilayah", S), ("indikator", S), ("tahun", I), ("jenis_kelamin", S),
        ("kelompok_umur", S), ("nilai", F), ("diwarisi", B), *FILE,
    ]),
    # one row per staging partition (and the run that published it) a kecamatan's index read
    RUNS: _schema([("indeks", S), ("table_name", S), ("partition", S), ("staging_run_id", S), ("rows_used", I)]),
}
TRAIL_TABLES = list(TRAIL_SCHEMAS)
