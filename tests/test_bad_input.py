"""Bad-input corpus: files broken the ways real deliveries are, through ``harmoni validate``
(a subprocess, as a user runs it) and through ingestion of the same bytes.

For every case: ``harmoni validate`` exits 0/1/2 as documented in
:mod:`harmoni_pipeline.filecheck`, names the file and never prints a traceback;
ingestion either accepts/rejects rows or raises ``IngestError`` with one line naming the
file (and the line when there is one); and the file's bytes are never changed.

The ``harmoni`` subprocesses (~2 s each, mostly imports) are started once per module,
a few at a time, by the ``corpus`` fixture.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import xlsxwriter

from harmoni_pipeline.filecheck import check_file, render
from harmoni_pipeline.ingest.runner import IngestError, ingest_partition
from harmoni_pipeline.methodology import all_items
from harmoni_pipeline.settings import Settings
from harmoni_pipeline.registry import catalog_tables
from harmoni_pipeline.warehouse import Warehouse
from tests.conftest import TEST_PII_KEY
from tests.landing_helpers import CANONICAL_HEADER, write_canonical_survey

HARMONI = str(Path(sys.executable).parent / "harmoni")
PERIOD = "2025-06"
FIVE_MB = 5 * 1024 * 1024


# --------------------------------------------------------------------------- corpus


def _canonical_row(i: int) -> list:
    return [f"R-{i:04d}", f"{PERIOD}-10T09:00:00+07:00", "35.13.19", "", "L", 35, "", "", "", "", ""] + [4] * (
        len(CANONICAL_HEADER) - 11
    )


def _xlsx_bytes(rows: int = 40) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("data")
    sheet.write_row(0, 0, CANONICAL_HEADER)
    for i in range(rows):
        sheet.write_row(i + 1, 0, _canonical_row(i))
    workbook.close()
    return buffer.getvalue()


def _csv_line(values) -> bytes:
    return (",".join(str(v) for v in values) + "\n").encode()


GF_HEADER = "Timestamp,Kecamatan,Desa/Kelurahan,Jenis Kelamin,Usia,[X01_PER] Kebutuhan pangan keluarga saya tercukupi\n"
CP1252_NAMES = ("Pàjarakan", "Kraksaän")


def _cp1252_google_forms() -> bytes:
    text = GF_HEADER + "".join(
        f"2025/06/0{i + 3} 10:15:22 GMT+7,{kec},,Perempuan,{30 + i},Setuju\n"
        for i, kec in enumerate(("Kraksaan", *CP1252_NAMES))
    )
    data = text.encode("cp1252")
    with pytest.raises(UnicodeDecodeError):  # the point of the case: not UTF-8
        data.decode("utf-8")
    return data


def _garbage(high_only: bool) -> bytes:
    rng = np.random.default_rng(0)
    low = 128 if high_only else 0
    return rng.integers(low, 256, size=65536, dtype=np.uint8).tobytes()


@dataclass(frozen=True)
class Case:
    file: str
    build: Callable[[], bytes]
    code: int  # harmoni validate exit code
    reason: str | None = None  # fragment of the one-line reason (exit 2)
    ingest_error: str | None = None  # fragment of the IngestError; None = rows are accepted/rejected
    line: int | None = None  # the row the errors name
    rows: tuple[int, int, int] | None = None  # read, accepted, rejected (exit 0/1)


CASES = [
    Case("empty.csv", lambda: b"", 2, "empty file", "empty file"),
    Case("header_only.csv", lambda: _csv_line(CANONICAL_HEADER), 0, rows=(0, 0, 0)),
    Case("cp1252_names.csv", _cp1252_google_forms, 1, rows=(3, 1, 2)),
    Case("truncated.xlsx", lambda: (lambda b: b[: len(b) // 2])(_xlsx_bytes()), 2,
         "not a readable XLSX workbook", "not a readable XLSX workbook"),
    Case("binary_garbage.csv", lambda: _garbage(False), 2, "binary content", "binary content"),
    Case("high_bytes_garbage.csv", lambda: _garbage(True), 2, "neither UTF-8 nor cp1252", "neither UTF-8 nor cp1252"),
    Case("unknown_layout.csv", lambda: b"nama,alamat,telepon\nBudi,Jl. Mawar 1,0812\n", 2,
         "not a known survey, FKDM or statistics layout", "unknown survey layout: lacks columns"),
    Case("duplicate_headers.csv", lambda: _csv_line([*CANONICAL_HEADER, "umur"]) + _csv_line([*_canonical_row(0), 35]), 2,
         "duplicate column names in the header: umur", "duplicate column names in the header: umur"),
    Case("huge_header_line.csv", lambda: b"kolom," * (FIVE_MB // 6), 2,
         "more than a table may have", "more than a table may have"),
    Case("huge_data_line.csv", lambda: _csv_line(CANONICAL_HEADER) + b"x" * FIVE_MB + b"\n", 2,
         "malformed CSV: line 2 has 1 fields", "malformed CSV: line 2 has 1 fields", line=2),
    Case("old_mac_line_ends.csv", lambda: b"\r".join(_csv_line(r).rstrip(b"\n") for r in
                                                      [CANONICAL_HEADER] + [_canonical_row(i) for i in range(3)]), 2,
         "unreadable header line", "unreadable header line"),
]
CASE_IDS = [c.file for c in CASES]

# planted rejections (write_canonical_survey's rows arrive in 2025-11): line → rule
PLANTED_PERIOD = "2025-11"
PLANTED = [
    ({}, None),
    ({"umur": "15"}, "age_out_of_range"),
    ({"kode_kecamatan": "99.99.99"}, "unknown_region"),
    ({"kode_kecamatan": "35.01.01"}, "out_of_scope"),
    ({all_items()[0]: "9"}, "out_of_scale"),
    ({"jenis_kelamin": "X"}, "invalid_value"),
    ({"submitted_at": "2025-12-02T10:00:00+07:00"}, "invalid_date"),
    ({"umur": ""}, "missing_field"),
    ({item: "" for item in all_items()}, "empty_response"),
    ({"response_id": "R-0000"}, "duplicate_in_file"),
]


def _fingerprint(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), st.st_size, st.st_mtime_ns


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


def _validate(args: list[str], cwd: Path, env: dict) -> Result:
    proc = subprocess.run(
        [HARMONI, "validate", *args], cwd=cwd, env=env, capture_output=True, text=True, encoding="utf-8",
        errors="replace", timeout=180,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Writes every case, a sample landing zone and a planted file; runs ``harmoni
    validate`` on each (4 at a time); records the files' fingerprints before."""
    from harmoni_pipeline.sample import generate_landing_zone

    root = tmp_path_factory.mktemp("bad_input")
    inbox = root / "inbox"
    inbox.mkdir()
    paths = {}
    for case in CASES:
        paths[case.file] = inbox / case.file
        paths[case.file].write_bytes(case.build())
    sample = root / "sample"
    generate_landing_zone(sample, start=PERIOD, end=PERIOD, seed=1)
    sample_survey = next((sample / "survey" / PERIOD).glob("survei_kanonik_*.csv"))
    planted = write_canonical_survey(inbox / "planted.csv", [row for row, _ in PLANTED])

    cwd = root / "cwd"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARMONI_")}
    env.update(
        HARMONI_PII_KEY=TEST_PII_KEY,
        HARMONI_SCOPE="35.13",
        HARMONI_LANDING_DIR=str(root / "no_landing"),
        HARMONI_WAREHOUSE_DIR=str(root / "no_warehouse"),
        PYTHONIOENCODING="utf-8",
    )
    jobs = {case.file: [str(paths[case.file]), "--period", PERIOD] for case in CASES}
    jobs["sample"] = [str(sample_survey), "--period", PERIOD]
    jobs["planted"] = [str(planted), "--period", PLANTED_PERIOD]
    watched = [*paths.values(), sample_survey, planted]
    before = {p: _fingerprint(p) for p in watched}
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {key: pool.submit(_validate, args, cwd, env) for key, args in jobs.items()}
        results = {key: f.result() for key, f in futures.items()}
    return {
        "root": root, "paths": paths, "sample": sample, "sample_survey": sample_survey, "planted": planted,
        "results": results, "before": before, "cwd": cwd,
    }


def _settings(landing: Path, warehouse: Path) -> Settings:
    return Settings.from_env(landing_dir=landing, warehouse_dir=warehouse, scope="35.13", pii_key=TEST_PII_KEY)


# --------------------------------------------------------------------------- harmoni validate


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_validate_exit_code_names_the_file_without_traceback(corpus, case):
    result = corpus["results"][case.file]
    path = str(corpus["paths"][case.file])
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert result.code == case.code, output
    assert path in output
    if case.code == 2:
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith(f"harmoni: {path}: ")
        assert case.reason in lines[0]
        assert "could not be parsed" not in lines[0]  # a parser crash, wrapped
        if case.line:
            assert f"line {case.line}" in lines[0]
    else:
        read, accepted, rejected = case.rows
        assert f"rows     {read} read, {accepted} accepted, {rejected} rejected" in result.stdout
        assert f"period   {PERIOD}" in result.stdout and "assumed" not in result.stdout


def test_cp1252_names_are_decoded_and_echoed(corpus):
    out = corpus["results"]["cp1252_names.csv"].stdout
    assert "unknown_region" in out
    for name in CP1252_NAMES:
        assert name in out  # decoded as cp1252, not mojibake
    report = check_file(corpus["paths"]["cp1252_names.csv"], period=PERIOD)
    assert [r.rule for r in report.rules] == ["unknown_region"]
    assert [(e.line, e.column, e.value) for e in report.rules[0].examples] == [
        (3, "Kecamatan", CP1252_NAMES[0]), (4, "Kecamatan", CP1252_NAMES[1])
    ]


def test_header_only_file_is_readable_with_a_warning(corpus):
    out = corpus["results"]["header_only.csv"].stdout
    assert "no data rows" in out and "ok, every row would be accepted" in out


def test_validate_writes_nothing_and_leaves_files_unchanged(corpus):
    for path, fingerprint in corpus["before"].items():
        assert _fingerprint(path) == fingerprint, path
    assert not (corpus["root"] / "no_warehouse").exists()
    assert not (corpus["root"] / "no_landing").exists()
    assert list(corpus["cwd"].iterdir()) == []


# --------------------------------------------------------------------------- ingestion of the same bytes


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_ingestion_accepts_rejects_or_fails_in_one_line(corpus, case, tmp_path):
    landing = tmp_path / "landing"
    target = landing / "survey" / PERIOD / case.file
    target.parent.mkdir(parents=True)
    shutil.copyfile(corpus["paths"][case.file], target)
    before = _fingerprint(target)
    settings = _settings(landing, tmp_path / "wh")
    warehouse = Warehouse(tmp_path / "wh", catalog_tables())
    rel = f"survey/{PERIOD}/{case.file}"
    if case.ingest_error:
        with pytest.raises(IngestError) as info:
            ingest_partition("survey", PERIOD, settings=settings, run_id="t", warehouse=warehouse)
        message = str(info.value)
        assert "\n" not in message and "\r" not in message
        assert rel in message and case.ingest_error in message
        assert "could not be parsed" not in message
        if case.line:
            assert f"line {case.line}" in message
    else:
        report = ingest_partition("survey", PERIOD, settings=settings, run_id="t", warehouse=warehouse)
        assert (report.rows_read, report.rows_accepted, report.rows_rejected) == case.rows
        # validate (same file, in the landing zone: source from the folder) agrees
        checked = check_file(target, period=PERIOD, settings=settings)
        assert checked.source_from == "from the folder survey/"
        assert (checked.rows_read, checked.rows_accepted, checked.rows_rejected) == case.rows
        assert {r.rule: r.rows for r in checked.rules} == report.rejected_by_rule
    assert _fingerprint(target) == before


# --------------------------------------------------------------------------- valid and planted files


def test_sample_file_validates_with_a_per_rule_report(corpus):
    result = corpus["results"]["sample"]
    assert result.code in (0, 1), result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert str(corpus["sample_survey"]) in result.stdout
    assert "source   survey (from the folder survey/)" in result.stdout
    assert "format   canonical" in result.stdout
    report = check_file(corpus["sample_survey"], period=PERIOD)
    assert result.code == report.exit_code
    for summary in report.rules:
        assert summary.rule in result.stdout
        assert 1 <= len(summary.examples) <= 3
    assert sum(1 for r in report.rules) == len({r.rule for r in report.rules})


@pytest.mark.parametrize("source,partition", [("survey", PERIOD), ("fkdm", PERIOD), ("stats", PERIOD[:4])])
def test_every_sample_file_validates_as_it_ingests(corpus, source, partition, tmp_path):
    landing = corpus["sample"]
    settings = _settings(landing, tmp_path / "wh")
    report = ingest_partition(source, partition, settings=settings, run_id="t",
                              warehouse=Warehouse(tmp_path / "wh", catalog_tables()))
    assert report.files
    for record in report.files:
        checked = check_file(landing / record["path"], period=PERIOD, settings=settings)
        assert checked.exit_code in (0, 1), checked.error
        assert checked.source == source and checked.format == record["format"]
        assert (checked.rows_read, checked.rows_accepted, checked.rows_rejected) == (
            record["rows_read"], record["rows_accepted"], record["rows_rejected"]
        ), record["path"]
        # the same file outside the landing zone: the source is detected from the content
        copy = tmp_path / "inbox" / Path(record["path"]).name
        copy.parent.mkdir(exist_ok=True)
        shutil.copyfile(landing / record["path"], copy)
        detected = check_file(copy, period=PERIOD, settings=settings)
        assert (detected.source, detected.format, detected.rows_rejected) == (source, checked.format, checked.rows_rejected)


def test_planted_rejections_exit_1_and_name_each_rule(corpus):
    result = corpus["results"]["planted"]
    assert result.code == 1, result.stdout + result.stderr
    table = result.stdout.splitlines()
    planted = {rule: line for line, (_, rule) in enumerate(PLANTED, start=2) if rule}
    for rule, line in planted.items():
        row = next((t for t in table if t.strip().startswith(rule + " ")), None)
        assert row is not None, f"{rule} missing from\n{result.stdout}"
        assert row.split()[1:3] == ["1", str(line)], row  # one row, its line
    assert f"rows     {len(PLANTED)} read, 1 accepted, {len(PLANTED) - 1} rejected" in result.stdout
    report = check_file(corpus["planted"], period=PLANTED_PERIOD)
    assert {r.rule: [e.line for e in r.examples] for r in report.rules} == {r: [l] for r, l in planted.items()}


def test_period_defaults_to_the_current_month(corpus):
    planted = corpus["planted"]
    november = check_file(planted, now=dt.datetime(2025, 11, 20, tzinfo=dt.timezone.utc))
    assert (november.period, november.period_assumed) == ("2025-11", True)
    assert "invalid_date" in {r.rule for r in november.rules}
    assert "assumed: the current month" in render(november)
    # 30 Nov 20:00 UTC is already December in Asia/Jakarta: the 2 December row is on time
    december = check_file(planted, now=dt.datetime(2025, 11, 30, 20, 0, tzinfo=dt.timezone.utc))
    assert december.period == "2025-12"
    assert "invalid_date" not in {r.rule for r in december.rules}


# --------------------------------------------------------------------------- source detection and errors


def test_source_choice_and_unreadable_reasons(corpus, tmp_path):
    planted = corpus["planted"]
    forced = check_file(planted, source="fkdm", period=PLANTED_PERIOD)
    assert forced.exit_code == 2 and forced.error.startswith(f"{planted}: not an FKDM report table")
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    assert check_file(other).error == f"{other}: unsupported file type .txt; expected .csv, .json, .xlsx"
    missing = tmp_path / "missing.csv"
    assert check_file(missing).error == f"{missing}: no such file"
    deep = tmp_path / "deep.json"  # json.loads gives up with RecursionError
    deep.write_bytes(b'{"a":' + b"[" * 200_000 + b"]" * 200_000 + b"}")
    report = check_file(deep)
    assert report.exit_code == 2 and report.error == f"{deep}: invalid JSON: nested too deeply"
    with pytest.raises(ValueError, match="not a period"):
        check_file(planted, period="2025-13")


def test_cli_in_process_exit_codes(corpus, tmp_path, capsys):
    from harmoni_pipeline.cli import main

    assert main(["validate", str(tmp_path / "missing.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"harmoni: {tmp_path / 'missing.csv'}: no such file"]
    assert main(["validate", str(corpus["paths"]["header_only.csv"]), "--period", PERIOD]) == 0
    assert main(["validate", str(corpus["planted"]), "--source", "survey", "--scope", "ALL",
                 "--period", PLANTED_PERIOD]) == 1
    out = capsys.readouterr().out
    assert "scope    ALL" in out and "out_of_scope" not in out  # 35.01.01 is in scope ALL


def test_json_rejections_name_the_datacontent_key(corpus, tmp_path):
    import json

    source = next((corpus["sample"] / "stats" / PERIOD[:4]).glob("*.json"))
    body = json.loads(source.read_text(encoding="utf-8"))
    key = next(iter(body["datacontent"]))
    body["datacontent"][key] = "abc"
    bad = tmp_path / source.name
    bad.write_text(json.dumps(body), encoding="utf-8")
    report = check_file(bad)
    assert (report.source, report.format, report.exit_code, report.period) == ("stats", "bps_json", 1, None)
    [summary] = report.rules
    assert (summary.rule, summary.rows) == ("invalid_value", 1)
    assert [(e.line, e.column, e.value) for e in summary.examples] == [(None, key, "abc")]
    assert f"-  {key}  abc" in render(report)
