"""Which staged rows a period's scores use (harmoni_pipeline/scoring/inputs.py), on real
Parquet partitions in a real warehouse: the survey window and response dedup across more
than twelve months, the latest accepted FKDM version, the latest statistics arrival."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from harmoni_pipeline.ingest.schemas import staging_schema
from harmoni_pipeline.methodology import all_items
from harmoni_pipeline.scoring import inputs
from harmoni_pipeline.registry import catalog_tables
from harmoni_pipeline.warehouse import Warehouse

ITEMS = all_items()


def _write(wh: Warehouse, source: str, table: str, period: str, rows: list[dict]) -> None:
    rows = [{**r, "period": period} for r in rows]
    wh.write_partition(table, period, pa.Table.from_pylist(rows, schema=staging_schema(source)))


def _response(rid: str, kec: str, order: int, line: int, answer: int) -> dict:
    return {"response_id": rid, "kode_kecamatan": kec, "jenis_kelamin": "L", "umur": 30,
            "file_order": order, "line": line, **{item: answer for item in ITEMS[:3]}}


@pytest.fixture
def wh(tmp_path):
    return Warehouse(tmp_path / "wh", catalog_tables())


def test_a_response_counts_once_in_its_first_arrival_month_and_leaves_after_twelve(wh):
    t = "staging.survey_responses"
    _write(wh, "survey", t, "2024-01", [_response("old", "35.13.01", 0, 2, 1)])
    # re-exported every month with other values: the first copy's values count
    for month in ("2024-06", "2024-12", "2025-01"):
        _write(wh, "survey", t, month, [
            _response("old", "35.13.02", 0, 2, 5),
            _response("mid", "35.13.01", 1, 7, 4 if month == "2024-06" else 2),
        ])
    # two copies in the same month: the first file in path order wins
    _write(wh, "survey", t, "2024-06", [
        _response("mid", "35.13.03", 1, 9, 3),
        _response("mid", "35.13.01", 0, 4, 4),
        _response("old", "35.13.02", 2, 2, 5),
    ])
    w = inputs.survey_window(wh, "2024-12", ITEMS, 12).set_index("response_id")
    assert set(w.index) == {"old", "mid"}
    assert w.loc["old", "period"] == "2024-01" and w.loc["old", "kode_kecamatan"] == "35.13.01"
    assert w.loc["mid", "period"] == "2024-06" and w.loc["mid", "file_order"] == 0
    assert w.loc["mid", "X01_PER"] == 4
    # 2025-01: "old" first arrived 2024-01, twelve months before: out, even re-exported now
    w = inputs.survey_window(wh, "2025-01", ITEMS, 12).set_index("response_id")
    assert set(w.index) == {"mid"}
    # a later month's copies never count for an earlier period
    assert inputs.survey_window(wh, "2024-05", ITEMS, 12)["response_id"].tolist() == ["old"]


def _report(no: str, status: str, order: int, line: int, kec: str = "35.13.01", **dates) -> dict:
    return {"no_laporan": no, "status": status, "kualifikasi": "merah1", "kode_kecamatan": kec,
            "tgl_lapor": pd.Timestamp(dates.get("lapor", "2025-03-01")).date(),
            "tgl_kejadian": pd.Timestamp(dates.get("kejadian", "2025-02-28")).date(),
            "file_order": order, "line": line}


def test_the_latest_accepted_fkdm_version_arrived_by_the_end_of_the_month_counts(wh):
    t = "staging.fkdm_reports"
    _write(wh, "fkdm", t, "2025-03", [_report("A", "baru", 0, 2), _report("B", "baru", 0, 3)])
    _write(wh, "fkdm", t, "2025-04", [
        _report("A", "ditangani", 0, 2), _report("A", "selesai", 1, 2, kec="35.13.02"),  # later file wins
        _report("B", "ditolak", 0, 3),
    ])
    _write(wh, "fkdm", t, "2025-05", [_report("A", "eskalasi", 0, 2)])
    march = inputs.fkdm_latest(wh, "2025-03").set_index("no_laporan")
    assert march.loc["A", "status"] == "baru" and march.loc["B", "status"] == "baru"
    april = inputs.fkdm_latest(wh, "2025-04").set_index("no_laporan")
    assert april.loc["A", "status"] == "selesai" and april.loc["A", "kode_kecamatan"] == "35.13.02"
    assert april.loc["B", "status"] == "ditolak"  # kept here; the event rules leave it out
    assert inputs.fkdm_latest(wh, "2025-05").set_index("no_laporan").loc["A", "status"] == "eskalasi"


def test_statistics_take_the_latest_arrival_and_ignore_later_years(wh):
    t = "staging.statistics"

    def row(value, order, tahun=2023):
        return {"kode_wilayah": "35.13.01", "tahun": tahun, "indikator": "tpt", "nilai": value,
                "file_order": order, "line": 2, "source_path": f"stats/x{order}.csv"}

    _write(wh, "stats", t, "2024", [row(5.0, 0), row(6.0, 1)])
    _write(wh, "stats", t, "2025", [row(7.0, 0), row(9.0, 0, tahun=2025)])
    got = inputs.statistics_current(wh, 2024)
    assert got[["tahun", "nilai"]].values.tolist() == [[2023, 6.0]]
    got = inputs.statistics_current(wh, 2025).sort_values("tahun")
    assert got[["tahun", "nilai"]].values.tolist() == [[2023, 7.0], [2025, 9.0]]


def test_the_window_refuses_a_response_id_repeated_within_one_staged_file(wh):
    # Staging rejects such a copy (rule duplicate_in_file), so (response id, period, file)
    # names one staged row and the window fetches each first copy by it (issue 19): a
    # partition that breaks this is refused rather than counted twice.
    t = "staging.survey_responses"
    _write(wh, "survey", t, "2025-01", [_response("a", "35.13.01", 0, 2, 1), _response("b", "35.13.01", 0, 3, 2)])
    assert inputs.survey_window(wh, "2025-01", ITEMS, 12)["response_id"].tolist() == ["a", "b"]
    _write(wh, "survey", t, "2025-02", [_response("c", "35.13.01", 0, 2, 1), _response("c", "35.13.02", 0, 3, 2)])
    with pytest.raises(ValueError, match="repeated within one staged file"):
        inputs.survey_window(wh, "2025-02", ITEMS, 12)
