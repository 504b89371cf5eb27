"""End to end scoring: a generated landing zone through Dagster into the marts, checked
against the independent reference implementation (tests/reference_scoring.py), the NULL
rules of methodology §5, the catalog, lineage metadata and the CLI's summary."""

from __future__ import annotations

import json
import math
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest

from harmoni_pipeline.definitions import build_defs
from harmoni_pipeline import methodology
from harmoni_pipeline.regions import Regions
from harmoni_pipeline.defs.resources import HarmoniResource
from harmoni_pipeline.scoring.schemas import MART_SCHEMAS
from harmoni_pipeline.scoring.uncertainty_schemas import UNCERTAINTY_SCHEMAS
from harmoni_pipeline.registry import catalog_tables
from harmoni_pipeline.warehouse import Warehouse
from tests.reference_scoring import reference_marts

SCORED = ["2025-01", "2025-02", "2025-03"]


@pytest.fixture(scope="module")
def scored(scored_2025q1):
    """The shared sample run (tests/conftest.py), scored ``SCORED``."""
    landing, warehouse, events = scored_2025q1
    return landing, Warehouse(warehouse, catalog_tables()), events


def _mart(wh: Warehouse, table: str, period: str) -> pd.DataFrame:
    return wh.query(f"SELECT * FROM {{{table}}} WHERE period = ? ORDER BY ALL", [period]).df()


def _staging(wh: Warehouse, table: str) -> pd.DataFrame:
    return wh.query(f"SELECT * FROM {{{table}}}").df()


def _assert_frames_agree(ours: pd.DataFrame, ref: pd.DataFrame, key: str, numeric_tol: float = 1e-6):
    ours = ours.set_index(key).sort_index()
    ref = ref.set_index(key).sort_index()
    assert list(ours.index) == list(ref.index)
    for col in ref.columns:
        a, b = ours[col], ref[col]
        for k in ref.index:
            x, y = a[k], b[k]
            missing_x = x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))
            missing_y = y is None or y is pd.NA or (isinstance(y, float) and math.isnan(y))
            assert missing_x == missing_y, f"{col} {k}: ours {x!r}, reference {y!r}"
            if missing_x:
                continue
            if isinstance(y, (float, np.floating)) and not isinstance(y, bool):
                assert abs(float(x) - float(y)) <= numeric_tol * max(1.0, abs(float(y))), f"{col} {k}: {x} vs {y}"
            else:
                assert x == y or (bool(x) == bool(y) and isinstance(y, (bool, np.bool_))), f"{col} {k}: {x!r} vs {y!r}"


@pytest.mark.parametrize("period", SCORED)
def test_marts_agree_with_the_independent_reference(scored, period):
    _, wh, _ = scored
    kecamatan = Regions.load().kecamatan_in_scope("35.13")
    ref = reference_marts(
        _staging(wh, "staging.survey_responses"),
        _staging(wh, "staging.fkdm_reports"),
        _staging(wh, "staging.statistics"),
        period,
        kecamatan,
        methodology.load("HM-2026.1").raw,
    )
    for table in ("ihai_kecamatan", "ikn_kecamatan", "harmoni_kewaspadaan", "ihai_kabupaten", "ikn_kabupaten"):
        ours = _mart(wh, f"marts.{table}", period)[list(ref[table].columns)]
        key = "kode_kabupaten" if table.endswith("kabupaten") else "kode_kecamatan"
        _assert_frames_agree(ours, ref[table], key)


def test_the_sample_exercises_every_status_and_quadrant_path(scored):
    _, wh, _ = scored
    ihai = pd.concat(_mart(wh, "marts.ihai_kecamatan", p) for p in SCORED)
    ikn = pd.concat(_mart(wh, "marts.ikn_kecamatan", p) for p in SCORED)
    hk = pd.concat(_mart(wh, "marts.harmoni_kewaspadaan", p) for p in SCORED)
    assert {"ok", "insufficient_sample"} <= set(ihai["status"])
    assert {"ok", "insufficient_sample", "missing_context"} <= set(ikn["status"])
    assert ikn["alert_merah"].any() and (ikn["ikn"].isna() & ikn["alert_merah"]).any()
    assert hk["kuadran"].notna().any() and hk["kuadran"].isna().any()
    assert len(set(hk["kuadran"].dropna())) >= 3


def test_every_kecamatan_in_scope_has_a_row_every_period(scored):
    _, wh, _ = scored
    codes = set(Regions.load().kecamatan_in_scope("35.13")["kode"])
    for period in SCORED:
        for table in ("marts.ihai_kecamatan", "marts.ikn_kecamatan", "marts.harmoni_kewaspadaan"):
            df = _mart(wh, table, period)
            assert set(df["kode_kecamatan"]) == codes and df["kode_kecamatan"].is_unique, table


def test_nulls_follow_methodology_section_5(scored):
    _, wh, _ = scored
    period = SCORED[-1]
    ihai = _mart(wh, "marts.ihai_kecamatan", period)
    not_ok = ihai["status"] != "ok"
    nulled = ["ihai", "ihai_skala10", "kategori", "ci_low", "ci_high", "dim_ekonomi", "dim_sosial", "dim_budaya",
              "dim_keberagamaan", "aspek_persepsi", "aspek_partisipasi", "aspek_akseptabilitas", "gap_persepsi_partisipasi"]
    assert ihai.loc[not_ok, nulled].isna().all().all()
    assert ihai.loc[~not_ok, nulled].notna().all().all()
    assert ihai[["n_responden", "n_efektif"]].notna().all().all()
    assert ihai.loc[ihai["n_responden"] > 0, "weighting"].notna().all()

    variabel = _mart(wh, "marts.ihai_variabel", period)
    assert set(variabel["kode_kecamatan"]) == set(ihai.loc[~not_ok, "kode_kecamatan"])
    assert len(variabel) == (~not_ok).sum() * 10 * 4

    ikn = _mart(wh, "marts.ikn_kecamatan", period)
    bad = ikn["status"] != "ok"
    assert ikn.loc[bad, ["ikn", "kategori", "kerawanan"]].isna().all().all()
    assert ikn.loc[~bad, ["ikn", "kategori", "kerawanan", "tingkat_kerawanan"]].notna().all().all()
    assert ikn["alert_merah"].notna().all()
    assert (ikn.loc[ikn["status"] == "missing_context", "pilar_konteks"].isna()).all()
    assert (ikn.loc[ikn["status"] == "missing_context", ["pilar_survei", "pilar_peristiwa"]].notna()).all().all()
    set_by_alert = bad & ikn["tingkat_kerawanan"].notna()
    assert (ikn.loc[set_by_alert, "alert_merah"]).all() and (ikn.loc[set_by_alert, "tingkat_kerawanan"] == "Tinggi").all()
    dimensi = _mart(wh, "marts.ikn_dimensi", period)
    s_ok = ikn.loc[ikn["pilar_survei"].notna(), "kode_kecamatan"]
    assert set(dimensi["kode_kecamatan"]) == set(s_ok)

    hk = _mart(wh, "marts.harmoni_kewaspadaan", period)
    assert (hk["kuadran"].isna() == (hk["ihai"].isna() | hk["tingkat_kerawanan"].isna())).all()
    assert (hk["kuadran"].isna() == hk["alasan_null"].notna()).all()
    assert (hk["rekomendasi"].isna() == hk["kuadran"].isna()).all()


def test_marts_carry_period_version_and_run_and_match_the_contract_schema(scored):
    _, wh, events = scored
    con = duckdb.connect(str(wh.catalog_path), read_only=True)
    for table, schema in MART_SCHEMAS.items():
        cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
        assert cols == schema.names
        versions = con.execute(f"SELECT DISTINCT methodology_version FROM {table}").fetchall()
        assert versions == [("HM-2026.1",)]
        assert con.execute(f"SELECT count(*) FROM {table} WHERE run_id IS NULL OR period IS NULL").fetchone()[0] == 0
        meta = events[table].asset_materialization.metadata
        assert meta["methodology_version"].value == "HM-2026.1"
        assert len(meta["methodology_sha256"].value) == 64
        assert meta["dagster/row_count"].value == con.execute(
            f"SELECT count(*) FROM {table} WHERE period = ?", [SCORED[-1]]).fetchone()[0]
        lineage = meta["dagster/column_lineage"].value
        assert lineage.deps_by_column, table
    pubs = con.execute("SELECT DISTINCT \"table\" FROM audit.publications WHERE \"table\" LIKE 'marts.%'").fetchall()
    assert {p[0] for p in pubs} == set(MART_SCHEMAS) | set(UNCERTAINTY_SCHEMAS)


def test_ihai_lineage_reaches_the_survey_items(scored):
    _, _, events = scored
    lineage = events["marts.ihai_kecamatan"].asset_materialization.metadata["dagster/column_lineage"].value
    deps = {(tuple(d.asset_key.path), d.column_name) for d in lineage.deps_by_column["ihai"]}
    assert (("staging", "survey_responses"), "X01_PER") in deps
    assert (("staging", "statistics"), "nilai") in deps
    assert not any(c.startswith("KN") for (_, c) in deps)


def test_rerunning_a_period_republishes_identical_content(scored):
    landing, wh, _ = scored
    period = SCORED[-1]
    before = {t: _mart(wh, t, period).drop(columns="run_id") for t in MART_SCHEMAS}
    pubs_before = wh.query("SELECT count(*) FROM {audit.publications}").fetchone()[0]
    defs = build_defs({"harmoni": HarmoniResource(landing_dir=str(landing), warehouse_dir=str(wh.root), scope="35.13")})
    with dg.instance_for_test() as instance:
        assert defs.resolve_job_def("score_monthly").execute_in_process(partition_key=period, instance=instance).success
    for table, frame in before.items():
        pd.testing.assert_frame_equal(_mart(wh, table, period).drop(columns="run_id"), frame)
    assert wh.query("SELECT count(*) FROM {audit.publications}").fetchone()[0] == pubs_before


def test_every_analyst_example_runs_as_written(scored):
    """docs/analyst.md: each ```sql block runs on a read-only catalog and returns rows."""
    import re
    from pathlib import Path

    _, wh, _ = scored
    text = (Path(__file__).resolve().parents[1] / "docs" / "analyst.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sql\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 8
    con = duckdb.connect(str(wh.catalog_path), read_only=True)
    for sql in blocks:
        rows = con.execute(sql).fetchall()
        assert rows, sql


def test_a_mart_materialisation_links_its_published_snapshot_and_the_partitions_it_read(scored):
    """dagster/uri stays valid after publication (the period's manifest names the file
    now current); upstream_partitions lists every staged month read, up to the period."""
    from urllib.parse import unquote, urlparse

    _, wh, events = scored
    meta = events["marts.ikn_kecamatan"].asset_materialization.metadata
    manifest = Path(unquote(urlparse(meta["dagster/uri"].value).path))
    assert manifest.is_file() and ".pending" not in str(manifest)
    named = json.loads(manifest.read_text())["tables"]["marts.ikn_kecamatan"]["file"]
    assert (wh.root / named) == wh.current_file("marts.ikn_kecamatan", SCORED[-1])
    reads = meta["upstream_partitions"].value
    staged = sorted(p.parent.name.removeprefix("period=") for p in wh.current_files("staging.survey_responses"))
    assert reads["staging.survey_responses"] == [p for p in staged if p <= SCORED[-1]]
    assert meta["window_months"].value.split(", ")[-1] == SCORED[-1]
    assert "| pilar_konteks |" in meta["computed_from"].value and SCORED[-1] in meta["trail"].value
