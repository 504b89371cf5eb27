"""Fuzzing every landing-file parser: whatever the bytes, the outcome is a parse result
(rows read = accepted + rejected) or :class:`UnreadableFile` with a one-line reason
naming the file — never another exception, never a process abort.

Inputs (hypothesis, derandomised so CI sees the same examples every run; set
``HARMONI_FUZZ_SCALE`` to multiply the number of examples locally):
- random bytes under each source's extensions;
- valid files of the nine layouts (survey: canonical, Google Forms and Kobo CSV, Kobo
  XLSX; FKDM CSV and XLSX; statistics: long CSV, BPS WebAPI JSON, Dalam Angka XLSX)
  with byte flips, insertions, deletions, repeated slices and truncation;
- the workbooks with one zip member (the sheet, shared strings, workbook, styles …)
  mutated the same way and re-zipped, and the workbooks truncated anywhere;
- in a child process (an abort is then an exit code): a far-cell workbook and a zip bomb
  given to each XLSX parser.

Files go through :func:`harmoni_pipeline.ingest.runner.parse_one`, as ingestion and
``harmoni validate`` do; its "could not be parsed" wrapper of an unexpected exception
counts as a failure here.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harmoni_pipeline.ingest.common import UnreadableFile
from harmoni_pipeline.ingest.landing import LandingFile
from harmoni_pipeline.ingest.runner import parse_one
from harmoni_pipeline.pii import Pseudonymizer
from harmoni_pipeline.regions import Regions
from harmoni_pipeline.settings import Settings
from tests.conftest import TEST_PII_KEY
from tests.hostile_files import far_cell_xlsx, replace_member, zip_bomb

SCALE = float(os.environ.get("HARMONI_FUZZ_SCALE", "1"))
PERIOD = "2025-06"
LAYOUTS = {  # name: (source, path in the sample landing zone, lines kept of a CSV)
    "survey_canonical_csv": ("survey", f"survey/{PERIOD}/survei_kanonik_kab_probolinggo_{PERIOD}.csv"),
    "survey_google_forms_csv": ("survey", f"survey/{PERIOD}/gform_survei_ihai_ikn_kab_probolinggo.csv"),
    "survey_kobo_csv": ("survey", f"survey/{PERIOD}/kobo_survei_harmoni_kab_probolinggo_{PERIOD}.csv"),
    "survey_kobo_xlsx": ("survey", f"survey/{PERIOD}/kobo_survei_harmoni_kab_probolinggo_{PERIOD}.xlsx"),
    "fkdm_csv": ("fkdm", f"fkdm/{PERIOD}/laporan_fkdm_kab_probolinggo_{PERIOD}.csv"),
    "fkdm_xlsx": ("fkdm", f"fkdm/{PERIOD}/rekap_fkdm_kecamatan_kab_probolinggo_{PERIOD}.xlsx"),
    "stats_long_csv": ("stats", "stats/2025/indikator_konteks_2024.csv"),
    "stats_bps_json": ("stats", "stats/2025/bps_webapi_3513_var102_2024.json"),
    "stats_dalam_angka_xlsx": ("stats", "stats/2025/kab_probolinggo_dalam_angka_2025.xlsx"),
}
CSV_LINES = 25  # a sample CSV is cut to its header and first lines: small inputs, many examples
FUZZ = settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def examples(n: int) -> settings:
    return settings(FUZZ, max_examples=max(1, int(n * SCALE)))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, tuple[str, str, bytes]]:
    from harmoni_pipeline.sample import generate_landing_zone

    root = tmp_path_factory.mktemp("fuzz_sample")
    generate_landing_zone(root, start=PERIOD, end=PERIOD, seed=5, scope="35.13")
    out = {}
    for name, (source, rel) in LAYOUTS.items():
        data = (root / rel).read_bytes()
        if rel.endswith(".csv"):
            data = b"".join(data.splitlines(keepends=True)[: CSV_LINES + 1])
        out[name] = (source, Path(rel).suffix, data)
    return out


@pytest.fixture(scope="module")
def context():
    settings_ = Settings.from_env(landing_dir="/nonexistent/landing", warehouse_dir="/nonexistent/warehouse",
                                  scope="35.13", pii_key=TEST_PII_KEY)  # fmt: skip
    return settings_, Regions.load(), Pseudonymizer(TEST_PII_KEY)


def outcome(context, source: str, suffix: str, data: bytes) -> str:
    """Parse ``data`` as a landing file of ``source``; check the contract; say how it went."""
    settings_, regions, pseudonymizer = context
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzzed{suffix}"
        path.write_bytes(data)
        display = f"{source}/{PERIOD if source != 'stats' else '2025'}/fuzzed{suffix}"
        file = LandingFile(source=source, period=PERIOD if source != "stats" else "2025", path=path,
                           rel_path=display, sha256="0" * 64, bytes=len(data))  # fmt: skip
        try:
            parsed = parse_one(file, settings_, regions, pseudonymizer)
        except UnreadableFile as exc:
            message = str(exc)
            assert message.startswith(display + ": "), message
            assert "\n" not in message and "\r" not in message, message
            assert "could not be parsed" not in message, message  # an unexpected exception, wrapped
            return "unreadable"
    assert parsed.rows_read == parsed.rows_accepted + parsed.rows_rejected
    assert all("\n" not in w for w in parsed.warnings)
    return "parsed"


# --------------------------------------------------------------------------- mutations


@st.composite
def mutated(draw, data: bytes) -> bytes:
    """``data`` with 1–4 byte-level edits: flips, insertions, deletions, repeats, a cut."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "repeat", "truncate"]))
        at = draw(st.integers(0, max(len(out) - 1, 0)))
        if kind == "flip" and out:
            out[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            out[at:at] = draw(st.sampled_from([b"\x00", b'"', b",", b";", b"\n", b"\r", b"<", b"\xff", b"9" * 12,
                                               b"\xe2\x80\x8b", draw(st.binary(min_size=1, max_size=16))]))  # fmt: skip
        elif kind == "delete":
            del out[at : at + draw(st.integers(1, 64))]
        elif kind == "repeat":
            piece = bytes(out[at : at + draw(st.integers(1, 256))])
            out[at:at] = piece * draw(st.integers(1, 20))
        elif kind == "truncate":
            del out[at:]
    return bytes(out)


def _members(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [i.filename for i in archive.infolist()]


def _member(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(name)


XLSX_LAYOUTS = [n for n in LAYOUTS if n.endswith("_xlsx")]
SOURCE_SUFFIXES = [("survey", ".csv"), ("survey", ".xlsx"), ("fkdm", ".csv"), ("fkdm", ".xlsx"),
                   ("stats", ".csv"), ("stats", ".xlsx"), ("stats", ".json")]  # fmt: skip


# --------------------------------------------------------------------------- tests


def test_the_corpus_parses(corpus, context):
    for name, (source, suffix, data) in corpus.items():
        assert outcome(context, source, suffix, data) == "parsed", name


@pytest.mark.parametrize("source, suffix", SOURCE_SUFFIXES, ids=[f"{s}{x}" for s, x in SOURCE_SUFFIXES])
def test_random_bytes(context, source, suffix):
    @examples(10)
    @given(st.one_of(st.binary(max_size=3000), st.binary(max_size=200).map(lambda b: b"PK\x03\x04" + b),
                     st.binary(max_size=200).map(lambda b: b"{" + b)))  # fmt: skip
    def check(data):
        outcome(context, source, suffix, data)

    check()


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_mutated_valid_files(corpus, context, name):
    source, suffix, data = corpus[name]

    @examples(20)
    @given(mutated(data))
    def check(fuzzed):
        outcome(context, source, suffix, fuzzed)

    check()


@pytest.mark.parametrize("name", XLSX_LAYOUTS)
def test_mutated_workbook_members(corpus, context, name):
    source, suffix, data = corpus[name]
    members = _members(data)
    sheets = [m for m in members if "worksheets/" in m or "sharedStrings" in m]

    @examples(20)
    @given(st.data())
    def check(draw):
        target = draw.draw(st.one_of(st.sampled_from(sheets), st.sampled_from(members)))
        body = draw.draw(mutated(_member(data, target)))
        outcome(context, source, suffix, replace_member(data, body, name=target))

    check()


@pytest.mark.parametrize("name", XLSX_LAYOUTS)
def test_truncated_workbooks(corpus, context, name):
    source, suffix, data = corpus[name]

    @examples(8)
    @given(st.integers(0, len(data) - 1))
    def check(cut):
        assert outcome(context, source, suffix, data[:cut]) == "unreadable"

    check()


def test_far_cell_and_zip_bomb_in_every_xlsx_parser(tmp_path):
    """In a child process: an abort there fails this test instead of killing pytest."""
    far = tmp_path / "far.xlsx"
    far.write_bytes(far_cell_xlsx("x"))
    bomb = tmp_path / "bomb.xlsx"
    bomb.write_bytes(zip_bomb(64 * 2**20, declared=4096))
    script = textwrap.dedent(f"""
        from pathlib import Path
        from harmoni_pipeline.ingest.common import UnreadableFile
        from harmoni_pipeline.ingest.landing import LandingFile
        from harmoni_pipeline.ingest.runner import parse_one
        from harmoni_pipeline.pii import Pseudonymizer
        from harmoni_pipeline.regions import Regions
        from harmoni_pipeline.settings import Settings
        settings = Settings.from_env(landing_dir="/x", warehouse_dir="/y", scope="35.13", pii_key="k")
        regions, pseudonymizer = Regions.load(), Pseudonymizer("k")
        for source in ("survey", "fkdm", "stats"):
            for path in ({str(far)!r}, {str(bomb)!r}):
                period = "2025" if source == "stats" else "2025-06"
                file = LandingFile(source, period, Path(path), Path(path).name, "0" * 64, Path(path).stat().st_size)
                try:
                    parse_one(file, settings, regions, pseudonymizer)
                    print("PARSED", source, path)
                except UnreadableFile as exc:
                    print(str(exc))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[1])  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert len(lines) == 6
    assert lines[0::2] == ["far.xlsx: sheet 'data': its values span A1:WQJ1000000 (1,000,000 rows × 16,000 columns), "
                           "more than the limit of 200 columns (HARMONI_XLSX_MAX_COLUMNS)"] * 3  # fmt: skip
    assert lines[1::2] == ["bomb.xlsx: member 'xl/worksheets/sheet1.xml' inflates to more than the 4,096 bytes it "
                           "declares (a zip bomb?)"] * 3  # fmt: skip
