"""The auditor's trail as metadata: column lineage as precise as the methodology, the
"computed from" and "trail" Markdown, the upstream partitions read, where each asset
lives, and the offline Data Docs pages (no external reference)."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

import dagster as dg

from harmoni_pipeline import methodology as methodology_mod
from harmoni_pipeline import trail
from harmoni_pipeline.quality import datadocs
from harmoni_pipeline.quality.gx_runner import Outcome
from harmoni_pipeline.scoring.lineage import mart_lineage
from harmoni_pipeline.scoring.schemas import MART_SCHEMAS
from harmoni_pipeline.registry import catalog_tables
from harmoni_pipeline.warehouse import Warehouse

M = methodology_mod.load()


def _deps(table: str, column: str, upstream: str = "staging.survey_responses") -> set[str]:
    return {c for t, c in mart_lineage(M)[table][column] if t == upstream}


def test_every_lineage_column_exists_downstream_and_upstream():
    schemas = catalog_tables()
    for table, columns in mart_lineage(M).items():
        assert set(columns) <= set(MART_SCHEMAS[table].names), table
        for column, deps in columns.items():
            assert deps, (table, column)
            for upstream, dep in deps:
                assert dep in schemas[upstream].names, (table, column, upstream, dep)


def test_a_dimension_reads_its_own_items_and_an_aspect_its_own_aspect():
    ekonomi = _deps("marts.ihai_kecamatan", "dim_ekonomi")
    assert {f"X01_{a}" for a in M.aspects} | {f"X02_{a}" for a in M.aspects} <= ekonomi
    assert not any(c.startswith(("X03_", "X10_", "KN")) for c in ekonomi)
    persepsi = _deps("marts.ihai_kecamatan", "aspek_persepsi")
    assert {c for c in persepsi if re.fullmatch(r"X\d\d_[A-Z]+", c)} == {f"{v}_PER" for v in M.ihai["variables"]}
    ihai = _deps("marts.ihai_kecamatan", "ihai")
    assert {f"{v}_{a}" for v in M.ihai["variables"] for a in M.aspects} <= ihai and not any(c.startswith("KN") for c in ihai)
    # the weights: the respondents' sex and age, and the population margins
    assert {"jenis_kelamin", "umur"} <= ihai
    assert {"indikator", "jenis_kelamin", "kelompok_umur", "nilai"} <= _deps("marts.ihai_kecamatan", "ihai", "staging.statistics")
    # IKN: the KN items, the FKDM columns of E1–E3, the context indicators; no IHaI item
    ikn = mart_lineage(M)["marts.ikn_kecamatan"]["ikn"]
    assert {c for t, c in ikn if t == "staging.survey_responses" and c.startswith("X")} == set()
    assert {"kualifikasi", "tgl_selesai", "tgl_tindak_lanjut"} <= {c for t, c in ikn if t == "staging.fkdm_reports"}
    assert _deps("marts.ikn_kecamatan", "pilar_konteks") == set()  # the context pillar reads no survey column


def test_computed_from_lists_each_column_with_its_upstream_columns_and_notes():
    lineage = mart_lineage(M)["marts.ihai_kecamatan"]
    md = trail.computed_from_markdown(lineage, trail.lineage_notes(M))
    lines = md.splitlines()
    assert lines[:2] == ["| column | computed from |", "| --- | --- |"]
    assert len(lines) == 2 + len(lineage)
    row = next(line for line in lines if line.startswith("| dim_budaya |"))
    assert "X06_PER/PAR/AKS, X07_PER/PAR/AKS" in row and "X01" not in row
    ihai = next(line for line in lines if line.startswith("| ihai |"))
    assert all(f"X{n:02d}_PER/PAR/AKS" in ihai for n in range(1, 11)) and "indikator = penduduk" in ihai
    assert "**staging.statistics**: kode_wilayah" in ihai
    assert "<table" not in md  # Markdown, not raw HTML the UI would swallow


def test_upstream_reads_take_the_months_up_to_the_period_and_years_up_to_its_year():
    root = PurePosixPath("/w/parquet")
    listing = {
        "staging.survey_responses": [root / f"staging/survey_responses/period={p}/data~{p}.parquet"
                                     for p in ("2024-11", "2024-12", "2025-01", "2025-02")],
        "staging.statistics": [root / f"staging/statistics/period={y}/data~{y}.parquet" for y in ("2024", "2025", "2026")],
    }
    reads = trail.upstream_reads(listing, "2025-01")
    assert reads == {
        "staging.statistics": {"2024": "data~2024.parquet", "2025": "data~2025.parquet"},
        "staging.survey_responses": {p: f"data~{p}.parquet" for p in ("2024-11", "2024-12", "2025-01")},
    }
    assert trail.window_months("2025-01", 3) == ["2024-11", "2024-12", "2025-01"]
    md = trail.mart_trail_markdown("marts.ihai_kecamatan", "2025-01", methodology=M, window=trail.window_months("2025-01", 12),
                                   reads=reads, manifest_uri="file:///w/snapshots/marts/period=2025-01.json", run_id="r1")
    assert "2024-02 … 2025-01 (12 months)" in md and "period=2025-01.json" in md
    assert "| `staging.survey_responses` | 2024-11 … 2025-01 (3) |" in md
    assert "harmoni trace --period 2025-01" in md


def test_each_asset_lives_at_a_folder_that_stays(tmp_path):
    warehouse = Warehouse(tmp_path / "wh")
    landing = tmp_path / "landing"
    def where(*key):
        return trail.location_uri(dg.AssetKey(list(key)), landing=landing, warehouse=warehouse)

    assert where("landing", "survey") == (landing / "survey").as_uri()
    assert where("landing", "penanggung_jawab") == (landing / "reference" / "penanggung_jawab.csv").as_uri()
    assert where("marts", "ikn_kecamatan") == (tmp_path / "wh" / "parquet" / "marts" / "ikn_kecamatan").resolve().as_uri()
    assert where("report") is None


def _outcome(success: bool, severity: str = "critical", **kw) -> Outcome:
    base = dict(suite="marts.ihai_kecamatan.rows", batch="rows", expectation="expect_column_values_to_be_between",
                column="ihai", guards="scores within 0–100 <b>", success=success, unexpected_count=0 if success else 2,
                unexpected_sample=[] if success else ["101.5", "<script>"], observed=None, severity=severity)
    return Outcome(**{**base, **kw})


def test_data_docs_pages_are_self_contained_and_say_failed_passed_and_warning(tmp_path):
    outcomes = [_outcome(True), _outcome(False), _outcome(False, "warning", suite="staging.survey_responses.partition",
                                                         guards="survey coverage ≥ 50 %")]
    stats = {"marts.ihai_kecamatan.rows": {"evaluated_expectations": 2}, "staging.survey_responses.partition": {}}
    index, pages = datadocs.write_site(tmp_path, outcomes, stats, run_name="run-1")
    assert set(pages) == set(stats) and index == tmp_path / "index.html"
    for page in [index, *pages.values()]:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", text), page  # nothing from another host
        assert "<script" not in text and "@import" not in text and "url(" not in text
    rows = pages["marts.ihai_kecamatan.rows"].read_text(encoding="utf-8")
    assert "&lt;script&gt;" in rows and "101.5" in rows and "scores within 0–100 &lt;b&gt;" in rows
    assert 'class="badge failed"' in rows and 'class="badge passed"' in rows
    warned = pages["staging.survey_responses.partition"].read_text(encoding="utf-8")
    assert "warning, not blocking" in warned and 'class="badge failed"' not in warned
    assert 'href="staging.survey_responses.partition.html"' in index.read_text(encoding="utf-8")


def test_a_failed_warning_level_expectation_reads_as_a_warning_not_a_failure():
    from harmoni_pipeline.checks.common import warning_description
    from harmoni_pipeline.quality.gx_runner import ValidationReport

    low = _outcome(False, "warning", suite="staging.survey_responses.partition", column="coverage",
                   guards="survey coverage ≥ 50 %", detail="5 of 24 kecamatan answered")
    text = warning_description("staging/survey_responses", "2024-11", ValidationReport(outcomes=[_outcome(True), low]))
    assert text.startswith("staging/survey_responses 2024-11: warning, not blocking")
    assert "survey coverage ≥ 50 %: 5 of 24 kecamatan answered" in text
    assert warning_description("x", "2024-11", ValidationReport(outcomes=[_outcome(True)])) == "x 2024-11: no warnings"


def test_a_landing_zone_at_a_url_is_its_own_uri():
    """A landing zone at a URL (HARMONI_LANDING_DIR=s3://…) names its sources by URL; a
    path would not be a file URI (the code location failed to load with one)."""
    import dagster as dg

    from pathlib import Path

    from harmoni_pipeline.trail import location_uri

    key = dg.AssetKey(["landing", "survey"])
    assert location_uri(key, landing="s3://bucket/landing/", warehouse=None) == "s3://bucket/landing/survey"
    assert location_uri(key, landing=Path("/srv/landing"), warehouse=None) == "file:///srv/landing/survey"
    # a staging run's observation of its partition folder: the landing zone's URL, on any worker
    from harmoni_pipeline.trail import landing_uri

    assert landing_uri("s3://bucket/landing", "survey/2025-12") == "s3://bucket/landing/survey/2025-12"
    assert landing_uri(Path("/srv/landing"), "survey/2025-12") == "file:///srv/landing/survey/2025-12"
