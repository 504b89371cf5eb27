"""Issue 16's "done when" under a real ``dagster-daemon`` (the repo's ``dagster.yaml`` on
the local PostgreSQL): an FKDM file with a merah report dropped into the landing zone
while the daemon runs reaches the kecamatan's officer as one e-mail on a local SMTP
server, by the landing sensor's staging run; the same bytes dropped again send nothing
new."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest

from harmoni_pipeline.notify.ledger import Ledger
from tests.notify_servers import http_server, smtp_server
from tests.test_deployment import _runs, _wait, deployment  # noqa: F401 — the fixture

OFFICER = "camat.sukapura.daemon@kab-probolinggo.example"
REPORT = ("no_laporan,tgl_lapor,tgl_kejadian,kode_desa,bidang,jenis_athg,kualifikasi,status,ringkasan,pelapor_nama\n"
          "FKDM/DAEMON/0001,2025-12-20,2025-12-19,35.13.01.2001,sara,G,merah1,baru,teks bebas,Nama Pelapor\n")


@pytest.fixture
def mail(tmp_path, monkeypatch):
    """A local SMTP server and the notification settings, in the environment the
    ``deployment`` fixture hands to the daemon (request this fixture first)."""
    contacts = tmp_path / "secret_contacts.csv"
    contacts.write_text(f"penanggung_jawab,email,telegram_chat_id,webhook_url\nCamat Sukapura,{OFFICER},,\n")
    with smtp_server() as smtp, http_server() as http:
        for name, value in {"HARMONI_CONTACTS_FILE": str(contacts), "HARMONI_SMTP_HOST": "127.0.0.1",
                            "HARMONI_SMTP_PORT": str(smtp.port), "HARMONI_ALERT_SINCE": "2025-01-01",
                            "HARMONI_ALERT_WEBHOOK": http.url + "/office"}.items():
            monkeypatch.setenv(name, value)
        yield smtp


@pytest.mark.postgres
def test_a_red_report_dropped_while_the_daemon_runs_is_mailed_once(mail, deployment):
    instance, env, logs = deployment["instance"], deployment["env"], deployment["logs"]
    _wait("the daemon's heartbeat", lambda: "SENSOR" in instance.get_daemon_heartbeats(), 120, logs)
    landing = Path(env["HARMONI_LANDING_DIR"])
    (landing / "reference").mkdir()
    (landing / "reference" / "penanggung_jawab.csv").write_text("kode_kecamatan,penanggung_jawab\n35.13.01,Camat Sukapura\n")
    dropped = landing / "fkdm" / "2025-12" / "laporan.csv"
    dropped.parent.mkdir(parents=True)
    dropped.write_text(REPORT)

    mails = _wait("the officer's e-mail", lambda: list(mail.messages), 300, logs)
    assert [m["to"] for m in mails] == [[OFFICER]] and "MERAH 1" in mails[0]["subject"]
    [run] = _runs(instance, **{"harmoni/trigger": "landing"})
    assert run.job_name == "ingest_monthly"                       # no scoring was needed
    _wait("the run's end", lambda: instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.SUCCESS, 120, logs)

    # the same bytes again under another name: a staging run, no new message
    shutil.copy(dropped, dropped.with_name("laporan_lagi.csv"))
    _wait("the second staging run", lambda: len([r for r in _runs(instance, **{"harmoni/trigger": "landing"})
                                                 if r.status == dg.DagsterRunStatus.SUCCESS]) == 2, 300, logs)
    assert len(mail.messages) == 1
    rows = Ledger.in_folder(Path(env["HARMONI_WAREHOUSE_DIR"])).rows()
    assert sorted((r["channel"], r["status"]) for r in rows) == [("email", "sent"), ("webhook", "sent")]
