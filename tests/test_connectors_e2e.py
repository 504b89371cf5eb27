"""End to end: the same sample data served by local stand-ins for KoboToolbox, Google
Sheets and the BPS WebAPI, pulled in two increments with `harmoni pull`, then staged and
scored with `harmoni run`, gives the staging rows and the scores of the same data dropped
by hand as files. The pull assets materialise through Dagster too."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from harmoni_pipeline.cli import main
from harmoni_pipeline.sample import generate_landing_zone
from harmoni_pipeline.registry import catalog_tables
from harmoni_pipeline.warehouse import Warehouse
from tests.source_servers import BpsServer, KoboServer, SheetsServer, kobo_records_from_csv

PERIOD = "2025-03"
TOKEN, KEY = "e2e-kobo-token-secret", "e2e-bps-key-secret"
KOBO = f"survey/{PERIOD}/kobo_survei_harmoni_kab_probolinggo_{PERIOD}.csv"
GFORM = f"survey/{PERIOD}/gform_survei_ihai_ikn_kab_probolinggo.csv"
BPS = "stats/2025/bps_webapi_3513_var102_2024.json"
FILE_COLUMNS = ["source_sha256", "source_path", "file_order", "line", "run_id"]  # where the row came from


def split_without_separating(keys: list[str]) -> int:
    """An index near the middle such that no key occurs both before and after it (a
    duplicate served twice stays in one pull, as in one hand-dropped file)."""
    for cut in sorted(range(1, len(keys)), key=lambda i: abs(i - len(keys) // 2)):
        if not set(keys[:cut]) & set(keys[cut:]):
            return cut
    raise AssertionError("no split")


def staged(warehouse: Path, table: str) -> pd.DataFrame:
    partition = PERIOD[:4] if table == "staging.statistics" else PERIOD
    frame = Warehouse(warehouse, catalog_tables()).read_partition(table, partition).to_pandas()
    frame = frame.drop(columns=[c for c in FILE_COLUMNS if c in frame.columns])
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def mart(warehouse: Path, table: str) -> pd.DataFrame:
    frame = Warehouse(warehouse, catalog_tables()).read_partition(table, PERIOD).to_pandas()
    frame = frame.drop(columns=[c for c in ("run_id", "computed_at") if c in frame.columns])
    return frame.sort_values(list(frame.columns[:2])).reset_index(drop=True)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("connectors-e2e")
    sample = tmp / "sample"
    generate_landing_zone(sample, start=PERIOD, end=PERIOD, seed=3, responses=500, reports=40)
    by_hand, pulled = tmp / "by_hand", tmp / "pulled"
    shutil.copytree(sample, by_hand)
    shutil.copytree(sample, pulled)
    for rel in (KOBO, GFORM, BPS):
        (pulled / rel).unlink()

    records = sorted(kobo_records_from_csv((sample / KOBO).read_bytes()),
                     key=lambda r: (r.get("_submission_time") or "", r["_id"]))
    kobo_cut = split_without_separating([r.get("_uuid") or str(r["_id"]) for r in records])
    gf_text = (sample / GFORM).read_text(encoding="utf-8")
    gf_rows = list(csv.reader(io.StringIO(gf_text, newline="")))
    gf_cut = 1 + split_without_separating(["\x1f".join(r) for r in gf_rows[1:]])

    def gf_export(n_rows: int) -> bytes:
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(gf_rows[:n_rows])
        return out.getvalue().encode()

    served = {"aSurvey": records[:kobo_cut]}
    sheets = {("SHEETKEY0001", "0"): gf_export(gf_cut)}
    sources = {"bps_webapi": [{"domain": "3513", "var": 102, "indikator": "pct_penduduk_miskin",
                               "turtahun": ["maret"]}]}
    outputs, pulls = [], []
    with (KoboServer(TOKEN, served) as kobo_srv, SheetsServer(sheets) as sheets_srv,
          BpsServer(KEY, {("3513", "102", "124"): (sample / BPS).read_bytes()}) as bps_srv,
          pytest.MonkeyPatch.context() as mp):
        for name, value in {
            "HARMONI_KOBO_URL": kobo_srv.url, "HARMONI_KOBO_TOKEN": TOKEN, "HARMONI_KOBO_ASSETS": "aSurvey",
            "HARMONI_SHEETS_URLS": sheets_srv.export_url("SHEETKEY0001"), "HARMONI_BPS_URL": bps_srv.base,
            "HARMONI_BPS_KEY": KEY, "DAGSTER_HOME": str(tmp / "dagster_home"), "HARMONI_EXECUTOR": "in_process",
        }.items():
            mp.setenv(name, value)
        args = ["--period", PERIOD, "--landing", str(pulled), "--warehouse", str(tmp / "wh_pulled")]
        outputs.append(main(["pull", "--source", "kobo", *args]))
        outputs.append(main(["pull", "--source", "sheets", *args]))
        served["aSurvey"] = records  # new submissions and responses arrive
        sheets[("SHEETKEY0001", "0")] = gf_export(len(gf_rows))
        outputs.append(main(["pull", "--source", "kobo", *args]))
        outputs.append(main(["pull", "--source", "sheets", *args]))
        files_after_increments = sorted(p.name for p in (pulled / "survey" / PERIOD).iterdir())
        outputs.append(main(["pull", "--source", "kobo", *args]))   # nothing new
        outputs.append(main(["pull", "--source", "sheets", *args]))
        # the BPS variable through the domain function (the shipped ids are placeholders)
        from harmoni_pipeline.connectors.pull import pull
        from harmoni_pipeline.settings import Settings

        settings = Settings.from_env(landing_dir=pulled, warehouse_dir=tmp / "wh_pulled")
        pulls = pull("bps", settings=settings, period=PERIOD, stats_sources=sources,
                     warehouse=Warehouse(settings.warehouse_dir, catalog_tables()))
        mp.setenv("HARMONI_BPS_KEY", "")
        assert main(["run", "--period", PERIOD, "--landing", str(by_hand), "--warehouse", str(tmp / "wh_hand")]) == 0
        assert main(["run", *args]) == 0
    return {"tmp": tmp, "pulled": pulled, "outputs": outputs, "files": files_after_increments, "bps": pulls,
            "kobo_cut": kobo_cut, "gf_cut": gf_cut, "n_kobo": len(records), "n_gf": len(gf_rows) - 1}


def test_pulls_write_each_increment_once_and_nothing_when_nothing_is_new(runs):
    assert runs["outputs"] == [0, 0, 0, 0, 0, 0]
    assert 0 < runs["kobo_cut"] < runs["n_kobo"] and 1 < runs["gf_cut"] <= runs["n_gf"]
    names = sorted(p.name for p in (runs["pulled"] / "survey" / PERIOD).iterdir())
    assert names == runs["files"]  # the last two pulls wrote nothing
    assert len([n for n in names if n.startswith("kobo_aSurvey_")]) == 2
    assert len([n for n in names if n.startswith("gsheets_")]) == 2
    audit = Warehouse(runs["tmp"] / "wh_pulled", catalog_tables()).read_partition("audit.pulls", PERIOD).to_pandas()
    kobo = audit[audit["source"] == "kobo"]
    assert kobo["records"].tolist() == [runs["kobo_cut"], runs["n_kobo"] - runs["kobo_cut"], 0]
    sheets = audit[audit["source"] == "sheets"]
    assert sheets["records"].tolist() == [runs["gf_cut"] - 1, runs["n_gf"] - runs["gf_cut"] + 1, 0]
    assert not audit.astype(str).apply(lambda c: c.str.contains(TOKEN) | c.str.contains(KEY)).any().any()


def test_bps_pull_lands_the_published_year_and_names_the_unpublished_one(runs):
    by_target = {r.target: r for r in runs["bps"]}
    assert by_target["3513/var102/th124"].path.startswith("stats/2025/bps_3513_var102_th124_")
    assert "variable 102 (pct_penduduk_miskin)" in by_target["3513/var102/th125"].error
    assert by_target["3513/var102/th125"].path is None


@pytest.mark.parametrize("table", ["staging.survey_responses", "staging.statistics"])
def test_pulled_files_stage_exactly_the_rows_of_the_files_dropped_by_hand(runs, table):
    hand, pulled = staged(runs["tmp"] / "wh_hand", table), staged(runs["tmp"] / "wh_pulled", table)
    assert len(hand) > 0
    pd.testing.assert_frame_equal(hand, pulled)


def test_rows_rejected_are_the_same_rules_and_values(runs):
    def rejected(name):
        wh = Warehouse(runs["tmp"] / name, catalog_tables())
        frame = wh.read_partition("audit.rejected_rows", PERIOD, part="survey").to_pandas()
        return frame.groupby(["rule", "column", "value"], dropna=False).size().sort_index()

    pd.testing.assert_series_equal(rejected("wh_hand"), rejected("wh_pulled"))


@pytest.mark.parametrize("table", ["marts.ihai_kecamatan", "marts.ikn_kecamatan", "marts.harmoni_kewaspadaan"])
def test_scores_equal_those_of_the_files_dropped_by_hand(runs, table):
    pd.testing.assert_frame_equal(mart(runs["tmp"] / "wh_hand", table), mart(runs["tmp"] / "wh_pulled", table))


def test_the_pull_asset_materialises_with_metadata_and_fails_a_run_on_a_refused_token(tmp_path, monkeypatch):
    from harmoni_pipeline.definitions import build_defs
    from harmoni_pipeline.defs.resources import HarmoniResource

    with KoboServer(TOKEN, {"a1": [{"_id": 1, "_uuid": "u1", "_submission_time": "2025-03-01T01:00:00"}]}) as srv:
        monkeypatch.setenv("HARMONI_KOBO_URL", srv.url)
        monkeypatch.setenv("HARMONI_KOBO_TOKEN", TOKEN)
        monkeypatch.setenv("HARMONI_KOBO_ASSETS", "a1")
        defs = build_defs({"harmoni": HarmoniResource(landing_dir=str(tmp_path / "landing"),
                                                      warehouse_dir=str(tmp_path / "wh"))})
        job = defs.resolve_job_def("pull_kobo")
        with dg.instance_for_test() as instance:
            ok = job.execute_in_process(instance=instance)
            (event,) = ok.asset_materializations_for_node("pulls__kobo")
            assert event.metadata["records"].value == 1 and len(event.metadata["files_written"].value) == 1
            monkeypatch.setenv("HARMONI_KOBO_TOKEN", "wrong")
            failed = job.execute_in_process(instance=instance, raise_on_error=False)
    assert not failed.success
    (failure,) = [e for e in failed.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "HTTP 401" in failure.step_failure_data.error.message and "wrong" not in failure.step_failure_data.error.message
