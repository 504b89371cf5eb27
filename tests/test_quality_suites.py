"""The expectation suites (``checks/suites/*.json``) against real sample data, without Dagster
(the suite files themselves: ``tests/test_quality_suite_files.py``).

One module-scoped world: a generated landing zone (35.13, 2025-06, seed 3) ingested into a
temporary warehouse (staging + audit), and the ten marts computed from it. Every suite must
pass on that clean data; planted defects must fail — and fail exactly the expectation whose
``meta.guards`` names the planted rule. Plants of one kind (row rules of a source, mart
rules) share one GX run: each sits on its own row, so each expectation's unexpected count
says which plant it caught, and the set of failures must equal the set of plants.
"""

from __future__ import annotations

import gc
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from harmoni_pipeline import methodology as methodology_mod
from harmoni_pipeline.ingest.audit import REJECTED_ROWS_SCHEMA, SOURCE_FILES_SCHEMA
from harmoni_pipeline.ingest.runner import ingest_partition
from harmoni_pipeline.methodology import Methodology, all_items
from harmoni_pipeline.quality import batches as b
from harmoni_pipeline.quality.gx_runner import Outcome, ValidationReport
from harmoni_pipeline.quality.suites import load_suites
from harmoni_pipeline.quality.validate import staging_batches, validate_marts, validate_staging
from harmoni_pipeline.regions import POPULATION_YEAR, Regions
from harmoni_pipeline.registry import STAGING_TABLES, catalog_tables
from harmoni_pipeline.sample import generate_landing_zone
from harmoni_pipeline.scoring import population
from harmoni_pipeline.scoring.marts import PeriodContext, build_period
from harmoni_pipeline.scoring.schemas import MART_SCHEMAS
from harmoni_pipeline.settings import Settings
from harmoni_pipeline.trace.schemas import TRAIL_SCHEMAS
from harmoni_pipeline.warehouse import Warehouse
from tests.test_quality_suite_files import rules_named

SCOPE = "35.13"
MONTH = "2025-06"
PERIODS = {"survey": MONTH, "fkdm": MONTH, "stats": "2025"}
PII_KEY = "quality-suites-test-key"
OUTSIDE_KECAMATAN = "35.14.01"  # Kab. Pasuruan: a real kecamatan, outside the scope

# ----------------------------------------------------------------------------- the world


@dataclass
class World:
    landing: Path
    warehouse: Warehouse
    settings: Settings
    regions: Regions
    methodology: Methodology
    staging: dict[str, pa.Table]   # source -> clean staging partition
    marts: dict[str, pa.Table]     # table -> clean mart partition of MONTH
    trail: dict[str, pa.Table]     # audit.score_* -> the trail of MONTH's scores


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    tmp = tmp_path_factory.mktemp("quality_suites")
    landing = tmp / "landing"
    generate_landing_zone(landing, start=MONTH, end=MONTH, seed=3, scope=SCOPE)
    settings = Settings.from_env(landing_dir=landing, warehouse_dir=tmp / "wh", scope=SCOPE, pii_key=PII_KEY, environ={})
    warehouse = Warehouse(settings.warehouse_dir, catalog_tables())
    regions = Regions.load()
    methodology = methodology_mod.load()
    staging = {}
    for source, period in PERIODS.items():
        report = ingest_partition(source, period, settings=settings, run_id="t", warehouse=warehouse, regions=regions)
        assert not report.errors and report.rows_accepted > 0, (source, report.errors)
        staging[source] = warehouse.read_partition(STAGING_TABLES[source], period)
    ctx = PeriodContext(MONTH, warehouse, regions, SCOPE, methodology, "run")
    sets = build_period(ctx, landing)
    marts = {t: d for name in ("ihai", "ikn", "integration") for t, d in sets[name].tables.items()}
    assert set(marts) == set(MART_SCHEMAS) and set(sets["trail"].tables) == set(TRAIL_SCHEMAS)
    return World(landing, warehouse, settings, regions, methodology, staging, marts, sets["trail"].tables)


# ----------------------------------------------------------------------------- helpers


def edit(table: pa.Table, change: Callable[[pd.DataFrame], pd.DataFrame]) -> pa.Table:
    """A copy of ``table`` changed through pandas, back in the table's own schema."""
    return pa.Table.from_pandas(change(table.to_pandas()), schema=table.schema, preserve_index=False)


def check_staging(world: World, source: str, candidate: pa.Table, *, warehouse: Warehouse | None = None,
                  period: str | None = None, docs: Path | None = None) -> ValidationReport:
    return validate_staging(source, period or PERIODS[source], candidate, warehouse=warehouse or world.warehouse,
                            regions=world.regions, scope=SCOPE, methodology=world.methodology, run_name="test", docs=docs)


def check_marts(world: World, candidates: dict[str, pa.Table]) -> ValidationReport:
    return validate_marts(dict(candidates), MONTH, methodology=world.methodology, run_name="test", docs=None)  # it takes them out


def only_failure(report: ValidationReport) -> Outcome:
    failed = report.failures()
    assert len(failed) == 1, report.summary() + "\n" + "\n".join(o.describe() for o in failed)
    return failed[0]


def audit_frames(world: World, source: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    period = PERIODS[source]
    files = world.warehouse.read_partition("audit.source_files", period, source).to_pandas()
    rejected = world.warehouse.read_partition("audit.rejected_rows", period, source).to_pandas()
    return files, rejected


def warehouse_with_audit(tmp: Path, source: str, files: pd.DataFrame, rejected: pd.DataFrame) -> Warehouse:
    """A warehouse holding only ``source``'s audit partition (what validate_staging reads)."""
    wh = Warehouse(tmp / "wh_audit", catalog_tables())
    period = PERIODS[source]
    wh.write_partition("audit.source_files", period,
                       pa.Table.from_pandas(files, schema=SOURCE_FILES_SCHEMA, preserve_index=False), part=source)
    wh.write_partition("audit.rejected_rows", period,
                       pa.Table.from_pandas(rejected, schema=REJECTED_ROWS_SCHEMA, preserve_index=False), part=source)
    return wh


def file_record(files: pd.DataFrame, sha: str, path: str, fmt: str, read: int, accepted: int, rejected: int) -> dict:
    return {"sha256": sha, "path": path, "source": files["source"].iloc[0], "period": files["period"].iloc[0],
            "format": fmt, "bytes": 1000, "rows_read": read, "rows_accepted": accepted, "rows_rejected": rejected,
            "duplicate_of": None, "error": None, "warnings": None, "ingested_at": files["ingested_at"].iloc[0],
            "run_id": "t"}


def rejected_records(sha: str, path: str, source: str, period: str, lines, rule: str, column, value: str = "x") -> list[dict]:
    columns = column if isinstance(column, list) else [column] * len(lines)
    return [{"sha256": sha, "path": path, "line": line, "source": source, "period": period, "rule": rule,
             "column": col, "value": value, "message": f"planted {rule}", "pii_key_id": "k", "run_id": "t"}
            for line, col in zip(lines, columns)]


def append(frame: pd.DataFrame, records: list[dict]) -> pd.DataFrame:
    return pd.concat([frame, pd.DataFrame(records)], ignore_index=True)


def expectation_count(table: str) -> int:
    return sum(len(s.expectations) for s in load_suites(table))


# ----------------------------------------------------------------------------- 2. clean data passes


@pytest.mark.parametrize("source", ["survey", "fkdm", "stats"])
def test_clean_staging_partition_passes_every_suite(world, source):
    table = STAGING_TABLES[source]
    report = check_staging(world, source, world.staging[source])
    assert report.success, report.summary()
    assert len(report.outcomes) == expectation_count(table)  # every expectation was evaluated
    assert not [o for o in report.outcomes if o.error]
    expected = {"schema", "rows", "files", "partition"} | ({"population"} if source == "stats" else set())
    assert {o.batch for o in report.outcomes} == expected


def test_clean_marts_pass_every_suite(world):
    report = check_marts(world, world.marts)
    assert report.success, report.summary()
    assert {o.suite for o in report.outcomes} == {f"{t}.rows" for t in MART_SCHEMAS}
    assert len(report.outcomes) == sum(expectation_count(t) for t in MART_SCHEMAS)
    assert not [o for o in report.outcomes if o.error]


def test_the_trail_of_clean_marts_passes_its_suites_and_a_broken_trail_fails(world):
    assert all(t.num_rows > 0 for t in world.trail.values())
    report = check_marts(world, world.trail)
    assert report.success, report.summary()
    assert len(report.outcomes) == sum(expectation_count(t) for t in TRAIL_SCHEMAS)
    broken = dict(world.trail)
    broken["audit.score_respondents"] = edit(world.trail["audit.score_respondents"],
                                             lambda f: f.assign(weight=f["weight"].where(f.index > 0, 0.0)))
    broken["audit.score_sources"] = edit(world.trail["audit.score_sources"],
                                         lambda f: f.assign(sha256=f["sha256"].where(f.index > 0, "not-a-hash")))
    failed = {(o.suite, o.expectation) for o in check_marts(world, broken).failures()}
    assert failed == {("audit.score_respondents.rows", "expect_column_values_to_be_between"),
                      ("audit.score_sources.rows", "expect_column_values_to_match_regex")}


def _outcomes(report: ValidationReport) -> list[tuple]:
    return sorted((o.suite, o.expectation, o.column or "", o.guards, o.success, o.unexpected_count,
                   tuple(sorted(map(str, o.unexpected_sample))), o.error or "") for o in report.outcomes)


def _as_strings(world: World, tables: dict[str, pa.Table]) -> ValidationReport:
    """The suites run on frames with every text column a string column (no :func:`b.compact`)."""
    from harmoni_pipeline.quality.gx_runner import run_suites, suite_jobs

    report = ValidationReport()
    for table, data in tables.items():
        jobs = suite_jobs(load_suites(table), {"rows": b.as_frame(data)}, b.mart_parameters(table, MONTH, world.methodology))
        report.merge(run_suites(jobs, docs_dir=None, run_name="test"))
    return report


def test_the_marts_gate_reads_repetitive_text_as_categories_with_the_outcomes_of_the_strings(world, tmp_path):
    """The marts gate validates the trail's and the marts' repetitive text columns as
    categories (issue 19: a national month's respondents trail took 1.3 GB to validate as
    strings, 0.75 GB so): every expectation's outcome — success, unexpected count and
    sample — is the one the string columns give, clean and with defects planted in
    categorised columns, under row conditions on them, and read from a warehouse's
    candidate files as from memory. A column a pattern is matched on stays a string."""
    from harmoni_pipeline.quality.gate import Candidates

    respondents = world.trail["audit.score_respondents"]
    frame = b.as_frame(b.compact(respondents, {"source_sha256"}))
    assert {str(frame[c].dtype) for c in ("period", "run_id", "source_path", "indeks", "kode_kecamatan")} == {"category"}
    assert str(frame["source_sha256"].dtype) == "string" and str(frame["response_id"].dtype) == "string"

    def plant(f: pd.DataFrame) -> pd.DataFrame:
        f = f.copy()
        f.loc[0, "kode_kecamatan"] = None
        f.loc[1, "period"] = "1999-01"
        f.loc[2, "indeks"] = "lain"
        f.loc[3, ["indeks", "response_id"]] = f.loc[4, ["indeks", "response_id"]].to_numpy()
        f.loc[5, "jenis_kelamin"] = "X"
        f.loc[6, "source_sha256"] = "bukan-hash"
        f.loc[7, "run_id"] = None
        return f

    def misband(f: pd.DataFrame) -> pd.DataFrame:  # a category that does not fit its score, under a row condition
        ok = f.index[f["status"] == "ok"]
        return f.assign(kategori=f["kategori"].where(f.index != ok[0], "Tinggi"),
                        ihai=f["ihai"].where(f.index != ok[0], 1.0))

    broken = {**world.trail, **world.marts, "audit.score_respondents": edit(respondents, plant),
              "marts.ihai_kecamatan": edit(world.marts["marts.ihai_kecamatan"], misband)}
    for tables in ({**world.trail, **world.marts}, broken):
        expected = _as_strings(world, tables)
        assert _outcomes(check_marts(world, tables)) == _outcomes(expected)
        warehouse = Warehouse(tmp_path / f"wh{len(tables)}{expected.success}")
        for table, data in tables.items():
            warehouse.write_pending(table, MONTH, data, run_id="gate")
        read = validate_marts(Candidates(warehouse, list(tables), MONTH, "gate"), MONTH,
                              methodology=world.methodology, run_name="test", docs=None)
        assert _outcomes(read) == _outcomes(expected)
    failed = {(o.suite, o.expectation, o.column) for o in expected.failures()}
    assert {("audit.score_respondents.rows", "expect_compound_columns_to_be_unique", "indeks,response_id"),
            ("audit.score_respondents.rows", "expect_column_values_to_not_be_null", "kode_kecamatan"),
            ("audit.score_respondents.rows", "expect_column_values_to_not_be_null", "run_id"),
            ("audit.score_respondents.rows", "expect_column_values_to_be_in_set", "period"),
            ("audit.score_respondents.rows", "expect_column_values_to_be_in_set", "indeks"),
            ("audit.score_respondents.rows", "expect_column_values_to_be_in_set", "jenis_kelamin"),
            ("audit.score_respondents.rows", "expect_column_values_to_match_regex", "source_sha256"),
            ("marts.ihai_kecamatan.rows", "expect_column_values_to_be_between", "ihai")} <= failed


def test_compact_encodes_only_text_that_repeats():
    table = pa.table({"run": ["r"] * 4, "id": ["a", "b", "c", "d"], "code": pa.array(["x", None, "x", "y"]),
                      "n": [1, 2, 3, 4], "read": pa.array(["p", "q", "r", "s"]).dictionary_encode()})
    out = b.compact(table, plain={"code"})
    assert [str(f.type) for f in out.schema] == ["dictionary<values=string, indices=int32, ordered=0>", "string",
                                                 "string", "int64", "string"]
    assert out.to_pylist() == table.cast(out.schema).to_pylist()
    assert b.text_columns(table.schema, {"code"}) == ["run", "id"]
    assert b.compact(table.slice(0, 0)).num_rows == 0


def test_a_score_rounded_past_100_is_published_as_100_and_a_real_excess_still_fails(world):
    """A weighted mean of scores that are all 100 can come out 100.00000000000001 (found
    on a national sample: the marts gate refused a legitimate month); shaping the mart
    snaps a value within rounding of a bound to it, and a real excess still fails."""
    from harmoni_pipeline.scoring.marts import PeriodContext, to_table
    from harmoni_pipeline.scoring.survey import _group_mean

    rng = np.random.default_rng(0)
    rounded = next(m for m in (_group_mean(np.zeros(7, dtype=np.int64), 1, rng.random(7) * 3, np.full(7, 100.0))[0][0]
                               for _ in range(1000)) if m > 100.0)
    assert 100.0 < rounded < 100.0 + 1e-12
    ctx = PeriodContext(MONTH, world.warehouse, world.regions, SCOPE, world.methodology, "run")
    frame = world.marts["marts.ihai_variabel"].to_pandas()
    shaped = to_table(frame.assign(skor=frame["skor"].where(frame.index > 0, rounded)), "marts.ihai_variabel", ctx)
    assert shaped.column("skor")[0].as_py() == 100.0
    assert check_marts(world, {**world.marts, "marts.ihai_variabel": shaped}).success
    beyond = to_table(frame.assign(skor=frame["skor"].where(frame.index > 0, 100.001)), "marts.ihai_variabel", ctx)
    failed = {(o.suite, o.expectation) for o in check_marts(world, {**world.marts, "marts.ihai_variabel": beyond}).failures()}
    assert failed == {("marts.ihai_variabel.rows", "expect_column_values_to_be_between")}


def test_validated_frames_are_let_go_when_the_suites_have_run(world):
    """GX keeps each batch's DataFrame in its execution engine and its last context as the
    module's current project: `harmoni run` runs its steps in one process, so a gate's
    batches (the survey partition, the trail's respondents) stayed alive through the later
    steps. After a run, no batch of it may be left."""
    from great_expectations.execution_engine.pandas_batch_data import PandasBatchData

    report = check_marts(world, world.trail)
    assert report.success, report.summary()
    gc.collect()
    assert [o for o in gc.get_objects() if isinstance(o, PandasBatchData)] == []


def test_batches_are_not_fingerprinted():
    """GX would hash every row of each batch (pandas' hash, then MD5) for a batch marker
    nothing reads — ≈ 2 s of a national month's gates. The runner's context turns it off."""
    from harmoni_pipeline.quality import gx_runner

    context = gx_runner._context()
    source = context.data_sources.add_pandas("fingerprint")
    definition = source.add_dataframe_asset("rows").add_batch_definition_whole_dataframe("whole")
    try:
        batch = definition.get_batch(batch_parameters={"dataframe": pd.DataFrame({"x": [1, 2, 3]})})
        assert batch.data.dataframe["x"].tolist() == [1, 2, 3]
        assert "pandas_data_fingerprint" not in batch.batch_markers
    finally:
        gx_runner._release(context, source)


def test_integer_columns_reach_gx_as_int64_when_they_hold_no_null():
    """GX checks ranges column-wise only on int64/float64 columns (row by row in Python
    otherwise): integer columns without nulls are handed over as int64, the others as they
    are; what the suites find is the same either way (count, sample as the value reads)."""
    from harmoni_pipeline.quality.gx_runner import run_suites, vectorisable
    from harmoni_pipeline.quality.suites import Suite

    frame = pd.DataFrame({
        "umur": pd.array([17, 200, 40], dtype="Int16"),
        "gaps": pd.array([17, None, 200], dtype="Int16"),
        "line": np.array([1, 2, 3], dtype="int32"),
        "code": pd.array(["a", None, "c"], dtype="string"),
    })
    shaped = vectorisable(frame)
    assert shaped.dtypes.astype(str).to_dict() == {"umur": "int64", "gaps": "Int16", "line": "int64", "code": "string"}
    assert shaped["umur"].tolist() == [17, 200, 40] and shaped["line"].tolist() == [1, 2, 3]
    between = [{"type": "expect_column_values_to_be_between", "kwargs": {"column": c, "min_value": 17, "max_value": 100},
                "meta": {"guards": "age"}} for c in ("umur", "gaps")]
    report = run_suites([(Suite("t.rows", "rows", tuple(between)), frame, {})])
    found = {o.column: (o.success, o.unexpected_count, o.unexpected_sample) for o in report.outcomes}
    assert found == {"umur": (False, 1, ["200"]), "gaps": (False, 1, ["200"])}


def test_data_docs_pages_are_written_for_every_suite(world, tmp_path):
    docs = tmp_path / "docs"
    report = check_staging(world, "fkdm", world.staging["fkdm"], docs=docs)
    assert report.success, report.summary()
    assert report.docs_index == docs / "index.html" and report.docs_index.is_file()
    assert set(report.docs_pages) == {s.name for s in load_suites("staging.fkdm_reports")}
    for suite, page in report.docs_pages.items():
        assert page.is_file(), page
        assert page.is_relative_to(docs) and page.suffix == ".html"
        html = page.read_text(encoding="utf-8")
        assert "<html" in html.lower() and suite in html
    assert "staging.fkdm_reports.rows" in report.docs_index.read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- 3. planted defects fail


@dataclass(frozen=True)
class Plant:
    group: str          # which combined run it is part of
    name: str
    suite: str
    expectation: str
    column: str
    guards: str         # a fragment of the guarding expectation's meta.guards
    rule: str | None    # the §3.4 rule the guards must name (None: a mart rule)
    count: int          # unexpected rows expected
    sample: str | None  # a value expected among the unexpected sample


SV, FK, ST = "staging.survey_responses.rows", "staging.fkdm_reports.rows", "staging.statistics.rows"
PLANTS = [
    Plant("survey", "age 12", SV, "expect_column_values_to_be_between", "umur", "age_out_of_range", "age_out_of_range", 1, "12"),
    Plant("survey", "sex X", SV, "expect_column_values_to_be_in_set", "jenis_kelamin", "sex is L or P", "invalid_value", 1, "X"),
    Plant("survey", "sex missing", SV, "expect_column_values_to_not_be_null", "jenis_kelamin", "required survey fields", "missing_field", 1, None),
    Plant("survey", "item 7", SV, "expect_column_values_to_be_null", "item_out_of_scale", "within its scale", "out_of_scale", 1, "X01_PER"),
    Plant("survey", "kecamatan outside scope", SV, "expect_column_values_to_match_regex", "kode_kecamatan", "in scope", "out_of_scope", 1, OUTSIDE_KECAMATAN),
    Plant("survey", "submitted after the month", SV, "expect_column_values_to_be_in_set", "after_period_end", "arrival month", "invalid_date", 1, "True"),
    Plant("survey", "no item answered", SV, "expect_column_values_to_be_between", "items_answered", "at least one item", "empty_response", 1, "0"),
    Plant("survey", "response id twice in a file", SV, "expect_compound_columns_to_be_unique", "source_sha256,response_id", "response id once per file", "duplicate_in_file", 2, None),
    Plant("fkdm", "kualifikasi ungu", FK, "expect_column_values_to_be_in_set", "kualifikasi", "invalid_value: kualifikasi", "invalid_value", 1, "ungu"),
    Plant("fkdm", "kejadian after lapor", FK, "expect_column_values_to_be_in_set", "dates_in_order", "tgl_kejadian ≤ tgl_lapor", "date_order", 1, "False"),
    Plant("fkdm", "lapor after tindak lanjut", FK, "expect_column_values_to_be_in_set", "dates_in_order", "tgl_kejadian ≤ tgl_lapor", "date_order", 1, "False"),
    Plant("fkdm", "no_laporan twice in a file", FK, "expect_compound_columns_to_be_unique", "source_sha256,no_laporan", "a report once per file", "duplicate_in_file", 2, None),
    Plant("fkdm", "kecamatan outside scope", FK, "expect_column_values_to_match_regex", "kode_kecamatan", "in scope", "out_of_scope", 1, OUTSIDE_KECAMATAN),
    Plant("stats", "negative population", ST, "expect_column_values_to_be_between", "nilai", "a number ≥ 0", "invalid_value", 1, "-1.0"),
    Plant("stats", "percentage 130", ST, "expect_column_values_to_be_between", "nilai", "percentage within 0–100", "out_of_scale", 1, "130.0"),
    Plant("stats", "value twice in a file", ST, "expect_compound_columns_to_be_unique",
          "source_sha256,kode_wilayah,tahun,indikator,jenis_kelamin,kelompok_umur", "a value once per file", "duplicate_in_file", 2, None),
    Plant("marts", "ihai 101", "marts.ihai_kecamatan.rows", "expect_column_values_to_be_between", "ihai", "scores within 0–100: ihai", None, 1, "101.0"),
    Plant("marts", "ihai 85 labelled Sedang", "marts.ihai_kecamatan.rows", "expect_column_values_to_be_between", "ihai", "kategori = Sedang matches its band", None, 1, "85.0"),
    Plant("marts", "ihai where insufficient_sample", "marts.ihai_kecamatan.rows", "expect_column_values_to_be_null", "ihai", "NULL where status is not ok (§5): ihai", None, 1, "55.0"),
    Plant("marts", "kode_kecamatan twice", "marts.ihai_kecamatan.rows", "expect_column_values_to_be_unique", "kode_kecamatan", "one row per kode_kecamatan", None, 2, None),
    Plant("marts", "Rendah with red alert", "marts.ikn_kecamatan.rows", "expect_column_values_to_be_in_set", "tingkat_kerawanan", "red-alert override", None, 1, "Rendah"),
    Plant("marts", "quadrant and alasan_null", "marts.harmoni_kewaspadaan.rows", "expect_column_values_to_be_null", "alasan_null", "alasan_null only when the quadrant is NULL", None, 1, None),
]


def _survey_plants(world: World) -> ValidationReport:
    def change(df: pd.DataFrame) -> pd.DataFrame:
        sha = df["source_sha256"].value_counts().index[0]  # rows of the largest file
        r = df.index[df["source_sha256"] == sha][:11]
        items = all_items()
        jakarta = "Asia/Jakarta"
        df.loc[r[0], "umur"] = 12
        df.loc[r[1], "jenis_kelamin"] = "X"
        df.loc[r[2], "jenis_kelamin"] = None
        df.loc[r[3], "X01_PER"] = 7
        df.loc[r[4], ["kode_kecamatan", "kode_desa"]] = [OUTSIDE_KECAMATAN, OUTSIDE_KECAMATAN + ".2001"]
        df.loc[r[5], "submitted_at"] = pd.Timestamp("2025-07-01 00:00:00", tz=jakarta).tz_convert("UTC")
        df.loc[r[6], items] = np.nan
        df.loc[r[7], "response_id"] = df.loc[r[8], "response_id"]
        # not defects: the last instant of the month (Jakarta) and an item answered at each end of the scale
        df.loc[r[9], "submitted_at"] = pd.Timestamp("2025-06-30 23:59:59.999999", tz=jakarta).tz_convert("UTC")
        df.loc[r[10], items] = np.nan
        df.loc[r[10], ["X01_PER", "KN5_AKS"]] = [1, 5]
        return df

    return check_staging(world, "survey", edit(world.staging["survey"], change))


def _fkdm_plants(world: World) -> ValidationReport:
    def change(df: pd.DataFrame) -> pd.DataFrame:
        sha = df["source_sha256"].value_counts().index[0]
        r = df.index[df["source_sha256"] == sha][:7]
        day = pd.Timedelta(days=1)
        df.loc[r[0], "kualifikasi"] = "ungu"
        lapor = pd.Timestamp(df.loc[r[1], "tgl_lapor"])
        df.loc[r[1], ["tgl_kejadian", "tgl_tindak_lanjut", "tgl_selesai"]] = [(lapor + day).date(), None, None]
        lapor = pd.Timestamp(df.loc[r[2], "tgl_lapor"])
        df.loc[r[2], ["tgl_kejadian", "tgl_tindak_lanjut", "tgl_selesai"]] = [lapor.date(), (lapor - day).date(), None]
        df.loc[r[3], "no_laporan"] = df.loc[r[4], "no_laporan"]
        df.loc[r[5], ["kode_kecamatan", "kode_desa"]] = [OUTSIDE_KECAMATAN, OUTSIDE_KECAMATAN + ".2001"]
        # not a defect: every date on the same day
        lapor = pd.Timestamp(df.loc[r[6], "tgl_lapor"])
        df.loc[r[6], ["tgl_kejadian", "tgl_tindak_lanjut", "tgl_selesai"]] = [lapor.date()] * 3
        return df

    return check_staging(world, "fkdm", edit(world.staging["fkdm"], change))


def _stats_plants(world: World) -> ValidationReport:
    def change(df: pd.DataFrame) -> pd.DataFrame:
        pop = df.index[df["indikator"] == population.POPULATION]
        smallest = df.loc[pop, "nilai"].idxmin()  # so the kabupaten total stays within 2 %
        df.loc[smallest, "nilai"] = -1.0
        pct = df.index[df["indikator"].str.startswith("pct_")]
        df.loc[pct[0], "nilai"] = 130.0
        df.loc[pct[1], "nilai"] = 100.0  # not a defect: the top of the scale
        tpt = df.index[df["indikator"] == "tpt"][0]
        return pd.concat([df, df.loc[[tpt]]], ignore_index=True)

    return check_staging(world, "stats", edit(world.staging["stats"], change))


def _mart_plants(world: World) -> ValidationReport:
    def ihai(df: pd.DataFrame) -> pd.DataFrame:
        ok = df.index[df["status"] == "ok"]
        tinggi = df.index[(df["status"] == "ok") & (df["kategori"] == "Tinggi")]
        sedang = df.index[(df["status"] == "ok") & (df["kategori"] == "Sedang")]
        thin = df.index[df["status"] == "insufficient_sample"]
        df.loc[tinggi[0], "ihai"] = 101.0
        df.loc[sedang[0], "ihai"] = 85.0
        df.loc[thin[0], "ihai"] = 55.0
        copy = ok.difference([tinggi[0], sedang[0]])[0]
        return pd.concat([df, df.loc[[copy]]], ignore_index=True)

    def ikn(df: pd.DataFrame) -> pd.DataFrame:
        rendah = df.index[(df["tingkat_kerawanan"] == "Rendah") & ~df["alert_merah"].astype(bool)]
        df.loc[rendah[0], "alert_merah"] = True
        return df

    def integration(df: pd.DataFrame) -> pd.DataFrame:
        placed = df.index[df["kuadran"].notna()]
        df.loc[placed[0], "alasan_null"] = "ihai:insufficient_sample"
        return df

    marts = world.marts
    return check_marts(world, {
        "marts.ihai_kecamatan": edit(marts["marts.ihai_kecamatan"], ihai),
        "marts.ikn_kecamatan": edit(marts["marts.ikn_kecamatan"], ikn),
        "marts.harmoni_kewaspadaan": edit(marts["marts.harmoni_kewaspadaan"], integration),
    })


PLANTED_RUNS = {"survey": _survey_plants, "fkdm": _fkdm_plants, "stats": _stats_plants, "marts": _mart_plants}


@pytest.fixture(scope="module")
def planted(world) -> Callable[[str], ValidationReport]:
    """One GX run per group of plants, made on first use."""
    reports: dict[str, ValidationReport] = {}

    def report(group: str) -> ValidationReport:
        if group not in reports:
            reports[group] = PLANTED_RUNS[group](world)
        return reports[group]

    return report


def _matches(o: Outcome, plant: Plant) -> bool:
    return o.suite == plant.suite and o.expectation == plant.expectation and o.column == plant.column \
        and plant.guards in o.guards


@pytest.mark.parametrize("plant", PLANTS, ids=lambda p: f"{p.group}-{p.name.replace(' ', '_')}")
def test_a_planted_defect_fails_the_expectation_guarding_its_rule(planted, plant):
    report = planted(plant.group)
    assert not report.success
    (outcome,) = [o for o in report.outcomes if _matches(o, plant)]
    assert not outcome.success, outcome.describe()
    if plant.rule:
        assert plant.rule in rules_named(outcome.guards), outcome.guards
    same = [p for p in PLANTS if p.group == plant.group and _matches(outcome, p)]
    assert outcome.unexpected_count == sum(p.count for p in same), outcome.describe()
    if plant.sample is not None:
        assert plant.sample in outcome.unexpected_sample, outcome.describe()


@pytest.mark.parametrize("group", list(PLANTED_RUNS))
def test_planted_defects_fail_nothing_but_their_guards(planted, group):
    report = planted(group)
    plants = [p for p in PLANTS if p.group == group]
    unexplained = [o.describe() for o in report.failures() if not any(_matches(o, p) for p in plants)]
    assert not unexplained, unexplained
    assert not [o for o in report.outcomes if o.error]


def test_survey_missing_column_fails_the_schema_suite(world):
    candidate = world.staging["survey"].drop_columns(["pendidikan"])
    failure = only_failure(check_staging(world, "survey", candidate))
    assert (failure.suite, failure.batch, failure.expectation) == (
        "staging.survey_responses.schema", "schema", "expect_table_columns_to_match_set")
    assert rules_named(failure.guards) == {"schema"}


def test_survey_file_with_rejected_share_above_20_percent_fails_the_files_batch(world, tmp_path):
    files, rejected = audit_frames(world, "survey")
    sha, path = "f" * 64, "survey/2025-06/zz_kiriman_susulan.csv"
    # 100 rows: 30 break a row rule (5 of them two rules: counted once), 10 are out of scope
    # (they do not count), 60 accepted → 30 of 90 rows in scope rejected
    files = append(files, [file_record(files, sha, path, "canonical", read=100, accepted=60, rejected=40)])
    rejected = append(rejected, rejected_records(sha, path, "survey", MONTH, range(2, 32), "age_out_of_range", "umur", "12")
                      + rejected_records(sha, path, "survey", MONTH, range(2, 7), "invalid_value", "jenis_kelamin", "X")
                      + rejected_records(sha, path, "survey", MONTH, range(32, 42), "out_of_scope", "kode_kecamatan",
                                         OUTSIDE_KECAMATAN))
    wh = warehouse_with_audit(tmp_path, "survey", files, rejected)
    failure = only_failure(check_staging(world, "survey", world.staging["survey"], warehouse=wh))
    assert (failure.suite, failure.column) == ("staging.survey_responses.files", "rejected_share")
    assert "rejected share per file" in failure.guards and failure.unexpected_count == 1
    assert math.isclose(float(failure.unexpected_sample[0]), 30 / 90)


def test_survey_partition_rejected_share_above_20_percent_fails_the_partition_batch(world, tmp_path):
    """Small files (under 50 rows in scope) are not judged one by one, but they count for
    the partition: 10 files of 45 rows, all rejected, lift the month above 20 %."""
    files, rejected = audit_frames(world, "survey")
    new_files, new_rejected = [], []
    for k in range(10):
        sha, path = f"{k:064x}", f"survey/2025-06/zz_kecil_{k}.csv"
        new_files.append(file_record(files, sha, path, "canonical", read=45, accepted=0, rejected=45))
        new_rejected += rejected_records(sha, path, "survey", MONTH, range(2, 47), "missing_field", "umur", "")
    wh = warehouse_with_audit(tmp_path, "survey", append(files, new_files), append(rejected, new_rejected))
    report = check_staging(world, "survey", world.staging["survey"], warehouse=wh)
    failure = only_failure(report)
    assert (failure.suite, failure.column) == ("staging.survey_responses.partition", "rejected_share")
    assert "≤ 20 %" in failure.guards
    assert float(failure.unexpected_sample[0]) > 0.2
    (per_file,) = [o for o in report.outcomes if o.suite.endswith(".files") and o.column == "rejected_share"]
    assert per_file.success


def test_survey_coverage_below_half_of_the_kecamatan_is_a_warning_not_a_block(world):
    """A pilot month (3 of 24 kecamatan answered): its valid rows are published; the low
    coverage is reported as a warning-level expectation, named with the counts."""
    def few(df: pd.DataFrame) -> pd.DataFrame:
        keep = sorted(df["kode_kecamatan"].unique())[:3]
        return df[df["kode_kecamatan"].isin(keep)]

    report = check_staging(world, "survey", edit(world.staging["survey"], few))
    assert report.success and not report.failures()
    [warning] = report.warnings()
    assert (warning.suite, warning.column, warning.severity) == ("staging.survey_responses.partition", "coverage", "warning")
    assert "coverage" in warning.guards and not warning.blocking
    in_scope = len(world.regions.kecamatan_in_scope(SCOPE))
    assert math.isclose(float(warning.unexpected_sample[0]), 3 / in_scope)
    assert warning.detail == f"3 of {in_scope} kecamatan in scope have an accepted response ({3 / in_scope:.1%} < 50%)"


def test_stats_population_off_by_5_percent_fails_the_population_batch(world):
    def inflate(df: pd.DataFrame) -> pd.DataFrame:
        rows = (df["indikator"] == population.POPULATION) & (df["tahun"] == POPULATION_YEAR)
        df.loc[rows, "nilai"] = df.loc[rows, "nilai"] * 1.05
        return df

    candidate = edit(world.staging["stats"], inflate)
    frame = staging_batches("stats", "2025", candidate, world.warehouse, world.regions, SCOPE,
                            world.methodology)["population"]
    assert list(frame["kode_kabupaten"]) == ["35.13"]
    reference = pd.read_csv(Path(population.__file__).parents[1] / "reference" / "penduduk_kabkota_2025.csv",
                            dtype={"kode": str}).set_index("kode")
    assert frame["reference_total"].iloc[0] == reference.loc["35.13", "total"]  # the file the batch compares with
    assert math.isclose(frame["relative_difference"].iloc[0], 0.05, abs_tol=1e-9)
    failure = only_failure(check_staging(world, "stats", candidate))
    assert (failure.suite, failure.column) == ("staging.statistics.population", "relative_difference")
    assert "within 2 %" in failure.guards


def test_population_batch_compares_totals_not_incomplete_breakdowns():
    """The kabupaten check reads a total population as scoring does: a stated total, or a
    complete breakdown; adult cells alone are no total (no false 'off by 70 %'). A key in
    two files counts once."""
    regions, m = Regions.load(), methodology_mod.load()
    kecamatan = regions.kecamatan_in_scope(SCOPE)["kode"].tolist()
    reference = float(regions.population.set_index("kode").loc[SCOPE, "total"])

    def row(kode, sex, band, nilai, file_order=0):
        return {"kode_wilayah": kode, "tahun": POPULATION_YEAR, "indikator": population.POPULATION,
                "jenis_kelamin": sex, "kelompok_umur": band, "nilai": nilai, "file_order": file_order, "line": 2}

    adult = [row(k, sex, band, 100.0) for k in kecamatan for sex in "LP" for band in population.band_labels(m)]
    assert b.population_frame(pd.DataFrame(adult), regions, SCOPE, m) is None
    stated = [row(SCOPE, None, None, reference * 0.5), row(SCOPE, None, None, reference, file_order=1)]
    frame = b.population_frame(pd.DataFrame(adult + stated), regions, SCOPE, m)
    assert list(frame["from"]) == ["kabupaten rows"] and frame["relative_difference"].iloc[0] == 0.0


# ----------------------------------------------------------------------------- 4. an empty month


def test_an_empty_month_passes_and_coverage_is_not_applied(world):
    month = "2025-07"  # no landing folder: ingestion records no file and stages no row
    report = ingest_partition("survey", month, settings=world.settings, run_id="t", warehouse=world.warehouse,
                              regions=world.regions)
    assert report.files == [] and report.rows_read == 0
    candidate = world.warehouse.read_partition("staging.survey_responses", month)
    assert candidate.num_rows == 0
    partition = staging_batches("survey", month, candidate, world.warehouse, world.regions, SCOPE,
                                world.methodology)["partition"]
    assert partition["files"].iloc[0] == 0 and pd.isna(partition["coverage"].iloc[0])
    result = check_staging(world, "survey", candidate, period=month)
    assert result.success, result.summary()
    assert len(result.outcomes) == expectation_count("staging.survey_responses")
    (coverage,) = [o for o in result.outcomes if o.column == "coverage"]
    assert coverage.success and not coverage.unexpected_count


# ----------------------------------------------------------------------------- the files batch's row counting


def test_files_batch_excludes_out_of_scope_rows_and_counts_a_row_once():
    files = pd.DataFrame([{"path": "a.csv", "sha256": "a", "format": "canonical", "rows_read": 100, "rows_accepted": 50,
                           "rows_rejected": 50, "duplicate_of": None, "error": None}])
    rejected = pd.DataFrame(
        rejected_records("a", "a.csv", "survey", MONTH, range(2, 42), "out_of_scope", "kode_kecamatan")
        + rejected_records("a", "a.csv", "survey", MONTH, range(42, 52), "age_out_of_range", "umur")
        + rejected_records("a", "a.csv", "survey", MONTH, range(42, 47), "invalid_value", "jenis_kelamin")
        + rejected_records("a", "a.csv", "survey", MONTH, range(2, 4), "missing_field", "umur"))  # also out of scope
    row = b.files_frame(files, rejected).iloc[0]
    assert (row["rows_out_of_scope"], row["rows_rejected_in_scope"], row["rows_counted"]) == (40, 10, 60)
    assert math.isclose(row["rejected_share"], 10 / 60) and bool(row["balanced"])


def test_bps_json_file_with_half_its_entries_rejected_fails_the_files_batch(world, tmp_path):
    files, rejected = audit_frames(world, "stats")
    sha, path = "e" * 64, "stats/2025/bps_webapi_3513_var999_2025.json"
    files = append(files, [file_record(files, sha, path, "bps_json", read=60, accepted=30, rejected=30)])
    keys = [f"35130{k:02d}9990{k % 3}125" for k in range(30)]
    rejected = append(rejected, rejected_records(sha, path, "stats", "2025", [None] * 30, "invalid_value", keys, "-"))
    wh = warehouse_with_audit(tmp_path, "stats", files, rejected)
    report = check_staging(world, "stats", world.staging["stats"], warehouse=wh)
    failure = only_failure(report)
    assert (failure.suite, failure.column) == ("staging.statistics.files", "rejected_share")
    assert math.isclose(float(failure.unexpected_sample[0]), 0.5)


@pytest.mark.parametrize("layout", ["bps_json_out_of_scope", "dalam_angka_two_sheets"])
def test_files_batch_counts_rejected_rows_as_the_parser_identifies_them(layout):
    if layout == "bps_json_out_of_scope":  # a national file read for one kabupaten
        read, accepted = 100, 5
        rejected = (rejected_records("j", "j.json", "stats", "2025", [None] * 90, "out_of_scope", [f"oos{k}" for k in range(90)])
                    + rejected_records("j", "j.json", "stats", "2025", [None] * 5, "invalid_value", [f"bad{k}" for k in range(5)]))
        expected = (90, 5, 10)
    else:
        read, accepted = 60, 50
        rejected = (rejected_records("j", "j.xlsx", "stats", "2025", range(8, 13), "invalid_value", [f"Tabel 3.1!C{k}" for k in range(8, 13)])
                    + rejected_records("j", "j.xlsx", "stats", "2025", range(8, 13), "invalid_value", [f"Tabel 4.2!D{k}" for k in range(8, 13)]))
        expected = (0, 10, 60)
    files = pd.DataFrame([{"path": "j", "sha256": "j", "format": layout, "rows_read": read, "rows_accepted": accepted,
                           "rows_rejected": read - accepted, "duplicate_of": None, "error": None}])
    row = b.files_frame(files, pd.DataFrame(rejected)).iloc[0]
    assert (row["rows_out_of_scope"], row["rows_rejected_in_scope"], row["rows_counted"]) == expected


def test_mart_candidates_validated_in_forked_workers_give_the_same_report(world):
    """The marts gate spreads its tables over forked workers (issue 19: GX holds the GIL,
    one table at a time per process): the report — every outcome in order, every suite's
    statistics — is the one of validating them in this process, and a failure found in a
    worker blocks all the same."""
    candidates = {**world.marts, **world.trail}
    here = validate_marts(dict(candidates), MONTH, methodology=world.methodology, run_name="test", docs=None, workers=1)
    given = dict(candidates)
    forked = validate_marts(given, MONTH, methodology=world.methodology, run_name="test", docs=None, workers=2)
    assert given == {}
    assert forked.outcomes == here.outcomes and forked.statistics == here.statistics and forked.success
    broken = dict(candidates)
    broken["audit.score_respondents"] = edit(candidates["audit.score_respondents"], lambda df: df.assign(weight=-1.0))
    failed = validate_marts(broken, MONTH, methodology=world.methodology, run_name="test", docs=None, workers=2)
    assert not failed.success and {o.suite for o in failed.failures()} == {"audit.score_respondents.rows"}


def test_mart_candidates_are_validated_one_table_after_another_into_one_report(world, tmp_path):
    """The marts gate validates one table at a time (its memory, issue 19): each candidate
    leaves the dict once validated, the report holds every table's suites, and one Data
    Docs site has a page for each of them."""
    candidates = {**world.marts, **world.trail}
    given = dict(candidates)
    docs = tmp_path / "docs"
    report = validate_marts(given, MONTH, methodology=world.methodology, run_name="test", docs=docs)
    assert given == {}
    assert report.success, report.summary()
    suites = {s.name for t in candidates for s in load_suites(t)}
    assert {o.suite for o in report.outcomes} == suites
    assert len(report.outcomes) == sum(expectation_count(t) for t in candidates)
    assert set(report.docs_pages) == suites and all(page.is_file() for page in report.docs_pages.values())
    index = report.docs_index.read_text(encoding="utf-8")
    assert all(suite in index for suite in suites)


def test_writing_the_respondents_trail_early_changes_no_table(world):
    """The marts step writes ``audit.score_respondents`` as the run's candidate as soon as it
    is built (``write_early``), and the rest of the trail counts its rows from that file:
    every table of the period equals the one built with the trail held in memory, and the
    early candidate is the run's pending file of that table, with the same content hash."""
    from harmoni_pipeline.trace.schemas import RESPONDENTS
    from harmoni_pipeline.warehouse.layout import content_sha256
    from harmoni_pipeline.warehouse.pending import Written

    ctx = PeriodContext(MONTH, world.warehouse, world.regions, SCOPE, world.methodology, "early")
    sets = build_period(ctx, world.landing, write_early=True)
    written = sets["trail"].tables[RESPONDENTS]
    assert isinstance(written, Written)
    assert written.path == world.warehouse._pending_path("early", RESPONDENTS, MONTH, "data")
    assert written.num_rows == world.trail[RESPONDENTS].num_rows > 0
    assert world.warehouse.content_hash(written.path) == content_sha256(world.trail[RESPONDENTS])
    assert world.warehouse.read_pending(RESPONDENTS, MONTH, "early").select(
        [n for n in TRAIL_SCHEMAS[RESPONDENTS].names if n != "run_id"]).equals(
        world.trail[RESPONDENTS].select([n for n in TRAIL_SCHEMAS[RESPONDENTS].names if n != "run_id"]))
    for table, data in sets["trail"].tables.items():
        if table != RESPONDENTS:
            assert content_sha256(data) == content_sha256(world.trail[table]), table
            assert data.num_rows > 0, table
    for name in ("ihai", "ikn", "integration"):
        for table, data in sets[name].tables.items():
            assert content_sha256(data) == content_sha256(world.marts[table]), table
