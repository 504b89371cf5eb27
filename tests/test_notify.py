"""Notifications against real local servers (SMTP by aiosmtpd, an HTTP server for the
Telegram Bot API and webhooks): triggers from published tables, content, masking,
routing and fallback, once per alert across reruns, a channel down then up."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from harmoni_pipeline.notify import service, triggers
from harmoni_pipeline.notify.config import NotifyConfig
from harmoni_pipeline.notify.contacts import ContactsError, mask, parse
from harmoni_pipeline.notify.ledger import Ledger
from harmoni_pipeline.settings import Settings
from tests.notify_helpers import (FALLBACK_EMAIL, OFFICE_HOOK_PATH, OFFICER_CHAT, OFFICER_EMAIL, OFFICER_HOOK_PATH,
                                  POSITION, SECOND_EMAIL, contact_values, notify_env, publish_fkdm, publish_month, red,
                                  warehouse)
from tests.notify_servers import http_server, smtp_server


@pytest.fixture
def servers(env, monkeypatch):
    with smtp_server() as smtp, http_server() as http:
        notify_env(monkeypatch, env["tmp"], smtp.port, http.url)
        (env["landing"] / "reference").mkdir()
        (env["landing"] / "reference" / "penanggung_jawab.csv").write_text(
            "kode_kecamatan,penanggung_jawab\n35.13.01,Camat Sukapura\n35.13.02,Kasi Trantib Kec. Sumber\n"
            "35.13.03,Camat Kuripan\n", encoding="utf-8")
        yield {**env, "smtp": smtp, "http": http, "settings": Settings.from_env(), "wh": warehouse(env["warehouse"])}


def _red_alerts(s, period):
    return service.red_report_alerts(s["settings"], s["wh"], period)


def _notify(s, alerts):
    return service.notify(alerts, settings=s["settings"], warehouse=s["wh"], run_id="test-run")


def _audit(s, period=None):
    con = duckdb.connect(str(s["wh"].catalog_path), read_only=True)
    try:
        where = f"WHERE period = '{period}'" if period else ""
        cursor = con.execute(f"SELECT * FROM audit.notifications {where} ORDER BY key, channel")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        con.close()


def test_masks_show_neither_the_whole_contact_nor_its_domain():
    assert mask("email", "rina@kesbang.go.id") == "r***@…"
    assert mask("telegram", "778899") == "7***"
    assert mask("webhook", "https://hooks.example.org/T1/B2") == "https://h***…"


def test_contacts_file_errors_name_the_line_never_the_value():
    with pytest.raises(ContactsError) as err:
        parse("penanggung_jawab,email,telegram_chat_id,webhook_url\nCamat X,not-an-address-secret,,\n", "k")
    assert "line 2" in str(err.value) and "not-an-address-secret" not in str(err.value)
    with pytest.raises(ContactsError):
        parse("jabatan,email\nCamat X,a@b.id\n", "k")
    found = parse("penanggung_jawab,email,telegram_chat_id,webhook_url\nCamat  X,a@b.id,,\ncamat x,,42,\n", "k")
    assert [r.channel for r in found["camat x"]] == ["email", "telegram"]


def test_red_report_triggers_latest_version_escalation_and_rejection(servers):
    wh = servers["wh"]
    publish_fkdm(wh, "2025-11", [
        red("R-1"),                                                   # a red report
        red("R-2", kualifikasi="kuning"),                             # not red
        red("R-3", status="ditolak"),                                 # rejected
        red("R-4", kualifikasi="merah1", line=2), red("R-4", kualifikasi="merah2", line=9),   # escalated in the file
        red("R-5", kualifikasi="merah2", line=3), red("R-5", kualifikasi="merah2", status="ditolak", line=10),
        red("R-6", kec="35.13.99"),                                   # no position assigned
    ])
    keys = sorted(a.key for a in _red_alerts(servers, "2025-11"))
    assert keys == ["red_report:R-1:merah1", "red_report:R-4:merah2", "red_report:R-6:merah1"]


def test_a_red_report_reaches_its_officer_on_every_channel_once(servers):
    smtp, http, wh = servers["smtp"], servers["http"], servers["wh"]
    publish_month(wh, "2025-10", {"35.13.01": {"tingkat": "Sedang", "position": POSITION, "nama": "Sukapura"}})
    publish_fkdm(wh, "2025-11", [red("FKDM/3513/2025/0042", kode_desa="35.13.01.2001", bidang="sara", jenis_athg="G",
                                     tgl_kejadian=dt.date(2025, 11, 2))])
    outcome = _notify(servers, _red_alerts(servers, "2025-11"))
    assert outcome.new == ["red_report:FKDM/3513/2025/0042:merah1"] and outcome.delivery.sent == 4
    [mail] = smtp.messages
    assert mail["to"] == [OFFICER_EMAIL]
    assert "MERAH 1" in mail["subject"] and "Sukapura" in mail["subject"]
    for text in (mail["text"], mail["html"]):
        for expected in ("Ngadisari", "35.13.01.2001", "sara", "Gangguan", "2025-11-02", "2025-11-04",
                         "kurang-harmonis-rawan", "IHaI 55.5", "IKN 40.0", "prioritas 1",
                         "harmoni trace --period 2025-11 --kecamatan 35.13.01 --index ikn"):
            assert expected in text, expected
        assert "pii:reporter" not in text
    paths = sorted(r["path"] for r in http.requests)
    assert paths == sorted([f"/bot123456:TEST-token-never-logged/sendMessage", OFFICER_HOOK_PATH, OFFICE_HOOK_PATH])
    telegram = next(r for r in http.requests if "sendMessage" in r["path"])
    assert telegram["body"]["chat_id"] == OFFICER_CHAT and "MERAH 1" in telegram["body"]["text"]
    hook = next(r for r in http.requests if r["path"] == OFFICER_HOOK_PATH)
    assert hook["key"] == hook["body"]["idempotency_key"]
    rows = _audit(servers, "2025-11")
    assert sorted((r["channel"], r["recipient"], r["status"], r["attempts"]) for r in rows) == [
        ("email", "r***@…", "sent", 1), ("telegram", "7***", "sent", 1), ("webhook", "http://1***…", "sent", 1),
        ("webhook", "http://1***…", "sent", 1)]
    assert all(r["position"] == POSITION and r["kecamatan"] == "35.13.01" for r in rows)
    # the same partition again (a rerun, a re-delivered file, a restarted daemon): nothing new
    again = _notify(servers, _red_alerts(servers, "2025-11"))
    assert again.new == [] and len(smtp.messages) == 1 and len(http.requests) == 3
    # an escalation is news; a status update is not
    publish_fkdm(wh, "2025-12", [red("FKDM/3513/2025/0042", status="ditangani", day="2025-12-01"),
                                 red("FKDM/3513/2025/0043", kualifikasi="merah2", day="2025-12-02")])
    assert _notify(servers, _red_alerts(servers, "2025-12")).new == ["red_report:FKDM/3513/2025/0043:merah2"]
    publish_fkdm(wh, "2026-01", [red("FKDM/3513/2025/0042", kualifikasi="merah2", status="eskalasi", day="2026-01-05")])
    assert _notify(servers, _red_alerts(servers, "2026-01")).new == ["red_report:FKDM/3513/2025/0042:merah2"]


def test_unassigned_kecamatan_go_to_the_fallback_and_old_alerts_are_not_sent(servers, monkeypatch):
    smtp, wh = servers["smtp"], servers["wh"]
    publish_fkdm(wh, "2025-11", [red("R-OLD", day="2024-12-31"), red("R-UNASSIGNED", kec="35.13.04")])
    outcome = _notify(servers, _red_alerts(servers, "2025-11"))
    assert outcome.before_since == 1 and outcome.new == ["red_report:R-UNASSIGNED:merah1"]
    assert outcome.unassigned == ["red_report:R-UNASSIGNED:merah1"]
    assert [m["to"] for m in smtp.messages] == [[FALLBACK_EMAIL]]
    assert "Tanpa penanggung jawab" in smtp.messages[0]["text"]
    rows = _audit(servers)
    assert {r["channel"]: r["unassigned"] for r in rows} == {"email": True, "webhook": True}


def test_since_defaults_to_the_day_notifications_first_ran(servers, monkeypatch):
    monkeypatch.delenv("HARMONI_ALERT_SINCE")
    ledger = Ledger.in_folder(servers["settings"].local_dir)
    assert service.since(ledger, NotifyConfig.from_env()) == service.today()
    publish_fkdm(servers["wh"], "2025-11", [red("R-1")])
    assert _notify(servers, _red_alerts(servers, "2025-11")).new == []   # 2025 is before today: the past pages no one


def test_became_rawan_and_digest_from_published_months(servers):
    smtp, wh = servers["smtp"], servers["wh"]
    publish_month(wh, "2025-10", {"35.13.01": {"tingkat": "Sedang", "position": POSITION},
                                  "35.13.02": {"tingkat": "Tinggi", "position": "Kasi Trantib Kec. Sumber"},
                                  "35.13.03": {"tingkat": "Rendah", "position": None}})
    publish_month(wh, "2025-11", {"35.13.01": {"tingkat": "Tinggi", "position": POSITION},
                                  "35.13.02": {"tingkat": "Tinggi", "position": "Kasi Trantib Kec. Sumber"},
                                  "35.13.03": {"tingkat": "Rendah", "alert": True, "position": None}})
    rawan = triggers.became_rawan(wh, "2025-11")
    assert sorted(a.key for a in rawan) == ["became_rawan:35.13.01:2025-11", "became_rawan:35.13.03:2025-11"]
    assert triggers.digests(wh, "2025-10") == []  # not the newest published month
    digests = triggers.digests(wh, "2025-11")
    assert sorted(a.key for a in digests) == ["digest:(tanpa penanggung jawab):2025-11", f"digest:{POSITION}:2025-11",
                                              "digest:Kasi Trantib Kec. Sumber:2025-11"]
    outcome = _notify(servers, rawan + digests)
    assert len(outcome.new) == 5
    by_to = {}
    for m in smtp.messages:
        by_to.setdefault(m["to"][0], []).append(m["subject"])
    assert sorted(by_to[OFFICER_EMAIL]) == sorted(["[HARMONI] Kec. 35.13.01 menjadi rawan (2025-11)",
                                                   f"[HARMONI] Ringkasan 2025-11 — {POSITION}"])
    assert len(by_to[SECOND_EMAIL]) == 1 and len(by_to[FALLBACK_EMAIL]) == 2
    digest_mail = next(m for m in smtp.messages if m["subject"].endswith(POSITION))
    assert "kuadran kurang-harmonis-rawan" in digest_mail["text"] and "Sedang → Tinggi" in digest_mail["text"]
    assert _notify(servers, triggers.became_rawan(wh, "2025-11") + triggers.digests(wh, "2025-11")).new == []


def test_a_channel_down_does_not_hold_the_others_and_is_retried_until_sent(servers):
    smtp, http, wh = servers["smtp"], servers["http"], servers["wh"]
    http.down = True
    publish_fkdm(wh, "2025-11", [red("R-1")])
    outcome = _notify(servers, _red_alerts(servers, "2025-11"))
    assert outcome.delivery.sent == 1 and len(smtp.messages) == 1           # e-mail went out
    assert outcome.delivery.retrying == 3 and outcome.delivery.skipped_channels == {"webhook", "telegram"}
    pending = [r for r in _audit(servers) if r["status"] == "pending"]
    assert len(pending) == 3 and all("HTTP 503" in r["error"] or "not tried" in r["error"] for r in pending)
    ledger = Ledger.in_folder(servers["settings"].local_dir)
    assert ledger.due() == []                                                 # backing off
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5)
    assert len(ledger.due(later)) == 3
    http.down = False
    from harmoni_pipeline.notify import delivery
    report = delivery.deliver(ledger, NotifyConfig.from_env(), service.load_contacts(servers["settings"],
                              NotifyConfig.from_env()), now=lambda: later)
    assert report.sent == 3 and len(http.requests) == 3 and len(smtp.messages) == 1
    # expired: a message never sent within the window is reported as failed
    http.down = True
    publish_fkdm(wh, "2025-12", [red("R-2", day="2025-12-01")])
    _notify(servers, _red_alerts(servers, "2025-12"))
    assert ledger.expire(later + dt.timedelta(days=4)) == ["2025-12"]
    statuses = {r["status"] for r in ledger.rows(["2025-12"]) if r["channel"] != "email"}
    assert statuses == {"failed"}


def test_no_contact_value_reaches_the_warehouse(servers):
    publish_month(servers["wh"], "2025-10", {"35.13.01": {"tingkat": "Tinggi", "position": POSITION}})
    servers["http"].down = True   # error texts recorded too
    publish_fkdm(servers["wh"], "2025-11", [red("R-1"), red("R-2", kec="35.13.04")])
    _notify(servers, _red_alerts(servers, "2025-11") + triggers.digests(servers["wh"], "2025-10"))
    planted = contact_values(servers["http"].url) + ["TEST-token-never-logged"]
    for path in servers["warehouse"].rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for value in planted:
                assert value.encode() not in data, (value, path)


def test_cli_notify_test_and_alerts(servers, capsys):
    from harmoni_pipeline.cli import main

    assert main(["notify", "--test", "--to", "camat sukapura"]) == 0
    out = capsys.readouterr().out
    assert "email" in out and "r***@…" in out and OFFICER_EMAIL not in out
    assert [m["to"] for m in servers["smtp"].messages] == [[OFFICER_EMAIL]]
    assert "Pesan uji" in servers["smtp"].messages[0]["text"]
    assert len(servers["http"].requests) == 2                                     # Telegram and the webhook
    assert main(["notify", "--test", "--to", "Camat Tanpa Kontak"]) == 2          # one-line reason
    assert "no contact" in capsys.readouterr().err
    assert Ledger.in_folder(servers["settings"].local_dir).rows() == []           # a test is not recorded
    publish_fkdm(servers["wh"], "2025-11", [red("R-1")])
    servers["http"].down = True
    _notify(servers, _red_alerts(servers, "2025-11"))
    assert main(["alerts", "--period", "2025-11"]) == 0
    captured = capsys.readouterr()
    assert "red_report:R-1:merah1" in captured.out and "7***" in captured.out and OFFICER_CHAT not in captured.out
    assert "1 sent" in captured.err and "3 pending" in captured.err
    assert "alerts dated from 2025-01-01 are sent (HARMONI_ALERT_SINCE)" in captured.err
    assert main(["alerts", "--period", "2025-10"]) == 0 and "no notifications" in capsys.readouterr().out


def test_the_retry_sensor_requests_notify_pending_which_sends_what_is_due(servers):
    import dagster as dg

    from harmoni_pipeline.definitions import build_defs
    from harmoni_pipeline.defs.resources import HarmoniResource

    defs = build_defs({"harmoni": HarmoniResource()})
    defs.get_repository_def()
    sensor = defs.resolve_sensor_def("harmoni_notify_retry_sensor")

    def tick(instance):
        with dg.build_sensor_context(instance=instance, repository_def=defs.get_repository_def(),
                                     resources={"harmoni": HarmoniResource()}) as context:
            return sensor.evaluate_tick(context)

    with dg.instance_for_test() as instance:
        assert not tick(instance).run_requests                                   # nothing due
        publish_fkdm(servers["wh"], "2025-11", [red("R-1")])
        service.notify(_red_alerts(servers, "2025-11"), settings=servers["settings"], warehouse=servers["wh"],
                       deliver_now=False)
        [request] = tick(instance).run_requests
        assert request.job_name in (None, "notify_pending")
        result = defs.resolve_job_def("notify_pending").execute_in_process(instance=instance)
        assert result.success
        assert len(servers["smtp"].messages) == 1 and len(servers["http"].requests) == 3
        assert {r["status"] for r in _audit(servers, "2025-11")} == {"sent"}
        assert not tick(instance).run_requests


def test_a_landing_zone_at_a_url_routes_red_reports_by_its_assignment_table(servers):
    """HARMONI_LANDING_DIR=s3://… (here fsspec's in-process ``memory://``): the assignment
    table is read from this machine's copy of the landing zone, not from a path made of the
    URL (which does not exist, so every alert went to the fallback contact)."""
    import dataclasses
    import uuid

    import fsspec

    url = f"memory://harmoni-landing-{uuid.uuid4().hex[:8]}/landing"
    fs = fsspec.filesystem("memory")
    local = servers["landing"] / "reference" / "penanggung_jawab.csv"
    fs.pipe(f"{url.split('://', 1)[1]}/reference/penanggung_jawab.csv", local.read_bytes())
    publish_fkdm(servers["wh"], "2025-11", [red("R-1"), red("R-6", kec="35.13.99")])
    at_url = {**servers, "settings": dataclasses.replace(servers["settings"], landing_dir=url)}
    positions = {a.key: a.position for a in _red_alerts(at_url, "2025-11")}
    assert positions == {"red_report:R-1:merah1": "Camat Sukapura", "red_report:R-6:merah1": None}
