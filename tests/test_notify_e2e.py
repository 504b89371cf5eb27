"""Notifications end to end through the code location, on a generated landing zone with a
contacts file, a local SMTP server and a local HTTP server: the monthly run sends one
"became rawan" per new Tinggi kecamatan and one digest per position; a red FKDM report
dropped into the landing zone is sent by the landing sensor's staging run, before any
scoring; running the month again or dropping the same file again sends nothing new; no
contact value is written to the warehouse or the Dagster instance."""

from __future__ import annotations

import csv
import shutil
from collections import Counter

import dagster as dg
import duckdb

from harmoni_pipeline.definitions import build_defs
from harmoni_pipeline.notify.ledger import Ledger
from harmoni_pipeline.defs.resources import HarmoniResource
from harmoni_pipeline.sample import generate_landing_zone
from tests.notify_servers import http_server, smtp_server

FALLBACK = "piket.kesbangpol.fallback@kab-probolinggo.example"
TOKEN = "987654:E2E-secret-token"
SCORING = [dg.AssetKey(k) for k in (
    ["staging", "survey_responses"], ["staging", "fkdm_reports"], ["notifications", "red_reports"],
    *[["marts", t] for t in ("ihai_kecamatan", "ihai_variabel", "ihai_kabupaten", "ihai_provinsi", "ikn_kecamatan",
                              "ikn_dimensi", "ikn_konteks", "ikn_kabupaten", "ikn_provinsi", "harmoni_kewaspadaan")],
    # the marts' trail: written by the same step, published in the same snapshot
    *[["audit", t] for t in ("score_sources", "score_respondents", "score_reports", "score_statistics", "score_runs")],
    ["notifications", "became_rawan"], ["notifications", "digest"])]   # the monthly job without the report (its own e2e)


def _contacts(landing, path, http_url) -> dict[str, str]:
    """One officer e-mail per position of the sample's assignment table (the first also on
    Telegram and a webhook); returns position → e-mail."""
    with open(landing / "reference" / "penanggung_jawab.csv", encoding="utf-8-sig") as fh:
        positions = sorted({row["penanggung_jawab"] for row in csv.DictReader(fh)})
    emails = {p: f"officer{i:03d}.{p.split()[-1].lower()}@kab-probolinggo.example" for i, p in enumerate(positions)}
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["penanggung_jawab", "email", "telegram_chat_id", "webhook_url"])
        for i, p in enumerate(positions):
            writer.writerow([p, emails[p], "5550001234" if i == 0 else "", f"{http_url}/hook/officer-{i}" if i == 0 else ""])
    return emails


def _red_report_file(path, kode_desa: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "no_laporan,tgl_lapor,tgl_kejadian,kode_desa,bidang,jenis_athg,kualifikasi,status,ringkasan,pelapor_nama,pelapor_hp\n"
        f"FKDM/E2E/0001,2025-12-20,2025-12-19,{kode_desa},sara,gangguan,Merah 2,baru,"
        "Ringkasan rahasia menyebut Pak Harjono,Sri Wahyuni Pelapor,0813-9999-1111\n", encoding="utf-8")


def _query(warehouse, sql):
    con = duckdb.connect(str(warehouse / "harmoni.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_monthly_run_landing_drop_and_reruns_notify_once(env, monkeypatch):
    landing, warehouse, tmp = env["landing"], env["warehouse"], env["tmp"]
    generate_landing_zone(landing, start="2025-11", end="2025-12", seed=7, scope="35.13")
    with smtp_server() as smtp, http_server() as http:
        contacts = tmp / "private" / "contacts.csv"
        contacts.parent.mkdir()
        emails = _contacts(landing, contacts, http.url)
        for name, value in {"HARMONI_CONTACTS_FILE": str(contacts), "HARMONI_SMTP_HOST": "127.0.0.1",
                            "HARMONI_SMTP_PORT": str(smtp.port), "HARMONI_TELEGRAM_TOKEN": TOKEN,
                            "HARMONI_TELEGRAM_API": http.url, "HARMONI_ALERT_FALLBACK_EMAIL": FALLBACK,
                            "HARMONI_ALERT_SINCE": "2025-12-01"}.items():
            monkeypatch.setenv(name, value)
        defs = build_defs({"harmoni": HarmoniResource(landing_dir=str(landing), warehouse_dir=str(warehouse))})
        defs.get_repository_def()
        ledger = Ledger.in_folder(warehouse)
        with dg.instance_for_test() as instance:
            def run(job, key, selection=None):
                result = defs.resolve_job_def(job).execute_in_process(
                    partition_key=key, instance=instance, raise_on_error=False, asset_selection=selection)
                assert result.success, (job, key)
                return result

            run("ingest_statistics", "2025")
            run("harmoni_monthly", "2025-11", SCORING)
            assert smtp.messages == [] and ledger.rows() == []       # November is before HARMONI_ALERT_SINCE
            run("harmoni_monthly", "2025-12", SCORING)

            rows = ledger.rows()
            assert rows and {r["status"] for r in rows} == {"sent"}
            kinds = Counter(r["kind"] for r in rows if r["channel"] == "email")
            # one digest per position (the unassigned kecamatan: one to the fallback)
            digests = [r for r in rows if r["kind"] == "digest" and r["channel"] == "email"]
            positions = set(_query(warehouse, "SELECT DISTINCT penanggung_jawab FROM marts.harmoni_kewaspadaan "
                                              "WHERE period = '2025-12'"))
            assert len(digests) == len(positions) == kinds["digest"]
            assert {r["position"] for r in digests} == {p for (p,) in positions}
            # one "became rawan" per kecamatan Tinggi now and not in November, or with a new red alert
            expected = {k for (k,) in _query(warehouse, """
                SELECT d.kode_kecamatan FROM marts.ikn_kecamatan d
                LEFT JOIN (SELECT * FROM marts.ikn_kecamatan WHERE period = '2025-11') n USING (kode_kecamatan)
                WHERE d.period = '2025-12' AND ((d.tingkat_kerawanan = 'Tinggi' AND n.tingkat_kerawanan IS DISTINCT
                      FROM 'Tinggi') OR (d.alert_merah AND NOT coalesce(n.alert_merah, false)))""")}
            assert expected and {r["key"].split(":")[1] for r in rows if r["kind"] == "became_rawan"} == expected
            assert kinds["red_report"] > 0      # the sample's December red reports, sent by its staging step
            received = Counter((m["to"][0], m["subject"]) for m in smtp.messages)
            assert all(n == 1 for n in received.values())
            assert len(smtp.messages) == sum(1 for r in rows if r["channel"] == "email")
            sent_before = len(smtp.messages), len(http.requests)

            # a red report dropped into the landing zone: the sensor's staging run sends it, before any scoring
            sensor = defs.resolve_sensor_def("harmoni_landing_sensor")

            def tick(cursor):
                with dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=defs.get_repository_def(),
                                             resources={"harmoni": HarmoniResource(landing_dir=str(landing),
                                                                                   warehouse_dir=str(warehouse))}) as context:
                    result = sensor.evaluate_tick(context)
                return result.run_requests or [], result.cursor

            _, cursor = tick(None)                     # baseline
            kec = _query(warehouse, "SELECT kode_kecamatan FROM marts.harmoni_kewaspadaan WHERE period = '2025-12' "
                                    "AND penanggung_jawab IS NOT NULL ORDER BY kode_kecamatan LIMIT 1")[0][0]
            position = _query(warehouse, f"SELECT penanggung_jawab FROM marts.harmoni_kewaspadaan WHERE "
                                         f"period = '2025-12' AND kode_kecamatan = '{kec}'")[0][0]
            dropped = landing / "fkdm" / "2025-12" / "laporan_merah_susulan.csv"
            _red_report_file(dropped, f"{kec}.2001")
            requests, cursor = tick(cursor)
            assert [(r.job_name, r.partition_key) for r in requests] == [("ingest_monthly", "2025-12")]
            result = run("ingest_monthly", "2025-12")
            assert not any(k.path[0] == "marts" for k in result.dagster_run.asset_selection or [])
            new_mail = smtp.messages[sent_before[0]:]
            assert [(m["to"], "MERAH 2" in m["subject"]) for m in new_mail] == [([emails[position]], True)]
            assert "Ringkasan rahasia" not in new_mail[0]["text"] and "Sri Wahyuni" not in new_mail[0]["text"]
            assert "0813" not in new_mail[0]["text"] and f"--kecamatan {kec}" in new_mail[0]["text"]

            # the same bytes again under another name, the same month re-run: nothing new
            shutil.copy(dropped, dropped.with_name("laporan_merah_susulan_lagi.csv"))
            requests, cursor = tick(cursor)
            for request in requests:
                run(request.job_name, request.partition_key)
            run("harmoni_monthly", "2025-12", SCORING)
            assert len(smtp.messages) == sent_before[0] + 1
            assert len(http.requests) == sent_before[1] + (1 if position == sorted(emails)[0] else 0) * 2
            audit = _query(warehouse, "SELECT count(*), count(DISTINCT idempotency_key) FROM audit.notifications")
            assert audit == [(len(ledger.rows()), len(ledger.rows()))]

            # no contact value (nor the token), no reporter's name, phone or ringkasan anywhere in the warehouse
            # or the Dagster instance
            planted = [v.encode() for v in [*emails.values(), FALLBACK, TOKEN, "5550001234", f"{http.url}/hook",
                                            "Sri Wahyuni Pelapor", "0813-9999-1111", "Ringkasan rahasia"]]
            for root in (warehouse, __import__("pathlib").Path(instance.root_directory)):
                for path in root.rglob("*"):
                    if path.is_file():
                        data = path.read_bytes()
                        assert not [v for v in planted if v in data], path
