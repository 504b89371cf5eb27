"""Arrow schemas of the uncertainty, sensitivity and group marts (data-contracts §4.1):
``period`` first, ``methodology_version`` and ``run_id`` last, like every mart.

Room: names and types only (the table registry imports it)."""

from __future__ import annotations

import re

import pyarrow as pa

from harmoni_pipeline.scoring.schemas import B, F, I, S, _schema

LEVELS = ("", "_provinsi", "_nasional")  # rank within the kabupaten, the province, the scope


def slug(label: str) -> str:
    """``Sangat baik`` → ``sangat_baik`` (a band label as a column suffix)."""
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


def _uncertainty(categories: list[str], extra: list[tuple[str, pa.DataType]]) -> pa.Schema:
    ranks = []
    for level in LEVELS:
        ranks += [(f"peringkat{level}", F), (f"peringkat{level}_median", F), (f"peringkat{level}_p05", F),
                  (f"peringkat{level}_p95", F), (f"n_peringkat{level}", I)]
    return _schema([
        ("kode_kecamatan", S), ("kode_kabupaten", S), ("kode_provinsi", S), ("skor", F), ("skor_median", F),
        ("skor_p05", F), ("skor_p95", F), ("skor_dalam_interval", B), *ranks,
        *((f"p_kategori_{slug(c)}", F) for c in categories), *extra, ("n_draws", I), ("seed", I),
    ])


IHAI_CATEGORIES = ["Tinggi", "Sedang", "Rendah"]
IKN_CATEGORIES = ["Sangat baik", "Baik", "Kurang", "Rawan"]
GROUPS = [("kode_kecamatan", S), ("dimensi_kelompok", S), ("kelompok", S), ("n", I), ("skor", F), ("alasan_null", S)]

UNCERTAINTY_SCHEMAS: dict[str, pa.Schema] = {
    "marts.ihai_ketidakpastian": _uncertainty(IHAI_CATEGORIES, []),
    "marts.ikn_ketidakpastian": _uncertainty(IKN_CATEGORIES, [("p_kerawanan_tinggi", F)]),
    "marts.sensitivitas": _schema([("indeks", S), ("input", S), ("s1", F), ("st", F), ("n_kecamatan", I)]),
    "marts.sensitivitas_kecamatan": _schema([("kode_kecamatan", S), ("indeks", S), ("input", S), ("s1", F), ("st", F)]),
    "marts.ihai_kelompok": _schema(GROUPS),
    "marts.ikn_kelompok": _schema(GROUPS),
}
UNCERTAINTY_TABLES = list(UNCERTAINTY_SCHEMAS)
