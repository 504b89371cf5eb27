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


def _ihai_items(methodology: Methodology, dimension: str | None = None, aspect: str | None = None) -> list[str]:
    """IHaI item columns (``X01_PER`` …), of one dimension and/or one aspect when given."""
    return [f"{v}_{a}" for v, d in methodology.ihai_dimension_of.items() if dimension in (None, d)
            for a in methodology.aspects if aspect in (None, a)]


ASPECT_COLUMNS = {"PER": "aspek_persepsi", "PAR": "aspek_partisipasi", "AKS": "aspek_akseptabilitas"}


def mart_lineage(methodology: Methodology) -> dict[str, Lineage]:
    """Per mart, per computed column: the upstream columns its formula reads (methodology
    §2–§4): a dimension's score reads that dimension's items only, an aspect's score that
    aspect's items, the weights the respondents' sex and age and the population margins
    (``indikator = penduduk`` by sex and age band), E1–E3 the FKDM columns they use."""
    aspects = methodology.aspects
    ikn_items = [f"{d}_{a}" for d in methodology.ikn_dimensions for a in aspects]
    window = _cols(SURVEY, "response_id", "period", "file_order", "line", "kode_kecamatan")
    population = _cols(STATS, "kode_wilayah", "tahun", "indikator", "jenis_kelamin", "kelompok_umur", "nilai")
    weights = _cols(SURVEY, "jenis_kelamin", "umur") + population

    def ihai_from(**which) -> list[tuple[str, str]]:
        return window + _cols(SURVEY, *_ihai_items(methodology, **which)) + weights

    ihai_score = ihai_from()
    ikn_survey = window + _cols(SURVEY, *ikn_items) + weights
    reports = _cols(FKDM, "no_laporan", "period", "file_order", "line", "kode_kecamatan", "status", "tgl_lapor")
    e1 = reports + _cols(FKDM, "kualifikasi") + population
    e2 = reports + _cols(FKDM, "tgl_selesai")
    e3 = reports + _cols(FKDM, "tgl_tindak_lanjut", "tgl_selesai")
    context = _cols(STATS, "kode_wilayah", "tahun", "indikator", "nilai")
    alert = _cols(FKDM, "no_laporan", "period", "file_order", "line", "kode_kecamatan", "status", "kualifikasi", "tgl_kejadian")
    ikn = ikn_survey + e1 + e2 + e3 + context
    ihai_kec = {
        "n_responden": window, "n_efektif": window + weights, "weighting": window + weights, "status": window,
        **{c: ihai_score for c in ("ihai", "ihai_skala10", "kategori", "ci_low", "ci_high")},
        **{f"dim_{d}": ihai_from(dimension=d) for d in methodology.ihai["dimensions"]},
        **{ASPECT_COLUMNS[a]: ihai_from(aspect=a) for a in aspects if a in ASPECT_COLUMNS},
        "gap_persepsi_partisipasi": window + _cols(SURVEY, *_ihai_items(methodology, aspect="PER"),
                                                   *_ihai_items(methodology, aspect="PAR")) + weights,
    }
    rollup_ihai = _cols("marts.ihai_kecamatan", "ihai", "status") + population
    rollup_ikn = _cols("marts.ikn_kecamatan", "ikn", "tingkat_kerawanan") + population
    return {
        "marts.ihai_kecamatan": ihai_kec,
        "marts.ihai_variabel": {"skor": ihai_score, "n": window + _cols(SURVEY, *_ihai_items(methodology))},
        "marts.ihai_kabupaten": {c: rollup_ihai for c in ("ihai", "kategori", "coverage", "n_kecamatan_ok")},
        "marts.ihai_provinsi": {c: rollup_ihai for c in ("ihai", "kategori", "coverage", "n_kecamatan_ok")},
        "marts.ikn_kecamatan": {
            "n_responden": window, "n_laporan": reports, "pilar_survei": ikn_survey,
            "pilar_peristiwa": e1 + e2 + e3, "pilar_konteks": context, "e1": e1, "e2": e2, "e3": e3,
            "ikn": ikn, "kategori": ikn, "kerawanan": ikn, "tingkat_kerawanan": ikn + alert,
            "alert_merah": alert, "status": window + reports + context,
        },
        "marts.ikn_dimensi": {"skor": ikn_survey, "n": window + _cols(SURVEY, *ikn_items)},
        "marts.ikn_konteks": {"nilai": context, "skor": context, "tahun": context,
                              "kode_wilayah_sumber": _cols(STATS, "kode_wilayah", "indikator", "tahun"),
                              "diwarisi": _cols(STATS, "kode_wilayah", "indikator", "tahun"),
                              "source_path": _cols(STATS, "kode_wilayah", "indikator", "tahun", "source_path")},
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
