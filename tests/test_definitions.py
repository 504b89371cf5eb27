"""The code location loads, and its asset graph is what reviewers expect (a change of
lineage, partitioning or code version shows up here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from harmoni_pipeline.definitions import defs

ROOT = Path(__file__).resolve().parents[1]

EXPECTED = {
    "landing/survey": (None, set(), None),
    "landing/fkdm": (None, set(), None),
    "landing/stats": (None, set(), None),
    "staging/survey_responses": ("staging", {"landing/survey"}, "monthly"),
    "staging/fkdm_reports": ("staging", {"landing/fkdm"}, "monthly"),
    "staging/statistics": ("staging", {"landing/stats"}, "yearly"),
    "landing/penanggung_jawab": (None, set(), None),
}
SURVEY_WINDOW = {"staging/survey_responses", "staging/statistics"}
EVENTS = SURVEY_WINDOW | {"staging/fkdm_reports"}
for _table in ("ihai_kecamatan", "ihai_variabel", "ihai_kabupaten", "ihai_provinsi"):
    EXPECTED[f"marts/{_table}"] = ("marts", SURVEY_WINDOW, "monthly")
for _table in ("ikn_kecamatan", "ikn_dimensi", "ikn_konteks", "ikn_kabupaten", "ikn_provinsi"):
    EXPECTED[f"marts/{_table}"] = ("marts", EVENTS, "monthly")
EXPECTED["marts/harmoni_kewaspadaan"] = (
    "marts", {"marts/ihai_kecamatan", "marts/ikn_kecamatan", "landing/penanggung_jawab"}, "monthly"
)
# the auditor's trail of the scores: published with the marts, from the same staged inputs
for _table in ("score_sources", "score_respondents", "score_reports", "score_statistics", "score_runs"):
    EXPECTED[f"audit/{_table}"] = ("marts", EVENTS, "monthly")
# the monthly report reads every published mart of its month (and the eleven before, for trends)
EXPECTED["report"] = ("reports", {k for k in EXPECTED if k.startswith("marts/")}, "monthly")
# the connectors' pulls write landing files (the landing sensor stages them): no lineage edge
for _source in ("kobo", "sheets", "bps"):
    EXPECTED[f"pulls/{_source}"] = ("pulls", set(), None)
# uncertainty, sensitivity and groups: from the published IHaI and IKN marts and the month's inputs
for _table in ("ihai_ketidakpastian", "ikn_ketidakpastian", "sensitivitas", "sensitivitas_kecamatan", "ihai_kelompok",
               "ikn_kelompok"):
    EXPECTED[f"marts/{_table}"] = ("marts", EVENTS | {"marts/ihai_kecamatan", "marts/ikn_kecamatan"}, "monthly")
# the report's section "Seberapa yakin angka ini?" reads the published uncertainty tables (not the per-kecamatan Sobol)
EXPECTED["report"][1].update({"marts/ihai_ketidakpastian", "marts/ikn_ketidakpastian", "marts/sensitivitas",
                              "marts/ihai_kelompok", "marts/ikn_kelompok"})
# notifications read published tables only: a month's FKDM staging, or its marts
EXPECTED["notifications/red_reports"] = ("notifications", {"staging/fkdm_reports", "landing/penanggung_jawab"}, "monthly")
EXPECTED["notifications/became_rawan"] = ("notifications", {"marts/ikn_kecamatan", "marts/harmoni_kewaspadaan"}, "monthly")
EXPECTED["notifications/digest"] = ("notifications", {"marts/harmoni_kewaspadaan"}, "monthly")


def test_asset_graph_snapshot():
    specs = {s.key.to_user_string(): s for s in defs.resolve_all_asset_specs()}
    assert set(specs) == set(EXPECTED)
    for key, (group, deps, partitions) in EXPECTED.items():
        spec = specs[key]
        assert {d.asset_key.to_user_string() for d in spec.deps} == deps, key
        if group:
            assert spec.group_name == group and spec.code_version and spec.owners and spec.description
            assert {"parquet", "duckdb"} <= set(spec.kinds) or group in ("reports", "pulls", "notifications")
        pd = spec.partitions_def
        if partitions == "monthly":
            keys = pd.get_partition_keys()
            assert keys[0] == "2022-01" and "2025-12" in keys
            assert pd.timezone == "Asia/Jakarta"
        elif partitions == "yearly":
            assert pd.get_partition_keys()[0] == "2022" and pd.timezone == "Asia/Jakarta"
    assert {j.name for j in defs.resolve_all_job_defs()} >= {
        "ingest_monthly", "ingest_statistics", "harmoni_monthly", "score_monthly", "pull_kobo", "pull_sheets", "pull_bps",
        "notify_pending",
    }
    schedules = {s.name: s for s in defs.schedules}
    for source in ("kobo", "sheets", "bps"):  # pulls start only when switched on, once their settings exist
        assert schedules[f"pull_{source}_schedule"].default_status == dg.DefaultScheduleStatus.STOPPED


def test_marts_read_a_twelve_month_window_of_staging():
    """The survey and FKDM windows: a mart partition depends on its month and the eleven
    before it (fewer at the first periods: those do not exist)."""
    import dagster as dg

    graph = defs.resolve_asset_graph()
    key = dg.AssetKey(["marts", "ikn_kecamatan"])
    for upstream in (["staging", "survey_responses"], ["staging", "fkdm_reports"]):
        mapping = graph.get(key).partition_mappings[dg.AssetKey(upstream)]
        assert isinstance(mapping, dg.TimeWindowPartitionMapping)
        assert (mapping.start_offset, mapping.end_offset) == (-11, 0)
    stats = graph.get(key).partition_mappings[dg.AssetKey(["staging", "statistics"])]
    assert isinstance(stats, dg.TimeWindowPartitionMapping) and stats.start_offset == 0


def test_dg_check_defs(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "dg"), "check", "defs"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "All definitions loaded successfully" in proc.stdout + proc.stderr


def test_every_staging_table_and_every_mart_has_a_blocking_expectations_check():
    from harmoni_pipeline.scoring.marts import ALL_TABLES

    graph = defs.resolve_asset_graph()
    specs = {(k.asset_key.to_user_string(), k.name): graph.get_check_spec(k) for k in graph.asset_check_keys}
    marts = [t.replace(".", "/") for t in ALL_TABLES]
    assert len(marts) == 10
    marts += [f"audit/{t}" for t in ("score_sources", "score_respondents", "score_reports", "score_statistics",
                                     "score_runs")]
    for asset in ("staging/survey_responses", "staging/fkdm_reports", "staging/statistics", *marts):
        assert specs[(asset, "expectations")].blocking, asset
    for name in ("straight_lining", "fast_completion", "cronbach_alpha", "repeated_respondents", "warnings"):
        assert not specs[("staging/survey_responses", name)].blocking
    # the ten marts of a month are judged (and published) by one gate step: one snapshot
    job = defs.resolve_job_def("score_monthly")
    gates = [n for n in job.graph.nodes if n.name == "marts__gate"]
    assert len(gates) == 1


def test_only_the_publishing_gates_queue_in_the_publish_pool():
    """The steps that publish into the warehouse (the blocking gates) share the pool
    ``warehouse_publish`` (limit 1 in dagster.yaml); parsing and scoring run in parallel."""
    from harmoni_pipeline.checks.common import PUBLISH_POOL

    for job_name in ("harmoni_monthly", "ingest_statistics", "score_monthly"):
        pools = {n.name: getattr(n.definition, "pool", None) for n in defs.resolve_job_def(job_name).graph.nodes}
        gates = {name for name in pools if name.endswith("__gate")}
        assert gates, job_name
        assert {name for name, pool in pools.items() if pool == PUBLISH_POOL} == gates, job_name
        assert not {name: pool for name, pool in pools.items() if pool and pool != PUBLISH_POOL}


def test_the_executor_is_chosen_by_harmoni_executor():
    import dagster as dg
    import pytest

    from harmoni_pipeline.definitions import executor_from_env

    assert executor_from_env({}) is dg.multiprocess_executor
    assert executor_from_env({"HARMONI_EXECUTOR": "in_process"}) is dg.in_process_executor
    with pytest.raises(ValueError, match="expected one of"):
        executor_from_env({"HARMONI_EXECUTOR": "threads"})
