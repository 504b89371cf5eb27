"""`harmoni backfill` planning: a range of months as asset partitions, split into the
staging layer, the marts layer (the marts only score published staging), the
notifications (after every mart of the range: the digest is only for the newest month)
and the report."""

from __future__ import annotations

import pytest

from harmoni_pipeline import backfill
from harmoni_pipeline.definitions import defs
from harmoni_pipeline.runplan import asset_partitions, plan_runs


def test_a_fresh_range_becomes_staging_then_marts(tmp_path):
    landing = tmp_path / "landing"
    for folder in ("stats/2024", "stats/2025", "survey/2024-12", "survey/2025-01", "fkdm/2025-02", "survey/2025-03"):
        (landing / folder).mkdir(parents=True)
    plan = plan_runs(["2025-01", "2025-02"], landing, tmp_path / "warehouse", restage_periods=False, pii_key_id="k")
    targets = asset_partitions(plan, backfill.job_assets(defs, {job for job, _ in plan}))
    staging, marts, uncertainty, notifications, report = backfill.layers(targets)
    assert staging == {
        ("staging", "fkdm_reports"): ["2024-12", "2025-01", "2025-02"],
        ("staging", "statistics"): ["2024", "2025"],
        ("staging", "survey_responses"): ["2024-12", "2025-01", "2025-02"],
    }
    assert set(marts) == {("marts", t) for t in (
        "ihai_kecamatan", "ihai_variabel", "ihai_kabupaten", "ihai_provinsi", "ikn_kecamatan", "ikn_dimensi",
        "ikn_konteks", "ikn_kabupaten", "ikn_provinsi", "harmoni_kewaspadaan")} | {("audit", t) for t in (
        "score_sources", "score_respondents", "score_reports", "score_statistics", "score_runs")}
    assert all(keys == ["2025-01", "2025-02"] for keys in marts.values())
    # computed from the published marts: the next layer
    assert set(uncertainty) == {("marts", t) for t in (
        "ihai_ketidakpastian", "ikn_ketidakpastian", "sensitivitas", "sensitivitas_kecamatan", "ihai_kelompok",
        "ikn_kelompok")}
    # red reports of every staged month (older than HARMONI_ALERT_SINCE: never sent), the scored months' alerts
    assert notifications == {("notifications", "red_reports"): ["2024-12", "2025-01", "2025-02"],
                             ("notifications", "became_rawan"): ["2025-01", "2025-02"],
                             ("notifications", "digest"): ["2025-01", "2025-02"]}
    assert report == {("report",): ["2025-01", "2025-02"]}


def test_scores_only_is_the_marts_then_the_notifications_then_the_report():
    targets = asset_partitions([("score_monthly", "2025-03")], backfill.job_assets(defs, {"score_monthly"}))
    marts, uncertainty, notifications, report = backfill.layers(targets)
    assert len(marts) == 15 and len(uncertainty) == 6 and all(path[0] == "marts" or path[1].startswith("score_") for path in marts)
    assert set(notifications) == {("notifications", "became_rawan"), ("notifications", "digest")}
    assert report == {("report",): ["2025-03"]}


def test_an_asset_outside_the_layers_is_refused():
    with pytest.raises(ValueError, match="outside the layers"):
        backfill.layers({("landing", "survey"): ["2025-01"]})
