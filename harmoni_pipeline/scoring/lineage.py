"""Column lineage of the marts: which upstream columns each score column is computed from.

Room: plain data (table → column → [(upstream table, column)]) derived from the
methodology's item catalog; :mod:`harmoni_pipeline.metadata` turns it into Dagster's
``dagster/column_lineage``. Keep it in step with the formulas when they change.
"""

from __future__ import annotations

from harmoni_pipeline.methodology import Methodology

SURVEY, FKDM, STATS = "staging.survey_responses", "staging.fkdm_reports", "staging.statistics"

Lineage = dict[str, list[tuple[str, str]]]


def _cols(table: str, *columns: str) -> list[tuple[str, str]]:
    return [(table, c) for c in columns]


def mart_lineage(methodology: Methodology) -> dict[str, Lineage]:
    aspects = methodology.aspects
    ihai_items = [f"{v}_{a}" for v in methodology.ihai["variables"] for a in aspects]
    ikn_items = [f"{d}_{a}" for d in methodology.ikn_dimensions for a in aspects]
    window = _cols(SURVEY, "response_id", "period", "file_order", "line", "kode_kecamatan")
    population = _cols(STATS, "kode_wilayah", "tahun", "indikator", "jenis_kelamin", "kelompok_umur", "nilai")
    weights = _cols(SURVEY, "jenis_kelamin", "umur") + population
    ihai_score = window + _cols(SURVEY, *ihai_items) + weights
    ikn_survey = window + _cols(SURVEY, *ikn_items) + weights
    reports = _cols(FKDM, "no_laporan", "period", "file_order", "line", "kode_kecamatan", "status", "tgl_lapor")
    e1 = reports + _cols(FKDM, "kualifikasi") + population
    e2 = reports + _cols(FKDM, "tgl_selesai")
    e3 = reports + _cols(FKDM, "tgl_tindak_lanjut", "tgl_selesai")
    context = _cols(STATS, "kode_wilayah", "tahun", "indikator", "nilai")
    alert = _cols(FKDM, "no_laporan", "period", "file_order", "line", "kode_kecamatan", "status", "kualifikasi", "tgl_kejadian")
    ikn = ikn_survey + e1 + e2 + e3 + context
    ihai_kec = {c: ihai_score for c in (
        "n_responden", "n_efektif", "weighting", "status", "ihai", "ihai_skala10", "kategori", "ci_low", "ci_high",
        "dim_ekonomi", "dim_sosial", "dim_budaya", "dim_keberagamaan", "aspek_persepsi", "aspek_partisipasi",
        "aspek_akseptabilitas", "gap_persepsi_partisipasi")}
    rollup_ihai = _cols("marts.ihai_kecamatan", "ihai", "status") + population
    rollup_ikn = _cols("marts.ikn_kecamatan", "ikn", "tingkat_kerawanan") + population
    return {
        "marts.ihai_kecamatan": ihai_kec,
        "marts.ihai_variabel": {"skor": ihai_score, "n": window + _cols(SURVEY, *ihai_items)},
        "marts.ihai_kabupaten": {c: rollup_ihai for c in ("ihai", "kategori", "coverage", "n_kecamatan_ok")},
        "marts.ihai_provinsi": {c: rollup_ihai for c in ("ihai", "kategori", "coverage", "n_kecamatan_ok")},
        "marts.ikn_kecamatan": {
            "n_responden": ikn_survey, "n_laporan": reports, "pilar_survei": ikn_survey,
            "pilar_peristiwa": e1 + e2 + e3, "pilar_konteks": context, "e1": e1, "e2": e2, "e3": e3,
            "ikn": ikn, "kategori": ikn, "kerawanan": ikn, "tingkat_kerawanan": ikn + alert,
            "alert_merah": alert, "status": ikn,
        },
        "marts.ikn_dimensi": {"skor": ikn_survey, "n": window + _cols(SURVEY, *ikn_items)},
        "marts.ikn_konteks": {"nilai": context, "skor": context, "tahun": context},
        "marts.ikn_kabupaten": {c: rollup_ikn for c in ("ikn", "kategori", "coverage", "n_kecamatan_tinggi")},
        "marts.ikn_provinsi": {c: rollup_ikn for c in ("ikn", "kategori", "coverage", "n_kecamatan_tinggi")},
        "marts.harmoni_kewaspadaan": {
            "ihai": _cols("marts.ihai_kecamatan", "ihai"),
            "ikn": _cols("marts.ikn_kecamatan", "ikn"),
            "kerawanan": _cols("marts.ikn_kecamatan", "kerawanan"),
            "tingkat_kerawanan": _cols("marts.ikn_kecamatan", "tingkat_kerawanan"),
            "kuadran": _cols("marts.ihai_kecamatan", "ihai") + _cols("marts.ikn_kecamatan", "tingkat_kerawanan"),
            "rekomendasi": _cols("marts.ihai_kecamatan", "ihai") + _cols("marts.ikn_kecamatan", "tingkat_kerawanan"),
            "alasan_null": _cols("marts.ihai_kecamatan", "ihai", "status") + _cols("marts.ikn_kecamatan", "tingkat_kerawanan", "status"),
        },
    }
