"""Hostile and odd inputs end to end: a far-cell workbook in a landing partition and
through ``harmoni validate``, free text over the length limit, personal-looking text in
free text and in rejected values, a file with a header and no rows, the limit settings.

What could abort the process (the far-cell workbook) runs in a child process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harmoni_pipeline.ingest.limits import MB, InputLimits
from harmoni_pipeline.ingest.runner import IngestError, ingest_partition
from harmoni_pipeline.settings import Settings, SettingsError, limits_from
from harmoni_pipeline.registry import catalog_tables
from harmoni_pipeline.warehouse import Warehouse
from tests.conftest import TEST_PII_KEY
from tests.hostile_files import far_cell_xlsx
from tests.landing_helpers import CANONICAL_HEADER, write_canonical_survey

HARMONI = str(Path(sys.executable).parent / "harmoni")
ROOT = Path(__file__).resolve().parents[1]
PERIOD = "2025-11"  # write_canonical_survey's rows arrive in 2025-11
FAR_REASON = ("sheet 'data': its values span A1:WQJ1000000 (1,000,000 rows × 16,000 columns), "
              "more than the limit of 200 columns (HARMONI_XLSX_MAX_COLUMNS)")  # fmt: skip


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARMONI_")}
    env.update(HARMONI_PII_KEY=TEST_PII_KEY, HARMONI_SCOPE="35.13", **extra)
    return env


def _ingest(tmp_path: Path, files: dict[str, bytes | list[dict]], **limits):
    landing, warehouse_dir = tmp_path / "landing", tmp_path / "warehouse"
    for name, content in files.items():
        path = landing / "survey" / PERIOD / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            write_canonical_survey(path, content)
    settings = Settings.from_env(landing_dir=landing, warehouse_dir=warehouse_dir, scope="35.13", pii_key=TEST_PII_KEY)
    if limits:
        settings = Settings(**{**vars(settings), "limits": InputLimits(**limits)})
    warehouse = Warehouse(warehouse_dir, catalog_tables())
    return settings, warehouse


def _audit(warehouse: Warehouse, table: str) -> list[dict]:
    return warehouse.read_partition(table, PERIOD, part="survey").to_pylist()


# --------------------------------------------------------------------------- the far-cell workbook


def test_far_cell_workbook_in_a_partition_is_recorded_unreadable_and_the_process_survives(tmp_path):
    landing, warehouse_dir = tmp_path / "landing", tmp_path / "warehouse"
    write_canonical_survey(landing / "survey" / PERIOD / "a_valid.csv", [{}, {}])
    (landing / "survey" / PERIOD / "far.xlsx").write_bytes(far_cell_xlsx(" x "))
    script = textwrap.dedent(f"""
        import json
        from harmoni_pipeline.ingest.runner import IngestError, ingest_partition
        from harmoni_pipeline.settings import Settings
        from harmoni_pipeline.registry import catalog_tables
        from harmoni_pipeline.warehouse import Warehouse
        settings = Settings.from_env(landing_dir={str(landing)!r}, warehouse_dir={str(warehouse_dir)!r})
        warehouse = Warehouse(settings.warehouse_dir, catalog_tables())
        try:
            ingest_partition("survey", "{PERIOD}", settings=settings, run_id="far", warehouse=warehouse)
            print(json.dumps({{"error": None}}))
        except IngestError as exc:
            rows = warehouse.read_partition("audit.source_files", "{PERIOD}", part="survey").to_pylist()
            print(json.dumps({{"error": str(exc), "audit": {{r["path"]: r["error"] for r in rows}}}}))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env=_env())  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["error"] == f"survey {PERIOD}: survey/{PERIOD}/far.xlsx: {FAR_REASON}"
    assert result["audit"] == {f"survey/{PERIOD}/a_valid.csv": None, f"survey/{PERIOD}/far.xlsx": FAR_REASON}


def test_validate_far_cell_workbook_exits_2_with_one_line(tmp_path):
    far = tmp_path / "far.xlsx"
    far.write_bytes(far_cell_xlsx(" x "))
    proc = subprocess.run([HARMONI, "validate", str(far), "--source", "survey"], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path, env=_env())  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [f"harmoni: {far}: {FAR_REASON}"]


# --------------------------------------------------------------------------- free text


def test_free_text_longer_than_the_limit_rejects_the_row(tmp_path):
    settings, warehouse = _ingest(tmp_path, {"s.csv": [
        {"pekerjaan": "p" * 2000},
        {"pekerjaan": "p" * 2001},
        {"pendidikan": "d" * 31, "response_id": "R-" + "9" * 40},
    ]}, text_max_chars=30)  # fmt: skip
    report = ingest_partition("survey", PERIOD, settings=settings, run_id="t", warehouse=warehouse)
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (3, 0, 3)
    rejected = sorted((r["line"], r["rule"], r["column"], len(r["value"]), r["message"])
                      for r in _audit(warehouse, "audit.rejected_rows"))  # fmt: skip
    assert rejected == [
        (2, "invalid_value", "pekerjaan", 201, "pekerjaan longer than 30 characters"),
        (3, "invalid_value", "pekerjaan", 201, "pekerjaan longer than 30 characters"),
        (4, "invalid_value", "response_id", 42, "response_id, pendidikan longer than 30 characters"),
    ]  # one audit row per (row, rule): the first column, all of them in the message


def test_the_default_text_limit_is_2000_characters(tmp_path):
    settings, warehouse = _ingest(tmp_path, {"s.csv": [{"pekerjaan": "p" * 2000}, {"pekerjaan": "p" * 2001}]})
    report = ingest_partition("survey", PERIOD, settings=settings, run_id="t", warehouse=warehouse)
    assert (report.rows_accepted, report.rows_rejected) == (1, 1)
    (row,) = _audit(warehouse, "audit.rejected_rows")
    assert (row["column"], row["value"]) == ("pekerjaan", "p" * 200 + "…")


# --------------------------------------------------------------------------- masking


def test_personal_looking_text_is_masked_in_staging_and_in_rejected_values(tmp_path):
    settings, warehouse = _ingest(tmp_path, {"s.csv": [
        {"pekerjaan": "Budi hp 0812-3456-7890", "pendidikan": "SMA (nik 3513123456780001)"},
        {"pekerjaan": "petani budi.santoso@example.co.id / +62 812 3456 7890"},
        {"umur": "0812 3456 789"},
        {"jenis_kelamin": "budi@example.com"},
        {"kode_kecamatan": "3513123456780001"},
    ]})  # fmt: skip
    report = ingest_partition("survey", PERIOD, settings=settings, run_id="t", warehouse=warehouse)
    assert (report.rows_accepted, report.rows_rejected) == (2, 3)
    table = warehouse.read_partition("staging.survey_responses", PERIOD).to_pylist()
    assert sorted((r["pekerjaan"], r["pendidikan"]) for r in table) == [
        ("Budi hp [telepon]", "SMA (nik [nik])"),
        ("petani [email] / [telepon]", "SMA"),
    ]
    values = {r["column"]: r["value"] for r in _audit(warehouse, "audit.rejected_rows")}
    assert values == {"umur": "[telepon]", "jenis_kelamin": "[email]", "kode_kecamatan": "3513123456780001"}


# --------------------------------------------------------------------------- a header and no rows


def test_header_only_file_is_recorded_with_zero_rows_and_a_warning(tmp_path):
    settings, warehouse = _ingest(tmp_path, {"a.csv": [{}], "b_header_only.csv": (",".join(CANONICAL_HEADER) + "\n").encode()})
    report = ingest_partition("survey", PERIOD, settings=settings, run_id="t", warehouse=warehouse)
    rows = {r["path"]: r for r in _audit(warehouse, "audit.source_files")}
    header_only = rows[f"survey/{PERIOD}/b_header_only.csv"]
    assert (header_only["rows_read"], header_only["error"]) == (0, None)
    assert header_only["warnings"] == "the file has no data rows (header only)"
    assert rows[f"survey/{PERIOD}/a.csv"]["warnings"] is None
    assert report.warnings == [f"survey/{PERIOD}/b_header_only.csv: the file has no data rows (header only)"]


# --------------------------------------------------------------------------- settings


def test_limit_settings_come_from_the_environment():
    assert limits_from({}) == InputLimits()
    assert InputLimits() == InputLimits(500 * MB, 200, 2_000_000, 50_000_000, 2_000)
    limits = limits_from({"HARMONI_XLSX_MAX_UNCOMPRESSED_MB": "50", "HARMONI_XLSX_MAX_COLUMNS": "300",
                          "HARMONI_XLSX_MAX_ROWS": "1_000_000", "HARMONI_XLSX_MAX_CELLS": "9000000",
                          "HARMONI_TEXT_MAX_CHARS": "500"})  # fmt: skip
    assert limits == InputLimits(50 * MB, 300, 1_000_000, 9_000_000, 500)
    for bad in ("0", "-5", "many", "1.5"):
        with pytest.raises(SettingsError, match="HARMONI_XLSX_MAX_CELLS must be a positive whole number"):
            limits_from({"HARMONI_XLSX_MAX_CELLS": bad})
    env = {"HARMONI_PII_KEY": "k", "HARMONI_XLSX_MAX_COLUMNS": "12"}
    assert Settings.from_env(environ=env).limits.xlsx_max_columns == 12


def test_ingestion_reads_xlsx_within_the_configured_limits(tmp_path):
    from tests.hostile_files import xlsx_bytes

    rows = [CANONICAL_HEADER] + [[f"R-{i}", "2025-11-10T09:00:00+07:00", "35.13.19", "", "L", 35, "", "", "", "", ""]
                                 + [4] * (len(CANONICAL_HEADER) - 11) for i in range(3)]  # fmt: skip
    settings, warehouse = _ingest(tmp_path, {"s.xlsx": xlsx_bytes(rows)}, xlsx_max_columns=len(CANONICAL_HEADER))
    assert ingest_partition("survey", PERIOD, settings=settings, run_id="t", warehouse=warehouse).rows_accepted == 3
    narrower = Settings(**{**vars(settings), "limits": InputLimits(xlsx_max_columns=len(CANONICAL_HEADER) - 1)})
    with pytest.raises(IngestError) as info:
        ingest_partition("survey", PERIOD, settings=narrower, run_id="t", warehouse=warehouse)
    assert str(info.value) == (f"survey {PERIOD}: survey/{PERIOD}/s.xlsx: sheet 'data': its values span A1:BD4 "
                               "(4 rows × 56 columns), more than the limit of 55 columns (HARMONI_XLSX_MAX_COLUMNS)")


def _parse(tmp_path: Path, source: str, name: str, data: bytes, limits: InputLimits = InputLimits()):
    from harmoni_pipeline.ingest.landing import LandingFile
    from harmoni_pipeline.ingest.runner import parse_one
    from harmoni_pipeline.pii import Pseudonymizer
    from harmoni_pipeline.regions import Regions

    path = tmp_path / name
    path.write_bytes(data)
    settings = Settings.from_env(landing_dir=tmp_path, warehouse_dir=tmp_path / "wh", scope="35.13", pii_key="k")
    settings = Settings(**{**vars(settings), "limits": limits})
    period = "2025" if source == "stats" else "2025-03"
    file = LandingFile(source, period, path, name, "0" * 64, len(data))
    return parse_one(file, settings, Regions.load(), Pseudonymizer("k"))


def test_fkdm_report_number_and_statistics_free_text_have_the_limit_and_the_mask(tmp_path):
    fixtures = ROOT / "tests" / "fixtures"
    fkdm = (fixtures / "fkdm" / "fkdm_probolinggo_2025-03.csv").read_bytes().replace(
        b"FKDM/3513/2025/0001", b"FKDM/3513/2025/0001" + b"9" * 40, 1)
    parsed = _parse(tmp_path, "fkdm", "f.csv", fkdm, InputLimits(text_max_chars=40))
    long_rows = parsed.rejected[parsed.rejected["message"] == "no_laporan longer than 40 characters"]
    assert long_rows[["line", "rule", "column"]].values.tolist() == [[2, "invalid_value", "no_laporan"]]
    assert long_rows["value"].tolist() == ["FKDM/3513/2025/0001" + "9" * 40]  # an id: not masked

    lines = (fixtures / "stats" / "statistik_kecamatan_2024.csv").read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b"Proyeksi penduduk", b"Proyeksi (hubungi 081234567890 / data@bps.go.id)")
    lines[2] = lines[2].replace(b"Proyeksi penduduk", b"P" * 300)
    parsed = _parse(tmp_path, "stats", "s.csv", b"".join(lines), InputLimits(text_max_chars=200))
    sumber = parsed.rejected[parsed.rejected["column"] == "sumber"]  # (the fixture plants other rejections)
    assert sumber[["line", "rule", "value"]].values.tolist() == [[3, "invalid_value", "P" * 200 + "…"]]
    line_2 = parsed.accepted[parsed.accepted["line"] == 2]["sumber"].tolist()
    assert line_2 == ["Proyeksi (hubungi [telepon] / [email]) BPS Kab. Probolinggo (sebaran per kecamatan sintetis)"]
