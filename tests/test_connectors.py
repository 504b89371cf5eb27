"""Connectors against local servers standing in for KoboToolbox, Google Sheets and the
BPS WebAPI (tests/source_servers.py): paging, repeated and same-instant records,
incremental pulls, retries, refusals, masking, atomic files and cursors, audit.pulls."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from harmoni_pipeline.connectors import bps, kobo, sheets
from harmoni_pipeline.connectors.http import HttpClient, PullError, redact
from harmoni_pipeline.connectors.landing import INCOMING, PullState
from harmoni_pipeline.connectors.pull import PullConfig, pull
from tests.source_servers import BpsServer, KoboServer, SheetsServer

TOKEN = "kobo-secret-token-0123456789"
KEY = "bps-secret-key-abcdef"


def record(i: int, when: str, **fields) -> dict:
    return {"_id": i, "_uuid": f"uuid-{i:05d}", "_submission_time": when, "identitas/kecamatan": "35_13_19",
            "identitas/jk": "l", "identitas/umur": "40", "ihai/X01_PER": "4", "_attachments": [],
            "_validation_status": {}, **fields}


def landed(root: Path, folder: str) -> list[Path]:
    return sorted((root / folder).glob("*")) if (root / folder).is_dir() else []


def csv_ids(path: Path) -> list[str]:
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")), delimiter=";"))
    return [r["_id"] for r in rows]


@pytest.fixture
def state(tmp_path):
    with PullState(tmp_path / "landing", tmp_path / "local").lock() as s:
        yield s


def fast_client(**kw) -> HttpClient:
    waits: list[float] = []
    client = HttpClient(timeout=5, retries=kw.pop("retries", 3), backoff=0.01, sleep=waits.append, **kw)
    client.waits = waits
    return client


# ---- HTTP ---------------------------------------------------------------------------
def test_429_and_503_are_retried_with_retry_after_then_succeed(tmp_path, state):
    with KoboServer(TOKEN, {"a1": [record(1, "2025-03-01T01:00:00")]}) as srv:
        srv.faults.extend([(429, {"Retry-After": "7"}, b"slow down"), (503, {}, b"busy"), "cut"])
        client = fast_client()
        result = kobo.pull_asset(client, state, base_url=srv.url, token=TOKEN, uid="a1", period="2025-03")
    assert client.waits == [7.0, 0.02, 0.04]  # Retry-After honoured, then exponential backoff
    assert result.records == 1 and len(srv.requests) == 4


def test_401_fails_at_once_with_a_clear_message_and_no_token(tmp_path, state):
    with KoboServer("another-token", {"a1": [record(1, "2025-03-01T01:00:00")]}) as srv:
        with pytest.raises(PullError) as err:
            kobo.pull_asset(fast_client(), state, base_url=srv.url, token=TOKEN, uid="a1", period="2025-03")
    assert "HTTP 401" in str(err.value) and "credentials" in str(err.value)
    assert TOKEN not in str(err.value) and len(srv.requests) == 1
    assert landed(state.landing, "survey/2025-03") == []


def test_retries_exhausted_on_cut_bodies_write_nothing(tmp_path, state):
    with KoboServer(TOKEN, {"a1": [record(1, "2025-03-01T01:00:00")]}) as srv:
        srv.faults.extend(["cut"] * 4)
        with pytest.raises(PullError, match="given up after 4 attempts"):
            kobo.pull_asset(fast_client(retries=3), state, base_url=srv.url, token=TOKEN, uid="a1", period="2025-03")
    assert not (state.landing / "survey").exists()
    assert state.cursor("kobo", "a1") is None


def test_redact_masks_keys_tokens_credentials_and_sheet_keys():
    url = f"https://user:pw@webapi.bps.go.id/v1/api/list/model/data/domain/3513/var/1/th/124/key/{KEY}/"
    assert KEY not in redact(url, (KEY,)) and "/key/***/" in redact(url, (KEY,)) and "pw" not in redact(url)
    assert redact("https://x/y?token=abc&gid=3") == "https://x/y?token=%2A%2A%2A&gid=3" or "abc" not in redact(
        "https://x/y?token=abc&gid=3")
    sheet = "https://docs.google.com/spreadsheets/d/1AbCdEfGhIjKlMnOp/export?format=csv&gid=0"
    assert "1AbCdEfGhIjKlMnOp" not in redact(sheet) and "/d/1AbC***/export" in redact(sheet)


# ---- KoboToolbox --------------------------------------------------------------------
def test_kobo_pages_past_the_limit_cap_and_lands_each_record_once(state):
    records = [record(i, f"2025-03-{1 + i // 100:02d}T{i % 24:02d}:00:00") for i in range(1, 2501)]
    with KoboServer(TOKEN, {"a1": records}) as srv:
        srv.repeat_on_next_page = True  # each later page repeats the previous page's last record
        result = kobo.pull_asset(fast_client(), state, base_url=srv.url, token=TOKEN, uid="a1", period="2025-03")
    assert [r["query"]["limit"] for r in srv.requests] == ["1000"] * 3
    assert [r["query"]["start"] for r in srv.requests] == ["0", "1000", "2000"]
    files = landed(state.landing, "survey/2025-03")
    assert len(files) == 1 and result.records == 2500
    assert sorted(map(int, csv_ids(files[0]))) == list(range(1, 2501))
    assert all(r["headers"].get("Authorization") == f"Token {TOKEN}" for r in srv.requests)


def test_kobo_incremental_pulls_keep_same_instant_records_and_write_only_new_ones(state):
    t1, t2, t3 = "2025-03-01T01:00:00", "2025-03-02T02:00:00", "2025-03-03T03:00:00"
    served = [record(1, t1), record(2, t2), record(3, t2)]
    with KoboServer(TOKEN, {"a1": served}) as srv:
        pull_once = lambda: kobo.pull_asset(fast_client(), state, base_url=srv.url, token=TOKEN, uid="a1",  # noqa: E731
                                            period="2025-03")
        first = pull_once()
        assert json.loads(first.cursor_after)["ids"] == ["2", "3"]
        again = pull_once()
        assert again.path is None and len(landed(state.landing, "survey/2025-03")) == 1
        assert json.loads(srv.requests[-1]["query"]["query"]) == {"_submission_time": {"$gte": t2}}
        served += [record(4, t2), record(5, t3)]  # a late record at the cursor's instant, and a later one
        third = pull_once()
    files = landed(state.landing, "survey/2025-03")
    assert len(files) == 2 and third.records == 2
    assert sorted(csv_ids(files[0]) + csv_ids(files[1])) == ["1", "2", "3", "4", "5"]
    assert json.loads(third.cursor_after)["ids"] == ["5"]


def test_kobo_csv_keeps_field_names_and_lists_every_survey_column():
    data = kobo.render_csv([record(1, "2025-03-01T01:00:00", extra='a;"b"')]).decode()
    header = data.splitlines()[0].split(";")
    assert '"identitas/kecamatan"' in header and '"_uuid"' in header and '"ihai/X01_PER"' in header
    assert '"ikn/KN5_AKS"' in header and '"identitas/desa"' in header  # unanswered, still a column
    assert '"_attachments"' not in header and '"_validation_status"' not in header
    assert '"a;""b"""' in data.splitlines()[1]


def test_kobo_fkdm_fields_lose_their_group_prefix():
    data = kobo.render_csv([{"_id": 1, "laporan/no_laporan": "R1", "laporan/bidang": "sosial-budaya",
                             "a/status": "baru", "b/status": "x"}], fkdm=True).decode()
    assert data.splitlines()[0] == '"_id";"no_laporan";"bidang";"a/status";"b/status"'


def test_a_pull_killed_mid_download_leaves_no_file_and_the_next_one_lands_everything(tmp_path):
    """A real SIGKILL of a `harmoni pull` process while the server is sending a page."""
    import threading

    records = [record(i, f"2025-03-01T{i:02d}:00:00") for i in range(1, 6)]
    release = threading.Event()
    with KoboServer(TOKEN, {"a1": records}) as srv:
        original = srv.answer

        def stalling(path, query, headers):
            release.wait(30)
            return original(path, query, headers)

        srv.answer = stalling
        env = {**os.environ, "HARMONI_KOBO_URL": srv.url, "HARMONI_KOBO_TOKEN": TOKEN, "HARMONI_KOBO_ASSETS": "a1",
               "HARMONI_LANDING_DIR": str(tmp_path / "landing"), "HARMONI_WAREHOUSE_DIR": str(tmp_path / "wh"),
               "HARMONI_SHEETS_URLS": "", "HARMONI_BPS_KEY": ""}
        proc = subprocess.Popen([sys.executable, "-m", "harmoni_pipeline.cli", "pull", "--source", "kobo",
                                 "--period", "2025-03"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not srv.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert srv.requests, "the pull never reached the server"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        release.set()
        assert not (tmp_path / "landing" / "survey").exists()
        srv.answer = original
        done = subprocess.run([sys.executable, "-m", "harmoni_pipeline.cli", "pull", "--source", "kobo",
                               "--period", "2025-03"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    files = landed(tmp_path / "landing", "survey/2025-03")
    assert len(files) == 1 and csv_ids(files[0]) == ["1", "2", "3", "4", "5"]
    assert TOKEN not in done.stdout + done.stderr


def test_cursor_and_file_move_together_when_a_pull_dies_between_them(tmp_path):
    state = PullState(tmp_path / "landing", tmp_path / "local")
    state.move_cursor("kobo", "a1", {"submission_time": "T1", "ids": ["1"]})
    # died after saving the pending cursor, before the rename: the file is not there
    state._save("kobo", "a1", {"submission_time": "T1", "ids": ["1"]},
                pending={"path": "survey/2025-03/x.csv", "sha256": "0" * 64, "cursor": {"submission_time": "T2"}})
    assert state.cursor("kobo", "a1") == {"submission_time": "T1", "ids": ["1"]}
    # died after the rename, before committing: the file is there with those bytes
    rel = state.land("survey/2025-03", "y.csv", b"abc", source="kobo", target="a1",
                     cursor_before={"submission_time": "T1"}, cursor_after={"submission_time": "T3"})
    from harmoni_pipeline.connectors.landing import sha256

    state._save("kobo", "a1", {"submission_time": "T1"},
                pending={"path": rel, "sha256": sha256(b"abc"), "cursor": {"submission_time": "T3"}})
    assert state.cursor("kobo", "a1") == {"submission_time": "T3"}


def test_landing_files_are_never_modified_and_leftovers_are_cleared(tmp_path):
    state = PullState(tmp_path / "landing", tmp_path / "local")
    state.land("survey/2025-03", "a.csv", b"one", source="kobo", target="t", cursor_before=None, cursor_after=1)
    state.land("survey/2025-03", "a.csv", b"one", source="kobo", target="t", cursor_before=1, cursor_after=1)
    with pytest.raises(FileExistsError, match="never modified"):
        state.land("survey/2025-03", "a.csv", b"two", source="kobo", target="t", cursor_before=1, cursor_after=2)
    assert (tmp_path / "landing/survey/2025-03/a.csv").read_bytes() == b"one"
    leftover = tmp_path / "landing" / INCOMING / "b.csv.123.harmoni-pull.part"
    leftover.write_bytes(b"half")
    with state.lock():
        pass
    assert not leftover.exists()


# ---- Google Sheets ------------------------------------------------------------------
GF_HEADER = "Stempel waktu,Kecamatan,Jenis Kelamin,Usia,[X01_PER] Kebutuhan pangan keluarga saya tercukupi\r\n"


def test_sheets_follow_the_redirect_and_land_only_rows_not_landed_before(state):
    rows = ["03/03/2025 10:00:00,Sumber,Laki-laki,40,Setuju\r\n", "03/03/2025 11:00:00,Kuripan,Perempuan,33,Ragu-ragu\r\n"]
    bodies = {("KEY0123456789", "0"): (GF_HEADER + "".join(rows)).encode()}
    with SheetsServer(bodies) as srv:
        url = srv.export_url("KEY0123456789")
        pull_once = lambda: sheets.pull_sheet(fast_client(), state, url=url, period="2025-03")  # noqa: E731
        first, second = pull_once(), pull_once()
        assert srv.requests[0]["path"].endswith("/export") and srv.requests[1]["path"].startswith("/export-content")
        assert first.records == 2 and second.path is None
        # two new responses, the same one twice, and a question added to the form (a new column)
        header = GF_HEADER.rstrip("\r\n") + ",[X01_PAR] Saya ikut kegiatan\r\n"
        old = [r.rstrip("\r\n") + ",\r\n" for r in rows]
        new = ["04/03/2025 09:00:00,Sumber,Perempuan,51,Setuju,Setuju\r\n"] * 2
        bodies[("KEY0123456789", "0")] = (header + "".join(old + new)).encode()
        third = pull_once()
        fourth = pull_once()
    assert third.records == 2 and fourth.path is None
    files = landed(state.landing, "survey/2025-03")
    assert len(files) == 2
    second_file = (state.landing / third.path).read_text().splitlines()
    assert second_file[1:] == ["04/03/2025 09:00:00,Sumber,Perempuan,51,Setuju,Setuju"] * 2
    assert all("KEY0123456789" not in f.name for f in files)


def test_sheets_html_answer_is_a_clear_error(state):
    with SheetsServer({}) as srv:
        with pytest.raises(PullError, match="HTTP 404"):
            sheets.pull_sheet(fast_client(), state, url=srv.export_url("NOPE0000"), period="2025-03")
        srv.faults.append((200, {"Content-Type": "text/html"}, "<!DOCTYPE html><html>sign in</html>"))
        with pytest.raises(PullError, match="HTML page instead of a CSV"):
            sheets.pull_sheet(fast_client(), state, url=srv.export_url("NOPE0000"), period="2025-03")


# ---- BPS WebAPI ---------------------------------------------------------------------
BODY = {"status": "OK", "data-availability": "available", "var": [{"val": 7, "label": "x"}],
        "vervar": [{"val": 3513010, "label": "SUKAPURA"}], "turvar": [{"val": 0, "label": "Tidak ada"}],
        "tahun": [{"val": 124, "label": "2024"}], "turtahun": [{"val": 0, "label": "Tahun"}],
        "datacontent": {"3513010701240": 12.5}}
SOURCES = {"bps_webapi": [{"domain": "3513", "var": 7, "indikator": "pct_penduduk_miskin"}]}


def test_bps_placeholder_ids_fail_loudly_before_any_request(tmp_path, settings):
    config = PullConfig(bps_key=KEY, bps_url="http://127.0.0.1:9")
    with pytest.raises(PullError) as err:
        pull("bps", settings=settings, period="2025-03", config=config)  # the shipped stats_sources.yaml
    assert "placeholder" in str(err.value) and "var 101 (jumlah_penduduk)" in str(err.value)


def test_bps_bodies_land_once_and_unavailable_years_are_errors_naming_the_variable(settings):
    with BpsServer(KEY, {("3513", "7", "124"): json.dumps(BODY).encode()}) as srv:
        config = PullConfig(bps_key=KEY, bps_url=srv.base)
        first = pull("bps", settings=settings, period="2025-03", config=config, stats_sources=SOURCES)
        second = pull("bps", settings=settings, period="2025-03", config=config, stats_sources=SOURCES)
        srv.bodies[("3513", "7", "124")] = json.dumps({**BODY, "datacontent": {"3513010701240": 13.0}}).encode()
        third = pull("bps", settings=settings, period="2025-03", config=config, stats_sources=SOURCES)
    by_th = {r.target: r for r in first}
    assert by_th["3513/var7/th124"].records == 1 and by_th["3513/var7/th124"].path.startswith("stats/2025/")
    unavailable = by_th["3513/var7/th125"]
    assert unavailable.path is None and "variable 7 (pct_penduduk_miskin)" in unavailable.error
    assert "list-not-available" in unavailable.error
    assert [r.path for r in second] == [None, None]
    files = landed(settings.landing_dir, "stats/2025")
    assert len(files) == 2 and files[-1].name == Path(third[0].path).name  # the revision sorts last
    everything = json.dumps([r.__dict__ for r in first + second + third]) + " ".join(f.name for f in files)
    assert KEY not in everything and "/key/***/" in first[0].url


def test_bps_error_status_is_one_line_without_the_key(settings):
    with BpsServer("the-right-key", {}) as srv:
        rows = pull("bps", settings=settings, period="2025-03", config=PullConfig(bps_key=KEY, bps_url=srv.base),
                    stats_sources=SOURCES)
    assert all("status 'Error' (Invalid API key)" in r.error and KEY not in r.error for r in rows)
    assert landed(settings.landing_dir, "stats/2025") == []


def test_bps_body_of_another_variable_is_refused():
    body = json.dumps(BODY).encode()
    assert bps.check_body(body, "variable 7", 7) == 1
    with pytest.raises(PullError, match="variable 8: the body is variable 7"):
        bps.check_body(body, "variable 8", 8)


def test_bps_domain_follows_the_scope_unless_set():
    assert bps.domain_of("35.13") == "3513" and bps.domain_of("35") == "3500" and bps.domain_of("ALL") == "0000"
    assert bps.domain_of("35.13", "3500") == "3500"


# ---- audit.pulls and the command ----------------------------------------------------
def test_harmoni_pull_prints_what_it_wrote_records_audit_and_exits_0_when_nothing_is_new(env, monkeypatch, capsys):
    from harmoni_pipeline.cli import main
    from harmoni_pipeline.settings import Settings
    from harmoni_pipeline.registry import catalog_tables
    from harmoni_pipeline.warehouse import Warehouse

    with KoboServer(TOKEN, {"a1": [record(1, "2025-03-01T01:00:00"), record(2, "2025-03-01T02:00:00")]}) as srv:
        for name, value in {"HARMONI_KOBO_URL": srv.url, "HARMONI_KOBO_TOKEN": TOKEN, "HARMONI_KOBO_ASSETS": "a1"}.items():
            monkeypatch.setenv(name, value)
        assert main(["pull", "--period", "2025-03"]) == 0
        first = capsys.readouterr()
        assert main(["pull", "--source", "kobo", "--period", "2025-03"]) == 0
        second = capsys.readouterr()
    assert "kobo a1: wrote survey/2025-03/kobo_a1_" in first.out and "(2 records" in first.out
    assert "kobo a1: nothing new" in second.out and "0 file(s) written" in second.out
    settings = Settings.from_env()
    table = Warehouse(settings.warehouse_dir, catalog_tables()).read_partition("audit.pulls", "2025-03").to_pandas()
    assert list(table["records"]) == [2, 0] and table["path"].isna().tolist() == [False, True]
    assert len(table["sha256"].iloc[0]) == 64 and table["sha256"].isna().tolist() == [False, True]
    assert not table.astype(str).apply(lambda c: c.str.contains(TOKEN)).any().any()


def test_pull_all_reports_placeholder_bps_ids_as_a_failed_target_and_still_pulls_kobo(settings):
    with KoboServer(TOKEN, {"a1": [record(1, "2025-03-01T01:00:00")]}) as srv:
        config = PullConfig(kobo_url=srv.url, kobo_token=TOKEN, kobo_assets=["a1"], bps_key=KEY,
                            bps_url="http://127.0.0.1:9/v1")
        rows = pull("all", settings=settings, period="2025-03", config=config)
    assert [(r.source, r.records, r.error is None) for r in rows] == [("bps", 0, False), ("kobo", 1, True)]
    assert "placeholder" in rows[0].error


def test_harmoni_pull_without_settings_or_with_placeholders_exits_2_with_one_line(env, monkeypatch, capsys):
    from harmoni_pipeline.cli import main

    for name in ("HARMONI_KOBO_TOKEN", "HARMONI_KOBO_ASSETS", "HARMONI_SHEETS_URLS", "HARMONI_BPS_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert main(["pull", "--source", "kobo", "--period", "2025-03"]) == 2
    assert capsys.readouterr().err.strip() == "harmoni: cannot pull kobo: HARMONI_KOBO_ASSETS (or HARMONI_KOBO_FKDM_ASSETS) is not set"
    monkeypatch.setenv("HARMONI_BPS_KEY", KEY)
    assert main(["pull", "--source", "bps", "--period", "2025-03"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "placeholder" in err and KEY not in err


def test_a_kobo_fkdm_form_lands_in_fkdm_and_is_read_as_the_hand_made_report_file(tmp_path, state):
    """The sample's FKDM CSV served as a Kobo form (fields in a group `laporan`): the
    pulled file in fkdm/ parses to the same reports as the hand-made file."""
    import csv as csv_module

    from harmoni_pipeline.ingest.fkdm import parse_fkdm_file
    from harmoni_pipeline.pii import Pseudonymizer
    from harmoni_pipeline.regions import Regions
    from harmoni_pipeline.sample import generate_landing_zone

    generate_landing_zone(tmp_path / "sample", start="2025-03", end="2025-03", seed=5, responses=50, reports=30)
    hand = tmp_path / "sample/fkdm/2025-03/laporan_fkdm_kab_probolinggo_2025-03.csv"
    rows = list(csv_module.DictReader(hand.open(encoding="utf-8")))
    records = [{"_id": i + 1, "_uuid": f"u{i}", "_submission_time": f"2025-03-{1 + i % 28:02d}T01:00:00",
                **{f"laporan/{k}": v for k, v in row.items() if v}} for i, row in enumerate(rows)]
    with KoboServer(TOKEN, {"fk1": records}) as srv:
        result = kobo.pull_asset(fast_client(), state, base_url=srv.url, token=TOKEN, uid="fk1", period="2025-03",
                                 fkdm=True)
    assert result.source == "kobo_fkdm" and result.path.startswith("fkdm/2025-03/kobo_fk1_")
    kw = dict(regions=Regions.load(), scope="35.13", period="2025-03", pseudonymizer=Pseudonymizer("k"))
    by_hand = parse_fkdm_file(hand, display_path="hand.csv", **kw)
    pulled = parse_fkdm_file(state.landing / result.path, display_path="pulled.csv", **kw)
    assert pulled.rows_read == len(rows) and len(pulled.accepted) == len(by_hand.accepted) > 0
    columns = [c for c in by_hand.accepted.columns if c != "line"]
    key = "no_laporan"
    left = by_hand.accepted[columns].sort_values(key).reset_index(drop=True)
    right = pulled.accepted[columns].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(left, right)


def test_a_pull_into_a_landing_zone_at_a_url_is_refused_before_any_request(settings, tmp_path):
    """``harmoni pull`` writes into a folder (atomic rename, cursor beside it); with
    HARMONI_LANDING_DIR a URL it says so instead of writing a local folder named ``s3:``."""
    import dataclasses

    at_url = dataclasses.replace(settings, landing_dir="s3://bucket/landing")
    config = PullConfig(kobo_url="http://127.0.0.1:9", kobo_token=TOKEN, kobo_assets=["aAbC"])
    with pytest.raises(PullError) as err:
        pull("kobo", settings=at_url, period="2025-03", config=config)
    assert "HARMONI_LANDING_DIR is a URL (s3://bucket/landing)" in str(err.value)
    assert not Path("s3:").exists() and not (tmp_path / "s3:").exists()
