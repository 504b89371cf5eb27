"""Arrow schemas of the mart tables: exactly the columns of data-contracts §4, plus
``period`` first and ``methodology_version``, ``run_id`` last (``marts.ikn_konteks`` is
harmoni's own: the context values behind each kecamatan's C pillar).

Room: names and types only; no imports beyond pyarrow, so the table registry can use it.
"""

from __future__ import annotations

import pyarrow as pa

S, F, I, B = pa.string(), pa.float64(), pa.int64(), pa.bool_()
HEAD = [("period", S)]
TAIL = [("methodology_version", S), ("run_id", S)]


def _schema(columns: list[tuple[str, pa.DataType]]) -> pa.Schema:
    return pa.schema(HEAD + columns + TAIL)


MART_SCHEMAS: dict[str, pa.Schema] = {
    "marts.ihai_kecamatan": _schema([
        ("kode_kecamatan", S), ("nama_kecamatan", S), ("kode_kabupaten", S), ("n_responden", I),
        ("n_efektif", F), ("weighting", S), ("status", S), ("ihai", F), ("ihai_skala10", F),
        ("kategori", S), ("ci_low", F), ("ci_high", F), ("dim_ekonomi", F), ("dim_sosial", F),
        ("dim_budaya", F), ("dim_keberagamaan", F), ("aspek_persepsi", F), ("aspek_partisipasi", F),
        ("aspek_akseptabilitas", F), ("gap_persepsi_partisipasi", B),
    ]),
    "marts.ihai_variabel": _schema([("kode_kecamatan", S), ("variabel", S), ("aspek", S), ("skor", F), ("n", I)]),
    "marts.ihai_kabupaten": _schema([
        ("kode_kabupaten", S), ("nama_kabupaten", S), ("ihai", F), ("kategori", S), ("coverage", F), ("n_kecamatan_ok", I),
    ]),
    "marts.ihai_provinsi": _schema([
        ("kode_provinsi", S), ("nama_provinsi", S), ("ihai", F), ("kategori", S), ("coverage", F), ("n_kecamatan_ok", I),
    ]),
    "marts.ikn_kecamatan": _schema([
        ("kode_kecamatan", S), ("nama_kecamatan", S), ("n_responden", I), ("n_laporan", I),
        ("pilar_survei", F), ("pilar_peristiwa", F), ("pilar_konteks", F), ("e1", F), ("e2", F), ("e3", F),
        ("ikn", F), ("kategori", S), ("kerawanan", F), ("tingkat_kerawanan", S), ("alert_merah", B), ("status", S),
    ]),
    "marts.ikn_dimensi": _schema([("kode_kecamatan", S), ("dimensi", S), ("aspek", S), ("skor", F), ("n", I)]),
    "marts.ikn_konteks": _schema([
        ("kode_kecamatan", S), ("indikator", S), ("tahun", I), ("nilai", F), ("skor", F),
        ("kode_wilayah_sumber", S), ("diwarisi", B), ("source_path", S),
    ]),
    "marts.ikn_kabupaten": _schema([
        ("kode_kabupaten", S), ("nama_kabupaten", S), ("ikn", F), ("kategori", S), ("coverage", F), ("n_kecamatan_tinggi", I),
    ]),
    "marts.ikn_provinsi": _schema([
        ("kode_provinsi", S), ("nama_provinsi", S), ("ikn", F), ("kategori", S), ("coverage", F), ("n_kecamatan_tinggi", I),
    ]),
    "marts.harmoni_kewaspadaan": _schema([
        ("kode_kecamatan", S), ("nama_kecamatan", S), ("ihai", F), ("ikn", F), ("kerawanan", F),
        ("tingkat_kerawanan", S), ("kuadran", S), ("rekomendasi", S), ("penanggung_jawab", S), ("alasan_null", S),
    ]),
}

