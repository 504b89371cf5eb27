"""End to end: a generated landing zone through the monthly job into the uncertainty,
sensitivity and group marts — published into each month's marts snapshot by their gate,
consistent with the published scores, reproducible byte for byte."""

from __future__ import annotations

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from harmoni_pipeline import methodology
from harmoni_pipeline.definitions import build_defs
from harmoni_pipeline.regions import Regions
from harmoni_pipeline.defs.resources import HarmoniResource
from harmoni_pipeline.scoring.uncertainty_schemas import UNCERTAINTY_TABLES
from harmoni_pipeline.registry import catalog_tables
from harmoni_pipeline.warehouse import Warehouse
from tests.sample_runs import scored_sample

SCORED = ["2025-02", "2025-03"]
SCOPE = "35.13"


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    landing = tmp_path_factory.mktemp("landing")
    warehouse = tmp_path_factory.mktemp("warehouse")
    with scored_sample(landing, warehouse, start="2024-12", scored=SCORED, seed=23, scope=SCOPE) as instance:
        wh = Warehouse(warehouse, catalog_tables())
        before = {t: wh.manifest("marts", SCORED[-1]).tables[t].sha256 for t in UNCERTAINTY_TABLES}
        checks = {t: instance.get_latest_materialization_event(dg.AssetKey(t.split("."))) for t in UNCERTAINTY_TABLES}
        defs = build_defs({"harmoni": HarmoniResource(landing_dir=str(landing), warehouse_dir=str(warehouse), scope=SCOPE)})
        rerun = defs.resolve_job_def("score_monthly").execute_in_process(partition_key=SCORED[-1], instance=instance)
        assert rerun.success
        after = {t: wh.manifest("marts", SCORED[-1]).tables[t] for t in UNCERTAINTY_TABLES}
        yield wh, before, after, checks, rerun


def _table(wh: Warehouse, table: str, period: str) -> pd.DataFrame:
    return wh.query(f"SELECT * FROM {{{table}}} WHERE period = ?", [period]).df()


@pytest.mark.parametrize("period", SCORED)
def test_tables_of_every_month_agree_with_the_published_scores(scored, period):
    wh = scored[0]
    codes = set(Regions.load().kecamatan_in_scope(SCOPE)["kode"])
    for index in ("ihai", "ikn"):
        table = _table(wh, f"marts.{index}_ketidakpastian", period).set_index("kode_kecamatan")
        published = _table(wh, f"marts.{index}_kecamatan", period).set_index("kode_kecamatan")[index]
        assert set(table.index) == codes and table["run_id"].nunique() == 1
        assert np.allclose(table["skor"], published.reindex(table.index), equal_nan=True)
        has = table["skor"].notna()
        assert has.sum() >= 3, index  # the sample publishes scores to analyse
        assert table.loc[has, "skor_dalam_interval"].mean() >= 0.9, index
        t = table[has]
        assert (t["skor_p05"] <= t["skor_median"]).all() and (t["skor_median"] <= t["skor_p95"]).all()
        for level in ("", "_provinsi", "_nasional"):
            lo, mid, hi = (t[f"peringkat{level}_{q}"] for q in ("p05", "median", "p95"))
            assert ((lo <= mid) & (mid <= hi) & (lo >= 1) & (hi <= t[f"n_peringkat{level}"])).all()
            inside = (t[f"peringkat{level}"] >= lo) & (t[f"peringkat{level}"] <= hi)
            assert inside.mean() >= 0.9
        probabilities = t[[c for c in t.columns if c.startswith("p_kategori_")]].sum(axis=1)
        assert np.allclose(probabilities, 1.0)
        assert table.loc[~has, ["skor_median", "peringkat_p95"]].isna().all().all()
        assert (t["n_draws"] == 2 * methodology.load().raw["uncertainty"]["draws"]).all()
    sens = _table(wh, "marts.sensitivitas", period)
    assert set(sens["indeks"]) == {"ihai", "ikn"} and {"sampel", "bobot", "raking"} <= set(sens["input"])
    assert (sens["st"].dropna() >= -0.1).all()
    per = _table(wh, "marts.sensitivitas_kecamatan", period)
    assert set(per["kode_kecamatan"]) <= codes and len(per) > 0


@pytest.mark.parametrize("period", SCORED)
def test_groups_suppress_exactly_the_small_groups_and_their_complements(scored, period):
    wh = scored[0]
    min_n = methodology.load().min_n
    for index in ("ihai", "ikn"):
        groups = _table(wh, f"marts.{index}_kelompok", period)
        overall = _table(wh, f"marts.{index}_kecamatan", period).set_index("kode_kecamatan")
        shown = overall["ihai"] if index == "ihai" else overall["pilar_survei"]  # the survey score published
        assert {"jenis_kelamin", "kelompok_umur"} <= set(groups["dimensi_kelompok"])
        published = groups["kode_kecamatan"].map(shown.notna()).fillna(False).astype(bool)
        small = published & (groups["n"] < min_n)
        assert (groups.loc[small, "alasan_null"] == "insufficient_sample").all()
        assert groups.loc[published & ~small & groups["alasan_null"].isna(), "skor"].notna().all()
        assert groups.loc[groups["alasan_null"].notna(), "skor"].isna().all()
        # complements: a published kecamatan never has exactly one suppressed group in a dimension
        suppressed = groups[published].assign(s=groups["alasan_null"].notna()).groupby(["kode_kecamatan", "dimensi_kelompok"])["s"].sum()
        assert not (suppressed == 1).any()
        extra = groups["alasan_null"] == "complementary_suppression"
        assert (groups.loc[extra, "n"] >= min_n).all()
        assert groups.loc[~published, "skor"].isna().all()


def test_published_into_the_month_snapshot_by_their_gate_and_reproducible(scored):
    wh, before, after, checks, rerun = scored
    manifest = wh.manifest("marts", SCORED[-1])
    assert set(UNCERTAINTY_TABLES) <= set(manifest.tables) and len(manifest.tables) == 21  # ten marts, their five trail tables, the six
    for table in UNCERTAINTY_TABLES:
        assert after[table].sha256 == before[table], table  # same inputs, same seed: same content
    results = [e for e in rerun.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    ours = [e.event_specific_data for e in results if e.event_specific_data.asset_key.to_user_string().replace("/", ".") in UNCERTAINTY_TABLES]
    assert {(r.check_name, r.passed) for r in ours} == {("expectations", True), ("warnings", True)}
