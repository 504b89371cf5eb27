"""The monthly schedule's partition, and the run-failure alert: recorded on disk and
POSTed (Slack-compatible JSON) to a real local HTTP server."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from harmoni_pipeline.periods import month_of, previous_month
from harmoni_pipeline.definitions import build_defs, defs
from harmoni_pipeline.defs.resources import HarmoniResource

JAKARTA = ZoneInfo("Asia/Jakarta")


@pytest.mark.parametrize(
    ("moment", "period"),
    [
        (dt.datetime(2026, 1, 5, 2, 0, tzinfo=JAKARTA), "2025-12"),
        (dt.datetime(2026, 3, 5, 2, 0, tzinfo=JAKARTA), "2026-02"),
        (dt.datetime(2025, 7, 5, 2, 0, tzinfo=JAKARTA), "2025-06"),
    ],
)
def test_the_monthly_schedule_runs_the_previous_month(moment, period):
    schedule = defs.resolve_schedule_def("harmoni_monthly_schedule")
    repository = defs.get_repository_def()  # outside any test instance (Dagster caches its load context)
    assert schedule.cron_schedule == "0 2 5 * *" and schedule.execution_timezone == "Asia/Jakarta"
    assert schedule.job_name == "harmoni_monthly"
    with dg.instance_for_test() as instance:
        with dg.build_schedule_context(
            instance=instance, scheduled_execution_time=moment, repository_def=repository
        ) as context:
            requests = schedule.evaluate_tick(context).run_requests
    assert [r.partition_key for r in requests] == [period]
    assert previous_month(month_of(moment)) == period


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append((self.headers["Content-Type"], json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Hook.received.clear()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Hook.received
    server.shutdown()


def test_a_failed_run_is_recorded_and_posted_to_the_webhook(env, webhook, monkeypatch):
    url, received = webhook
    monkeypatch.setenv("HARMONI_ALERT_WEBHOOK", url)
    broken = env["landing"] / "survey" / "2025-10" / "broken.csv"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"\x00\x01garbage\xff" * 40)
    local = build_defs({"harmoni": HarmoniResource()})
    sensor = local.resolve_sensor_def("harmoni_run_failure_alert")  # resolved outside the test instance
    with dg.instance_for_test() as instance:
        result = local.resolve_job_def("ingest_monthly").execute_in_process(
            partition_key="2025-10", instance=instance, raise_on_error=False
        )
        assert not result.success
        run = instance.get_run_by_id(result.run_id)
        failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
        with dg.build_run_status_sensor_context(
            sensor_name="harmoni_run_failure_alert", dagster_instance=instance, dagster_run=run, dagster_event=failure,
            resources={"harmoni": HarmoniResource()},
        ) as status_context:
            sensor(status_context.for_run_failure())
    assert len(received) == 1
    content_type, payload = received[0]
    assert content_type == "application/json"
    assert "ingest_monthly 2025-10 failed" in payload["text"] and "broken.csv" in payload["text"]
    assert payload["alert"]["run_id"] == result.run_id
    log = (env["warehouse"] / "alerts" / "alerts.jsonl").read_text().splitlines()
    assert json.loads(log[-1])["partition"] == "2025-10"


@pytest.mark.parametrize(
    ("now", "period"),
    [
        (dt.datetime(2025, 6, 9, 23, 59, tzinfo=JAKARTA), "2025-04"),  # May not yet due
        (dt.datetime(2025, 6, 10, 0, 0, tzinfo=JAKARTA), "2025-05"),
        (dt.datetime(2025, 6, 9, 17, 30, tzinfo=dt.timezone.utc), "2025-05"),  # 00:30 on the 10th in Jakarta
        (dt.datetime(2026, 1, 10, 8, 0, tzinfo=JAKARTA), "2025-12"),
        (dt.datetime(2026, 1, 3, 8, 0, tzinfo=JAKARTA), "2025-11"),
    ],
)
def test_the_previous_month_is_due_by_the_tenth(now, period):
    from harmoni_pipeline.freshness import due_period

    assert due_period(now) == period


def _publish_empty(warehouse_dir, table, period):
    from harmoni_pipeline.registry import catalog_tables
    from harmoni_pipeline.warehouse import Warehouse

    tables = catalog_tables()
    Warehouse(warehouse_dir, tables).write_partition(table, period, tables[table].empty_table())


def test_freshness_alerts_once_per_overdue_month_naming_the_unpublished_marts(env, settings, webhook, monkeypatch):
    from harmoni_pipeline.defs.sensors import freshness_alerts

    url, received = webhook
    monkeypatch.setenv("HARMONI_ALERT_WEBHOOK", url)
    now = dt.datetime(2025, 6, 12, 9, 0, tzinfo=JAKARTA)
    _publish_empty(env["warehouse"], "marts.ihai_kecamatan", "2025-05")
    _publish_empty(env["warehouse"], "marts.ikn_kecamatan", "2025-05")
    _publish_empty(env["warehouse"], "marts.harmoni_kewaspadaan", "2025-04")  # an older month does not count

    result, alert = freshness_alerts(settings, now, last_alerted=None)
    assert result.period == "2025-05" and result.missing == ("marts.harmoni_kewaspadaan",)
    assert alert is not None and "2025-05" in alert.text and "2025-06-10" in alert.text
    assert len(received) == 1 and "marts.harmoni_kewaspadaan" in received[0][1]["text"]
    assert freshness_alerts(settings, now, last_alerted="2025-05")[1] is None  # once per month
    assert len(received) == 1

    _publish_empty(env["warehouse"], "marts.harmoni_kewaspadaan", "2025-05")
    result, alert = freshness_alerts(settings, now, last_alerted=None)
    assert not result.overdue and alert is None
    log = [json.loads(line) for line in (env["warehouse"] / "alerts" / "alerts.jsonl").read_text().splitlines()]
    assert [(a["kind"], a["partition"]) for a in log] == [("overdue", "2025-05")]


def test_the_freshness_sensor_alerts_then_remembers_the_month(env):
    from harmoni_pipeline.freshness import due_period

    sensor = defs.resolve_sensor_def("harmoni_freshness_sensor")
    with dg.instance_for_test() as instance, dg.build_sensor_context(instance=instance, resources={"harmoni": HarmoniResource()}) as context:
        first = sensor(context)
        assert isinstance(first, dg.SkipReason) and "alerted" in first.skip_message
        assert context.cursor == due_period(dt.datetime.now(dt.timezone.utc))
        again = sensor(context)
        assert "alerted" not in again.skip_message
    log = (env["warehouse"] / "alerts" / "alerts.jsonl").read_text().splitlines()
    assert len(log) == 1 and json.loads(log[0])["kind"] == "overdue"
