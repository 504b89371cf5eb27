"""The landing-zone sensor: fires once per new file, again when its bytes change, not on
restart (the cursor is the snapshot); and the refresh plan it derives."""

from __future__ import annotations

import dagster as dg

from harmoni_pipeline.defs.sensors import REFRESH_TAG, RESCORE_TAG, SCORED_ASSET, rescore_requests
from harmoni_pipeline.definitions import build_defs
from harmoni_pipeline.landing_watch import changed_paths, plan
from harmoni_pipeline.defs.resources import HarmoniResource
from tests.landing_helpers import landing_sensor_tick, rows_across_scope, write_canonical_survey


def test_plan_restages_the_partitions_and_rescores_from_the_first_affected_month():
    p = plan(["survey/2025-10/a.csv", "fkdm/2025-08/b.xlsx", "stats/2025/c.json"], "2022-01")
    assert p.staging == [("ingest_statistics", "2025"), ("ingest_monthly", "2025-08"), ("ingest_monthly", "2025-10")]
    assert p.rescore_from == "2025-01"
    assert p.rescore(["2024-12", "2025-01", "2025-09"]) == ["2025-01", "2025-09"]
    p = plan(["reference/penanggung_jawab.csv"], "2022-01")
    assert p.staging == [] and p.rescore_from == "2022-01"
    assert changed_paths({"a": "1", "b": "2"}, {"a": "1", "b": "3", "c": "4"}) == ["b", "c"]
    assert changed_paths({"a": "1"}, {}) == ["a"]  # a removed file changes its partition too


def _evaluate(defs, instance, cursor):
    result = landing_sensor_tick(defs, instance, cursor)
    return result.run_requests or [], result.cursor


def _defs():
    """Definitions resolved outside any test instance (Dagster caches the load context of
    the first resolution; inside ``instance_for_test`` it would outlive the instance)."""
    defs = build_defs({"harmoni": HarmoniResource()})
    defs.get_repository_def()
    return defs


def test_fires_once_per_new_file_again_when_bytes_change_and_not_on_restart(env):
    defs, fresh = _defs(), _defs()
    path = write_canonical_survey(env["landing"] / "survey" / "2025-10" / "export.csv", rows_across_scope("2025-10"))
    with dg.instance_for_test() as instance:
        requests, cursor = _evaluate(defs, instance, None)
        assert [(r.job_name, r.partition_key) for r in requests] == [("ingest_monthly", "2025-10")]
        assert requests[0].tags[RESCORE_TAG] == "2025-10"
        again, cursor2 = _evaluate(defs, instance, cursor)
        assert again == [] and cursor2 in (None, cursor)
        # a restart: a new evaluation from the persisted cursor sees nothing new
        restarted, _ = _evaluate(fresh, instance, cursor)
        assert restarted == []
        # same name, other bytes: fires again, with another run key
        write_canonical_survey(path, rows_across_scope("2025-10")[:20])
        changed, _ = _evaluate(defs, instance, cursor)
        assert [(r.job_name, r.partition_key) for r in changed] == [("ingest_monthly", "2025-10")]
        assert changed[0].run_key != requests[0].run_key
    assert path.exists()  # the sensor never touches the landing zone


def test_after_the_staging_runs_succeed_every_scored_month_from_the_first_affected_is_rescored(env, monkeypatch):
    write_canonical_survey(env["landing"] / "survey" / "2025-10" / "export.csv", rows_across_scope("2025-10"))
    defs = _defs()
    tags = {REFRESH_TAG: "r1", RESCORE_TAG: "2025-10"}
    with dg.instance_for_test() as instance:
        for month in ("2025-09", "2025-10", "2025-11"):  # months scored earlier
            instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=SCORED_ASSET, partition=month))
        result = defs.resolve_job_def("ingest_monthly").execute_in_process(partition_key="2025-10", instance=instance, tags=tags)
        assert result.success
        run = instance.get_run_by_id(result.run_id)
        requests = rescore_requests(instance, run)
        assert [(r.job_name, r.partition_key) for r in requests] == [("score_monthly", "2025-10"), ("score_monthly", "2025-11")]
        assert len({r.run_key for r in requests}) == 2
        untagged = defs.resolve_job_def("ingest_monthly").execute_in_process(partition_key="2025-10", instance=instance)
        assert rescore_requests(instance, instance.get_run_by_id(untagged.run_id)) == []
        # a sensor started on a warehouse already staged from these files requests nothing
        first_tick, cursor = _evaluate(defs, instance, None)
        assert first_tick == [] and cursor
        # under another PII key, no file changed but the partition staged with the old key is re-staged
        monkeypatch.setenv("HARMONI_PII_KEY", "another-key-for-harmoni")
        rekeyed, cursor2 = _evaluate(defs, instance, cursor)
        assert [(r.job_name, r.partition_key) for r in rekeyed] == [("ingest_monthly", "2025-10")]
        assert rekeyed[0].tags[RESCORE_TAG] == "2025-10"
        assert _evaluate(defs, instance, cursor2)[0] == []  # once


def test_the_assignment_table_rescores_scored_months_but_not_on_the_first_tick(env):
    """The first tick is a baseline: files present before the sensor started re-score
    nothing; a later change of reference/penanggung_jawab.csv re-scores every scored month."""
    defs = _defs()
    table = env["landing"] / "reference" / "penanggung_jawab.csv"
    table.parent.mkdir(parents=True)
    table.write_text("kode_kecamatan,penanggung_jawab\n35.13.19,Kecamatan A\n", encoding="utf-8")
    with dg.instance_for_test() as instance:
        for month in ("2025-08", "2025-09"):
            instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=SCORED_ASSET, partition=month))
        first, cursor = _evaluate(defs, instance, None)
        assert first == []
        table.write_text("kode_kecamatan,penanggung_jawab\n35.13.19,Kecamatan B\n", encoding="utf-8")
        changed, _ = _evaluate(defs, instance, cursor)
        assert [(r.job_name, r.partition_key) for r in changed] == [("score_monthly", "2025-08"), ("score_monthly", "2025-09")]


def _observations(defs, instance, cursor):
    result = landing_sensor_tick(defs, instance, cursor)
    return result.asset_events or [], result.cursor


def test_the_landing_assets_are_observed_per_partition_folder_with_files_sha256_size_and_format(env):
    """The sensor's observations give landing/<source> a history on its page: on the
    first tick every partition folder, later only the folders whose files changed."""
    from harmoni_pipeline.ingest.landing import sha256_file

    defs = _defs()
    october = write_canonical_survey(env["landing"] / "survey" / "2025-10" / "export.csv", rows_across_scope("2025-10"))
    with dg.instance_for_test() as instance:
        first, cursor = _observations(defs, instance, None)
        assert [(o.asset_key, o.metadata["arrival_period"].value) for o in first] == [
            (dg.AssetKey(["landing", "survey"]), "2025-10")]
        meta = first[0].metadata
        assert meta["file_count"].value == 1 and meta["bytes"].value == october.stat().st_size
        rows = [r.data for r in meta["files"].value.records]
        assert rows == [{"path": "survey/2025-10/export.csv", "sha256": sha256_file(october),
                         "bytes": october.stat().st_size, "format": "csv"}]
        assert meta["dagster/uri"].value == (env["landing"] / "survey" / "2025-10").resolve().as_uri()
        assert meta["seen_by"].value == "harmoni_landing_sensor" and meta["change"].value == "new: export.csv"
        # nothing changed: no observation; a new month: only that folder; a removed file: its folder, emptied
        assert _observations(defs, instance, cursor)[0] == []
        november = write_canonical_survey(env["landing"] / "survey" / "2025-11" / "a.csv", rows_across_scope("2025-11"))
        second, cursor = _observations(defs, instance, cursor)
        assert [o.metadata["arrival_period"].value for o in second] == ["2025-11"]
        november.unlink()
        third, _ = _observations(defs, instance, cursor)
        assert [(o.metadata["arrival_period"].value, o.metadata["file_count"].value, o.metadata["change"].value)
                for o in third] == [("2025-11", 0, "removed: a.csv")]
        for event in first + second + third:  # what the daemon does with them: recorded on the asset
            instance.report_runless_asset_event(event)
        records = instance.fetch_observations(dg.AssetKey(["landing", "survey"]), limit=10).records
        assert len(records) == 3
