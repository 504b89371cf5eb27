"""Once, under crashes and concurrency: a sender killed with SIGKILL while a message is
in flight, then a rerun; two senders on the same backlog at once. Real processes, a
real SMTP server and a real HTTP server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from harmoni_pipeline.notify import service
from harmoni_pipeline.notify.ledger import Ledger
from harmoni_pipeline.settings import Settings
from tests.notify_helpers import notify_env, publish_fkdm, red, warehouse
from tests.notify_servers import http_server, smtp_server

ROOT = Path(__file__).resolve().parents[1]
SENDER = ("from harmoni_pipeline.notify import service; from harmoni_pipeline.settings import Settings; "
          "from tests.notify_helpers import warehouse; s = Settings.from_env(); "
          "print(service.deliver_pending(settings=s, warehouse=warehouse(s.warehouse_dir)).summary())")


def _backlog(env, monkeypatch, smtp, http, reports: int) -> tuple[Settings, Ledger]:
    notify_env(monkeypatch, env["tmp"], smtp.port, http.url)
    (env["landing"] / "reference").mkdir()
    (env["landing"] / "reference" / "penanggung_jawab.csv").write_text(
        "kode_kecamatan,penanggung_jawab\n35.13.01,Camat Sukapura\n", encoding="utf-8")
    settings = Settings.from_env()
    wh = warehouse(env["warehouse"])
    publish_fkdm(wh, "2025-11", [red(f"R-{i:02d}") for i in range(reports)])
    alerts = service.red_report_alerts(settings, wh, "2025-11")
    outcome = service.notify(alerts, settings=settings, warehouse=wh, deliver_now=False)
    assert len(outcome.new) == reports
    return settings, Ledger.in_folder(settings.local_dir)


def _sender() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SENDER], cwd=ROOT, env=dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_sender_killed_mid_send_then_rerun_delivers_every_message_once(env, monkeypatch):
    with smtp_server() as smtp, http_server() as http:
        settings, ledger = _backlog(env, monkeypatch, smtp, http, reports=5)   # 5 × (email, telegram, 2 webhooks)
        http.hold_at = 6                    # the 6th HTTP request is in flight when the sender dies
        sender = _sender()
        assert http.received.wait(60), sender.communicate()
        sender.send_signal(signal.SIGKILL)
        sender.wait(30)
        http.release.set()
        states = Counter(r["status"] for r in ledger.rows())
        assert states["sending"] == 1 and states["sent"] >= 5                # the one in flight, and those before it
        in_flight = next(r["idempotency_key"] for r in ledger.rows() if r["status"] == "sending")

        rerun = _sender()
        out, err = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, err[-2000:]
        rows = ledger.rows()
        assert len(rows) == 20 and {r["status"] for r in rows} == {"sent"}
        by_prefix = {r["idempotency_key"][:12]: r["idempotency_key"] for r in rows}

        def key_of(request):  # webhooks carry the key as a field, Telegram at the end of the text
            return request["body"].get("idempotency_key") or by_prefix[request["body"]["text"].rsplit("#", 1)[1]]

        received = Counter(m["key"] for m in smtp.messages) + Counter(key_of(r) for r in http.requests)
        # every message reached its server: by idempotency key, each exactly once
        assert set(received) == {r["idempotency_key"] for r in rows}
        # raw receipts: the one repeat is the message in flight at the kill, re-sent with the same key
        assert {k: n for k, n in received.items() if n > 1} == {in_flight: 2}
        assert sum(received.values()) == 21

def test_two_senders_at_once_never_send_a_message_twice(env, monkeypatch):
    with smtp_server() as smtp, http_server() as http:
        settings, ledger = _backlog(env, monkeypatch, smtp, http, reports=6)
        senders = [_sender(), _sender()]
        for p in senders:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err[-2000:]
        rows = ledger.rows()
        assert len(rows) == 24 and {r["status"] for r in rows} == {"sent"}
        assert len(smtp.messages) == 6 and len({m["key"] for m in smtp.messages}) == 6
        assert len(http.requests) == 18
        assert all(r["attempts"] == 1 for r in rows)
