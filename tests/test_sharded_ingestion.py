"""The province split (HARMONI_SPLIT=province): a month's parse fans out into one Dagster
step per province folder, and the assembled candidate is the one the one-step asset
writes — same rows, same audit, same rejections, duplicates still counted once."""

from __future__ import annotations

import shutil

import dagster as dg
import pytest

from harmoni_pipeline.assets.ingestion import build_ingestion_assets, landing_specs
from harmoni_pipeline.checks.staging import staging_checks
from harmoni_pipeline.ingest.landing import LandingFile
from harmoni_pipeline.ingest.runner import ingest_partition
from harmoni_pipeline.ingest.shards import SHARD_ALL, shard_of
from harmoni_pipeline.defs.resources import HarmoniResource
from harmoni_pipeline.settings import Settings
from harmoni_pipeline.registry import catalog_tables
from harmoni_pipeline.warehouse import Warehouse, content_sha256
from tests.landing_helpers import rows_across_scope, write_canonical_survey

PERIOD = "2025-06"
TABLE = "staging.survey_responses"


def _file(rel_path: str) -> LandingFile:
    return LandingFile("survey", PERIOD, None, rel_path, "0" * 64, 1)


@pytest.mark.parametrize(
    ("rel_path", "shard"),
    [
        ("survey/2025-06/35/kobo_jatim.xlsx", "35"),
        ("survey/2025-06/35/sub/more.csv", "35"),
        ("survey/2025-06/export.csv", SHARD_ALL),
        ("survey/2025-06/99/unknown_code.csv", SHARD_ALL),
        ("survey/2025-06/jatim/named.csv", SHARD_ALL),
    ],
)
def test_a_files_shard_is_its_province_folder(rel_path, shard):
    assert shard_of(_file(rel_path), {"11", "35"}) == shard


def _landing(landing):
    rows = rows_across_scope(PERIOD)
    month = landing / "survey" / PERIOD
    write_canonical_survey(month / "35" / "a.csv", rows[:10])
    write_canonical_survey(month / "35" / "b.csv", rows[10:16] + [{"response_id": "R-young", "umur": "15"}])
    write_canonical_survey(month / "11" / "c.csv", rows[16:])
    shutil.copy(month / "35" / "a.csv", month / "11" / "copy_of_a.csv")  # same bytes: counted once
    write_canonical_survey(month / "top.csv", [{"response_id": "R-bad-kec", "kode_kecamatan": "99.99.99"}])


def _audit(warehouse: Warehouse, table: str):
    data = warehouse.read_partition(table, PERIOD, part="survey")
    return data.drop_columns([c for c in ("run_id", "ingested_at") if c in data.column_names]).to_pylist()


def test_the_split_parse_runs_one_step_per_province_and_assembles_the_same_partition(env, tmp_path):
    _landing(env["landing"])
    split_wh, plain_wh = tmp_path / "split_wh", tmp_path / "plain_wh"
    defs = dg.Definitions(
        assets=[*landing_specs, *build_ingestion_assets("province")],
        asset_checks=staging_checks,
        resources={"harmoni": HarmoniResource(warehouse_dir=str(split_wh))},
    )
    job = dg.define_asset_job("split", selection=dg.AssetSelection.assets(["staging", "survey_responses"]))
    defs = dg.Definitions.merge(defs, dg.Definitions(jobs=[job]))
    defs.get_repository_def()
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("split").execute_in_process(partition_key=PERIOD, instance=instance)
        assert result.success
        parsed = sorted(
            e.step_key for e in result.all_events
            if e.event_type_value == "STEP_SUCCESS" and "parse_shard" in e.step_key
        )
        assert parsed == [f"staging__survey_responses.survey_responses__parse_shard[{k}]" for k in ("11", "35", SHARD_ALL)]
        (materialization,) = result.asset_materializations_for_node("staging__survey_responses")
        assert materialization.metadata["shards"].value == "11, 35, all"

    split = Warehouse(split_wh, catalog_tables())
    assert split.storage.listdir(split.pending_dir(result.run_id)) == []  # shard outcomes cleaned up
    plain = Warehouse(plain_wh, catalog_tables())
    ingest_partition("survey", PERIOD, settings=Settings.from_env(warehouse_dir=str(plain_wh)), run_id="plain",
                     warehouse=plain, publish=True)
    split_rows, plain_rows = split.read_partition(TABLE, PERIOD), plain.read_partition(TABLE, PERIOD)
    assert split_rows.num_rows == plain_rows.num_rows == len(rows_across_scope(PERIOD))
    assert content_sha256(split_rows) == content_sha256(plain_rows)
    assert _audit(split, "audit.source_files") == _audit(plain, "audit.source_files")
    assert _audit(split, "audit.rejected_rows") == _audit(plain, "audit.rejected_rows")
    duplicates = [r for r in _audit(split, "audit.source_files") if r["duplicate_of"]]
    assert [(r["path"], r["duplicate_of"]) for r in duplicates] == [
        (f"survey/{PERIOD}/35/a.csv", f"survey/{PERIOD}/11/copy_of_a.csv")]


def test_an_unknown_split_is_refused():
    from harmoni_pipeline.assets.ingestion import build_ingestion_assets

    with pytest.raises(ValueError, match="HARMONI_SPLIT"):
        build_ingestion_assets("kabupaten")


def test_the_split_changes_steps_not_the_asset_graph():
    from harmoni_pipeline.definitions import build_defs

    def graph(defs):
        return {s.key.to_user_string(): ({d.asset_key for d in s.deps}, s.partitions_def, s.code_version)
                for s in defs.resolve_all_asset_specs()}

    plain, split = build_defs(split=""), build_defs(split="province")
    assert graph(plain) == graph(split)
    nodes = {n.name for n in split.resolve_job_def("ingest_monthly").graph.nodes}
    assert {"staging__survey_responses", "staging__fkdm_reports"} <= nodes
