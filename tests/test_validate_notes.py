"""What `harmoni validate` and the ingestion audit say about how a file was read: the
columns that are ignored (named, their values never shown nor stored) and, for Google
Forms `a/b/yyyy` timestamps, which date order was read and why.

Files are real CSVs written here, shaped like the exports of data-contracts §3; a
planted unknown column holds phone numbers, which must appear nowhere — not in the
report, not in any file of the warehouse."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from harmoni_pipeline.filecheck import check_file, render
from harmoni_pipeline.ingest.runner import ingest_partition
from harmoni_pipeline.ingest.survey_timestamps import aby_order
from harmoni_pipeline.registry import catalog_tables
from harmoni_pipeline.warehouse import Warehouse

PERIOD = "2025-12"
PHONES = ["0812-7788-1122", "+62 813 4455 6677", "085299887766"]
GF_HEADER = ("Stempel waktu,Kecamatan,Desa/Kelurahan,Jenis Kelamin,Usia,Nomor telepon kantor,"
             "[X01_PER] Kebutuhan pangan keluarga saya tercukupi,[X01_PAR] Saya ikut lumbung pangan,"
             "[X01_AKS] Saya menerima program pangan bersama,[X11_PER] Pertanyaan tambahan")


def google_forms(path: Path, timestamps: list[str]) -> Path:
    """A Google Forms export (Indonesian locale) with an unknown column of phone numbers
    and a question whose item code is not in the catalog."""
    rows = [GF_HEADER]
    places = [("Dringu", "Kalirejo"), ("Tongas", "Curahdringu"), ("Kraksaan", "Kebonagung")]
    for i, ts in enumerate(timestamps):
        kec, desa = places[i % 3]
        rows.append(f"{ts},{kec},{desa},Perempuan,{30 + i},{PHONES[i % 3]},Setuju,Ragu-ragu,Sangat setuju,Setuju")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_validate_names_ignored_columns_and_never_their_values(tmp_path, settings):
    path = google_forms(tmp_path / "survey.csv", ["03/12/2025 10.15.22", "15/12/2025 08.01.00", "04/12/2025 19.30.00"])
    report = check_file(path, source="survey", period=PERIOD, settings=settings)
    assert report.exit_code == 0 and report.rows_accepted == 3
    assert report.ignored_columns == ["Nomor telepon kantor", "[X11_PER] Pertanyaan tambahan"]
    text = render(report)
    assert "ignored  2 column(s), never stored: 'Nomor telepon kantor', '[X11_PER] Pertanyaan tambahan'" in text
    for phone in PHONES:
        assert phone not in text
        assert phone.replace("-", "").replace(" ", "") not in text


@pytest.mark.parametrize(
    "timestamps, expected",
    [
        (["03/12/2025 10.15.22", "15/12/2025 08.01.00"],
         "read day-first (dd/mm/yyyy), decided over the whole column: a first field above 12 in 1 of 2 values"),
        (["12/3/2025 10:15:22 AM", "12/13/2025 4:05:09 PM", "11/30/2025 9:58:01 PM"],
         "read month-first (mm/dd/yyyy), decided over the whole column: a second field above 12 in 2 of 3 values, "
         "and no first field above 12"),
        (["03/12/2025 10.15.22", "04/12/2025 11.00.00"],
         "read day-first (dd/mm/yyyy), decided over the whole column: no field above 12 in any of the 2 values: "
         "day-first by default"),
    ],
    ids=["day-first", "month-first", "undecided"],
)
def test_validate_says_which_date_order_it_read(tmp_path, settings, timestamps, expected):
    path = google_forms(tmp_path / "survey.csv", timestamps)
    report = check_file(path, source="survey", period=PERIOD, settings=settings)
    assert report.rows_rejected == 0, render(report)
    assert report.date_order == f"a/b/yyyy timestamps {expected}"
    assert f"  dates    a/b/yyyy timestamps {expected}" in render(report)


def test_a_column_contradicting_the_order_is_rejected_and_said(tmp_path, settings):
    """A first field > 12 decides day-first for the whole file; a value with a second field
    > 12 is then no date (invalid_date), and the sentence says so."""
    path = google_forms(tmp_path / "survey.csv", ["15/12/2025 08.01.00", "12/13/2025 09.00.00", "03/12/2025 10.15.22"])
    report = check_file(path, source="survey", period=PERIOD, settings=settings)
    assert [(r.rule, r.rows) for r in report.rules] == [("invalid_date", 1)]
    assert report.date_order.endswith("a first field above 12 in 1 of 3 values (invalid dates: 1 with a second "
                                      "field above 12)")


def test_no_date_order_where_no_timestamp_is_a_b_yyyy(tmp_path, settings):
    path = google_forms(tmp_path / "survey.csv", ["2025/12/03 10:15:22 GMT+7", "2025/12/04 11:00:00 GMT+7"])
    report = check_file(path, source="survey", period=PERIOD, settings=settings)
    assert report.date_order is None and "dates " not in render(report)


def test_aby_order_decides_over_the_whole_column():
    import numpy as np

    assert aby_order(np.array([1, 2, 13]), np.array([5, 14, 1]))[0] is True  # a first field > 12 wins
    assert aby_order(np.array([1, 2]), np.array([5, 14]))[0] is False
    assert aby_order(np.array([], dtype=int), np.array([], dtype=int))[0] is True


def test_fkdm_and_statistics_name_their_ignored_columns(tmp_path, settings):
    fkdm = tmp_path / "fkdm.csv"
    fkdm.write_text(
        "no_laporan,tgl_lapor,tgl_kejadian,kode_desa,bidang,jenis_athg,kualifikasi,status,ringkasan,HP petugas\n"
        f"FKDM/1,2025-12-03,2025-12-01,35.13.19.2001,ekonomi,A,hijau,baru,Antrean pupuk,{PHONES[0]}\n",
        encoding="utf-8",
    )
    report = check_file(fkdm, source="fkdm", period=PERIOD, settings=settings)
    assert report.exit_code == 0
    assert report.ignored_columns == ["ringkasan", "HP petugas"]
    assert PHONES[0] not in render(report) and "Antrean" not in render(report)

    stats = tmp_path / "stats.csv"
    stats.write_text(
        "kode_wilayah,tahun,indikator,nilai,satuan,catatan operator\n35.13.01,2024,tpt,4.5,persen,cek ulang\n",
        encoding="utf-8",
    )
    report = check_file(stats, source="stats", settings=settings)
    assert report.exit_code == 0 and report.ignored_columns == ["catatan operator"]


def test_cli_prints_both_notes(tmp_path):
    path = google_forms(tmp_path / "survey.csv", ["12/3/2025 10:15:22 AM", "12/13/2025 4:05:09 PM"])
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "harmoni"), "validate", str(path), "--source", "survey", "--period", PERIOD],
        capture_output=True, text=True, timeout=120,
        env={"PATH": str(Path(sys.executable).parent), "HARMONI_PII_KEY": "k", "HOME": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "  ignored  2 column(s), never stored: 'Nomor telepon kantor'" in proc.stdout
    assert "  dates    a/b/yyyy timestamps read month-first (mm/dd/yyyy)" in proc.stdout
    assert not any(phone in proc.stdout for phone in PHONES)


def test_ingestion_records_both_notes_in_the_audit_and_stores_no_phone(env, settings):
    folder = env["landing"] / "survey" / PERIOD
    folder.mkdir(parents=True)
    google_forms(folder / "export.csv", ["03/12/2025 10.15.22", "15/12/2025 08.01.00", "04/12/2025 19.30.00"])
    warehouse = Warehouse(env["warehouse"], catalog_tables())
    ingest_partition("survey", PERIOD, settings=settings, run_id="notes-test", warehouse=warehouse)
    (record,) = warehouse.read_partition("audit.source_files", PERIOD, part="survey").to_pylist()
    assert record["rows_accepted"] == 3
    assert record["warnings"] == (
        "2 column(s) ignored, never stored: 'Nomor telepon kantor', '[X11_PER] Pertanyaan tambahan'; "
        "a/b/yyyy timestamps read day-first (dd/mm/yyyy), decided over the whole column: "
        "a first field above 12 in 1 of 3 values"
    )
    stored = [pq.read_table(f) for f in Path(env["warehouse"]).rglob("*.parquet")]
    text = "\n".join(str(t.to_pylist()) for t in stored)
    assert "export.csv" in text  # the scan did read the staged rows
    for phone in PHONES:
        digits = "".join(ch for ch in phone if ch.isdigit())
        assert phone not in text and digits not in text and digits[-9:] not in text
