"""Sensors of the code location: the landing-zone and refresh sensors, the alert on
failure and the freshness alert. Each takes its settings from the ``harmoni`` resource.

Room: Dagster declarations; messages and delivery are :mod:`harmoni_pipeline.alerts`',
what changed in the landing zone :mod:`harmoni_pipeline.landing_watch`'s, what is due
:mod:`harmoni_pipeline.freshness`'.
"""

from __future__ import annotations

import os

import dagster as dg

from harmoni_pipeline import registry
from harmoni_pipeline.alerts import make_alert, post_alert, record_alert
from harmoni_pipeline.registry import SCORE_MONTHLY
from harmoni_pipeline.defs.resources import HarmoniResource


@dg.run_failure_sensor(
    name="harmoni_run_failure_alert",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records every failed run in alerts/alerts.jsonl (in the warehouse folder, or HARMONI_LOCAL_DIR) and POSTs it to HARMONI_ALERT_WEBHOOK.",
    monitor_all_code_locations=False,
)
def run_failure_alert(context: dg.RunFailureSensorContext, harmoni: HarmoniResource):
    from harmoni_pipeline.run_outcome import run_failure_reason

    run = context.dagster_run
    run_level = context.failure_event.message if context.failure_event else None
    reason = run_failure_reason(context.instance, run.run_id, default=run_level or "run failed")
    alert = make_alert(run.run_id, run.job_name, run.tags.get("dagster/partition"), reason)
    path = record_alert(alert, harmoni.settings().warehouse_dir)
    context.log.info(f"alert recorded in {path}")
    try:
        status = post_alert(alert)
    except OSError as exc:  # the alert stays recorded; the webhook may be down
        context.log.warning(f"alert webhook failed: {exc}")
        return
    if status is not None:
        context.log.info(f"alert posted (HTTP {status})")


REFRESH_TAG = "harmoni/refresh"
RESCORE_TAG = "harmoni/rescore_from"
SCORED_ASSET = dg.AssetKey(registry.asset_path(registry.KEWASPADAAN))
KEY_ENTRY = "#pii_key_id"  # the landing sensor's cursor entry for the PII key's fingerprint (never a landing path)


def landing_sensor(jobs: list) -> dg.SensorDefinition:
    """The landing-zone sensor, requesting runs of ``jobs`` (staging and scoring)."""

    @dg.sensor(
        name="harmoni_landing_sensor",
        jobs=jobs,
        minimum_interval_seconds=int(os.environ.get("HARMONI_LANDING_SENSOR_SECONDS", "60")),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Watches the landing zone; for files new, changed or removed (by SHA-256) requests the staging "
        "runs of their partitions once, then (harmoni_refresh_sensor) re-scores every scored month from the first "
        "one affected. The cursor holds the last snapshot and survives restarts.",
    )
    def _sensor(context: dg.SensorEvaluationContext, harmoni: HarmoniResource):
        return landing_requests(context, harmoni.settings())

    return _sensor


def landing_requests(context: dg.SensorEvaluationContext, settings):
    import hashlib
    import json

    from harmoni_pipeline.ingest import landing_shape
    from harmoni_pipeline.ingest.landing import HashCache
    from harmoni_pipeline.ingest.runner import staging_is_current
    from harmoni_pipeline.landing_watch import changed_paths, plan, snapshot
    from harmoni_pipeline.periods import FIRST_MONTH

    warehouse = settings.warehouse()
    landing = settings.landing_root()  # a landing zone at a URL: this machine's copy, synced now
    listing = landing_shape.scan(landing)
    report_landing_issues(context.log, warehouse, listing.issues)
    cache = HashCache.in_folder(settings.local_dir)
    current = snapshot(listing, cache)
    cache.save()
    first_tick = not context.cursor  # a baseline: nothing to re-score for files seen before
    previous = json.loads(context.cursor) if context.cursor else {}
    # The cursor also holds the PII key's fingerprint: under another key every partition
    # is a candidate (those staged with the old key are not current and are re-staged).
    rekeyed = previous.pop(KEY_ENTRY, None) != settings.pii_key_id
    changed = changed_paths(previous, current)
    paths = sorted(set(previous) | set(current)) if rekeyed else changed
    if not paths:
        return dg.SkipReason("no landing file is new, changed or removed")
    refresh = plan(paths, FIRST_MONTH)
    # A partition already staged from exactly these files (a first tick after a manual
    # run, or a change already ingested) needs no run.
    refresh.staging = [
        (job, partition) for job, partition in refresh.staging
        if not all(staging_is_current(src, partition, landing=landing, warehouse=warehouse,
                                      pii_key_id=settings.pii_key_id) for src in registry.STAGING_JOBS[job])
    ]
    change = [settings.pii_key_id, sorted((p, current.get(p) or "") for p in paths)]
    refresh_id = hashlib.sha256(json.dumps(change).encode()).hexdigest()[:16]
    tags = {REFRESH_TAG: refresh_id, RESCORE_TAG: refresh.rescore_from or "", "harmoni/trigger": "landing"}
    requests = [
        dg.RunRequest(run_key=f"{refresh_id}:{job}:{partition}", job_name=job, partition_key=partition, tags=tags)
        for job, partition in refresh.staging
    ]
    context.update_cursor(json.dumps({**current, KEY_ENTRY: settings.pii_key_id}, sort_keys=True))
    observations = landing_observations(listing, previous, current, paths, landing=settings.landing_dir)
    if rekeyed and not first_tick:
        context.log.info(f"the PII key changed (now {settings.pii_key_id}): re-staging {len(requests)} partition(s)")
    else:
        context.log.info(f"{len(paths)} landing file(s) changed: {', '.join(paths[:5])}{' …' if len(paths) > 5 else ''}")
    if not requests and not first_tick and any(p.startswith("reference/") for p in changed):
        # only the assignment table changed: re-score directly
        scored = sorted(context.instance.get_materialized_partitions(SCORED_ASSET))
        requests = [
            dg.RunRequest(run_key=f"{refresh_id}:{SCORE_MONTHLY}:{p}", job_name=SCORE_MONTHLY, partition_key=p, tags=tags)
            for p in refresh.rescore(scored)
        ]
    return dg.SensorResult(run_requests=requests, asset_events=observations)


def landing_observations(listing, previous: dict, current: dict, paths: list[str], *,
                         landing) -> list[dg.AssetObservation]:
    """An observation of ``landing/<source>`` for every partition folder that ``paths``
    touched (every folder on the first tick): its files now, SHA-256, size, format;
    ``landing`` (the configured folder or URL) names where they are."""
    from harmoni_pipeline import trail

    out = []
    for source, period in sorted(trail.changed_partitions(paths)):
        files = []
        for f in listing.files.get((source, period), []):
            rel = f.relative_to(listing.root).as_posix()
            if rel in current:
                try:
                    size = f.stat().st_size
                except OSError:
                    continue
                files.append({"path": rel, "sha256": current[rel], "bytes": size,
                              "format": trail.format_by_extension(rel)})
        touched = [p for p in paths if trail.partition_of_path(p) == (source, period)]
        out.append(trail.landing_observation(
            source, period, files, folder_uri=trail.landing_uri(landing, f"{source}/{period}"),
            seen_by=trail.SEEN_BY_SENSOR, change=trail.change_summary(touched, previous, current)))
    return out


def report_landing_issues(log, warehouse, issues: list) -> None:
    """The landing sensor's word on the zone's shape: each issue not recorded before is
    recorded in ``audit.landing_issues`` and logged as a warning, known ones as one
    summary line. Never raises: a tick must go on to request the partitions' runs."""
    from harmoni_pipeline.ingest.landing_shape import record_issues

    if not issues:
        return
    try:
        new = record_issues(warehouse, issues, only_if_new=True)
    except Exception as exc:  # the warehouse may be unwritable: report, go on
        log.warning(f"landing issues not recorded in audit.landing_issues ({type(exc).__name__}: {exc})")
        new = issues
    for issue in new:
        log.warning(f"landing zone: {issue}")
    if len(issues) > len(new):
        log.warning(f"landing zone: {len(issues) - len(new)} known issue(s), not read (audit.landing_issues, harmoni status)")


def rescore_requests(instance, run) -> list:
    """When every staging run of a landing refresh has succeeded, the score runs of every
    already-scored month from the first affected one (each month once: run keys)."""
    from harmoni_pipeline.landing_watch import RefreshPlan

    refresh_id = run.tags.get(REFRESH_TAG)
    if not refresh_id:
        return []
    runs = instance.get_runs(filters=dg.RunsFilter(tags={REFRESH_TAG: refresh_id}))
    staging = [r for r in runs if r.job_name in registry.STAGING_JOBS]
    if not staging or any(r.status != dg.DagsterRunStatus.SUCCESS for r in staging):
        return []  # others still running (a later success re-evaluates), or one failed (alerted)
    scored = sorted(instance.get_materialized_partitions(SCORED_ASSET))
    plan = RefreshPlan(rescore_from=run.tags.get(RESCORE_TAG) or None)
    tags = {REFRESH_TAG: refresh_id, "harmoni/trigger": "landing"}
    return [
        dg.RunRequest(run_key=f"{refresh_id}:{SCORE_MONTHLY}:{p}", job_name=SCORE_MONTHLY, partition_key=p, tags=tags)
        for p in plan.rescore(scored)
    ]


def refresh_sensor(score_job, staging_jobs: list) -> dg.SensorDefinition:
    @dg.run_status_sensor(
        name="harmoni_refresh_sensor",
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=staging_jobs,
        request_job=score_job,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="After the last staging run of a landing refresh succeeds, re-scores the months it affects.",
    )
    def _sensor(context: dg.RunStatusSensorContext):
        requests = rescore_requests(context.instance, context.dagster_run)
        return requests or dg.SkipReason("nothing to re-score (not a landing refresh, or its staging runs are not all done)")

    return _sensor


def freshness_alerts(settings, now, last_alerted: str | None):
    """The freshness alert due at ``now`` (once per month: not if ``last_alerted`` is that
    month), recorded and posted; returns ``(period checked, alert or None)``."""
    from harmoni_pipeline import freshness

    result = freshness.check(settings.warehouse(), now)
    if not result.overdue or result.period == last_alerted:
        return result, None
    alert = make_alert("-", "freshness", result.period, result.reason, kind="overdue")
    record_alert(alert, settings.warehouse_dir)
    try:
        post_alert(alert)
    except OSError:  # recorded; the webhook may be down
        pass
    return result, alert


@dg.sensor(
    name="harmoni_freshness_sensor",
    minimum_interval_seconds=3600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="The previous month's marts are due by the 10th (Asia/Jakarta): from then on, if a due mart has no "
    "published partition for that month, records an alert and POSTs it to HARMONI_ALERT_WEBHOOK, once per month.",
)
def freshness_sensor(context: dg.SensorEvaluationContext, harmoni: HarmoniResource):
    import datetime as dt

    result, alert = freshness_alerts(harmoni.settings(), dt.datetime.now(dt.timezone.utc), context.cursor)
    if alert is None:
        return dg.SkipReason(result.reason if result.overdue else f"marts of {result.period} are published")
    context.update_cursor(result.period)
    context.log.warning(alert.text)
    return dg.SkipReason(f"alerted: {result.reason}")


def notify_retry_seconds() -> int:
    return max(int(os.environ.get("HARMONI_NOTIFY_RETRY_SECONDS", "120")), 1)


def notify_retry_sensor(job) -> dg.SensorDefinition:
    """When notifications are due, requests a run of ``job`` (``notify_pending``)."""

    @dg.sensor(
        name="harmoni_notify_retry_sensor",
        job=job,
        minimum_interval_seconds=notify_retry_seconds(),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="When notifications are due (a failed send's backoff elapsed, or a sender died mid-send), "
        "requests a notify_pending run.",
    )
    def _sensor(context: dg.SensorEvaluationContext, harmoni: HarmoniResource):
        return notify_retry_requests(harmoni.settings())

    return _sensor


def notify_retry_requests(settings):
    import time

    from harmoni_pipeline.notify import service

    if not service.due_count(settings):
        return dg.SkipReason("no notification is due")
    bucket = int(time.time() // notify_retry_seconds())
    return dg.RunRequest(run_key=f"notify-{bucket}", tags={"harmoni/trigger": "notify_retry"})
