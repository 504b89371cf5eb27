"""Alerts: what a failed run tells the team, recorded on disk and optionally posted.

Room: building the alert message (a failed run, or a month's marts overdue), appending it to the warehouse's alert log
(``<warehouse>/alerts/alerts.jsonl``) and POSTing it as JSON with a Slack-compatible
``text`` field to ``HARMONI_ALERT_WEBHOOK`` when that is set. No Dagster here; the
run-failure sensor calls it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from harmoni_pipeline.storage import local_dir_for

WEBHOOK_ENV = "HARMONI_ALERT_WEBHOOK"
TIMEOUT_SECONDS = 10


@dataclass
class Alert:
    run_id: str
    job: str
    partition: str | None
    reason: str
    raised_at: str
    dagster_url: str | None = None
    kind: str = "run_failure"  # or "overdue": a month's marts not published by their due date

    @property
    def text(self) -> str:
        if self.kind == "overdue":
            return f":hourglass: harmoni: {self.partition} overdue: {self.reason}"
        where = f"{self.job}" + (f" {self.partition}" if self.partition else "")
        link = f" — {self.dagster_url}" if self.dagster_url else ""
        return f":rotating_light: harmoni: {where} failed (run {self.run_id[:8]}): {self.reason}{link}"


def make_alert(run_id: str, job: str, partition: str | None, reason: str, dagster_url: str | None = None,
               kind: str = "run_failure") -> Alert:
    first_line = (reason or "run failed").strip().splitlines()[0][:500]
    return Alert(run_id, job, partition, first_line, dt.datetime.now(dt.timezone.utc).isoformat(), dagster_url, kind)


def record_alert(alert: Alert, warehouse_dir: Path | str) -> Path:
    """Append the alert to ``alerts/alerts.jsonl`` (one JSON object per line) in the
    local folder of ``warehouse_dir`` — the warehouse folder itself unless
    ``HARMONI_LOCAL_DIR`` is set or the warehouse is a URL (:func:`local_dir_for`)."""
    path = local_dir_for(warehouse_dir) / "alerts" / "alerts.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.write(json.dumps(asdict(alert), ensure_ascii=False) + "\n")
    return path


def post_alert(alert: Alert, url: str | None = None) -> int | None:
    """POST ``{"text": …, "alert": {…}}`` to the webhook; returns the HTTP status (None
    when no webhook is configured). Network errors propagate to the caller."""
    url = url or os.environ.get(WEBHOOK_ENV)
    if not url:
        return None
    body = json.dumps({"text": alert.text, "alert": asdict(alert)}, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        return response.status
